"""``make demo`` (engine part): a small but real pipeline on the embedded SQLite default.

It starts the engine in-process on a SQLite file under ``build/``, stores a pipeline with
parameters, parallel steps, conditions, templates, a retried HTTP call (to a loopback server
that fails its first request on purpose) and outputs, runs it, prints each event as it
happens and ends with a one-line summary.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DEMO_DB = Path("build") / "demo" / "loom-engine.db"


class _RatesHandler(BaseHTTPRequestHandler):
    """Answers 503 to the first request and exchange rates afterwards."""

    calls = 0

    def do_GET(self) -> None:
        type(self).calls += 1
        if type(self).calls == 1:
            self.send_response(503)
            self.end_headers()
            return
        body = json.dumps({"EUR": 0.92, "GBP": 0.79}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # stdlib signature
        return


def demo_pipeline(rates_url: str) -> dict[str, Any]:
    """The demo pipeline: fetch rates (retried) ‖ total ‖ count → big/small → report."""
    return {
        "name": "order-report",
        "description": "totals a batch of orders and converts it with live rates",
        "parameters": [
            {"name": "orders", "type": "array", "default": [120, 80, 45.5, 300]},
            {"name": "threshold", "type": "number", "default": 400},
            {"name": "api_token", "type": "string", "default": "demo-token-123"},
        ],
        "settings": {"max_parallel_steps": 3, "timeout_seconds": 60},
        "steps": [
            {
                "id": "fetch_rates",
                "action": "http_request",
                "params": {
                    "url": rates_url,
                    "headers": {"authorization": "{{ params.api_token }}"},
                    "timeout_seconds": 5,
                },
                "retry": {"max_attempts": 3, "backoff_seconds": 0.2},
                "weight": 2,
            },
            {
                "id": "total",
                "action": "aggregate",
                "params": {"inputs": "{{ params.orders }}", "operation": "sum"},
            },
            {
                "id": "count",
                "action": "aggregate",
                "params": {"inputs": "{{ params.orders }}", "operation": "count"},
            },
            {
                "id": "big_batch",
                "action": "log",
                "depends_on": ["total"],
                "condition": "{{ steps.total.outputs.result > params.threshold }}",
                "params": {"message": "big batch: {{ steps.total.outputs.result }}"},
            },
            {
                "id": "small_batch",
                "action": "log",
                "depends_on": ["total"],
                "condition": "{{ steps.total.outputs.result <= params.threshold }}",
                "params": {"message": "small batch: {{ steps.total.outputs.result }}"},
            },
            {
                "id": "report",
                "action": "set_output",
                "depends_on": ["fetch_rates", "total", "count"],
                "params": {
                    "values": {
                        "orders": "{{ steps.count.outputs.result }}",
                        "total_usd": "{{ steps.total.outputs.result }}",
                        "total_eur": "{{ (steps.total.outputs.result * "
                        "steps.fetch_rates.outputs.json.EUR) | round(2) }}",
                        "size": "{{ 'big' if steps.total.outputs.result > params.threshold "
                        "else 'small' }}",
                    }
                },
            },
        ],
        "outputs": {
            "summary": "{{ steps.report.outputs.orders }} orders, "
            "{{ steps.report.outputs.total_eur }} EUR ({{ steps.report.outputs.size }})",
            "total_eur": "{{ steps.report.outputs.total_eur }}",
        },
    }


async def _run(database: Path) -> int:
    import httpx

    from loom.engine.app import create_app
    from loom.engine.settings import EngineSettings

    server = ThreadingHTTPServer(("127.0.0.1", 0), _RatesHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rates_url = f"http://127.0.0.1:{server.server_address[1]}/rates"
    settings = EngineSettings(
        database_url=f"sqlite+aiosqlite:///{database}",
        allow_private_networks=True,  # the rates server is on loopback
        poll_interval_seconds=0.05,
    )
    app = create_app(settings)
    started = time.perf_counter()
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://engine") as api:
                print(f"engine: started on {database} in {time.perf_counter() - started:.2f} s")
                created = await api.post("/v1/pipelines", json=demo_pipeline(rates_url))
                if created.status_code != 201:
                    print(f"engine demo: the pipeline was refused: {created.text}")
                    return 1
                pipeline = created.json()
                print(f"engine: pipeline {pipeline['name']!r} stored as {pipeline['id']}")
                run = await api.post(
                    "/v1/executions",
                    json={"pipeline_id": pipeline["id"], "initiator": "make demo"},
                )
                execution = run.json()
                return await _follow(api, execution["id"], started)
    finally:
        server.shutdown()


async def _follow(api: Any, execution_id: str, started: float) -> int:
    steps = (await api.get(f"/v1/executions/{execution_id}/steps")).json()["items"]
    weights = {step["step_id"]: float(step["weight"]) for step in steps}
    total = sum(weights.values()) or 1.0
    done = 0.0
    seen = 0
    body: dict[str, Any] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = await api.get(f"/v1/executions/{execution_id}", params={"wait_seconds": 0.2})
        body = answer.json()
        events = (
            await api.get(f"/v1/executions/{execution_id}/events", params={"page_size": 500})
        ).json()["items"]
        for event in events[seen:]:
            if event["kind"] in {"step_completed", "step_skipped", "step_failed"}:
                done += weights.get(event["step_id"], 0.0)
            where = f"{event['step_id']}: " if event["step_id"] else ""
            print(f"  [{100.0 * done / total:5.1f}%] {where}{event['message']}")
        seen = len(events)
        if body["status"] in {"completed", "failed", "cancelled"}:
            break
    steps = (await api.get(f"/v1/executions/{execution_id}/steps")).json()["items"]
    counts: dict[str, int] = {}
    for step in steps:
        counts[step["status"]] = counts.get(step["status"], 0) + 1
    retried = sum(1 for step in steps if step["attempt"] > 1)
    state = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    elapsed = time.perf_counter() - started
    print(
        f"engine demo: execution {body.get('status')} in {elapsed:.2f} s: {len(steps)} steps "
        f"({state}; {retried} retried), outputs {json.dumps(body.get('outputs'))}"
    )
    return 0 if body.get("status") == "completed" else 1


def run_demo() -> int:
    """Run the engine demo; returns 0 when the execution completed."""
    DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DEMO_DB}{suffix}").unlink(missing_ok=True)
    try:
        return asyncio.run(_run(DEMO_DB.resolve()))
    except KeyboardInterrupt:
        return 130
