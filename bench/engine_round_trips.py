"""Round trips to PostgreSQL per execution of the diamond pipeline, for one or more checkouts.

    python -m bench.engine_round_trips [--executions N] [--against CHECKOUT]

Each checkout's engine runs in a child process, in-process behind the ASGI transport (no HTTP
sockets), on a fresh database; the child counts the writes to PostgreSQL's sockets
(``asyncio`` transports whose peer is port 5432): every round trip is one write (asyncpg sends
each request, ``BEGIN`` or a prepared statement's bind and execute, in one buffer) followed by
waiting for the answer. Counted after a warm-up (statements are prepared once per connection),
sequentially and 4 at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

from bench._common import command_line, stamp, write_section
from bench._engine_common import DIAMOND, ROOT, git_commit, reset_postgres

SECTION = "engine_round_trips"

_WRITES = {"n": 0}


def _count_writes() -> None:
    from asyncio import selector_events

    transport: Any = getattr(selector_events, "_SelectorSocketTransport")  # noqa: B009
    original: Any = transport.write

    def write(self: Any, data: Any) -> None:
        peer: Any = self.get_extra_info("peername")
        if isinstance(peer, tuple) and cast("tuple[Any, ...]", peer)[1:2] == (5432,):
            _WRITES["n"] += 1
        original(self, data)

    transport.write = write


async def _child(executions: int) -> dict[str, float]:
    import httpx

    from loom.engine.app import create_app
    from loom.engine.settings import EngineSettings

    url = await reset_postgres("loom_bench_round_trips")
    _count_writes()
    settings = EngineSettings(database_url=url, auto_migrate=True, poll_interval_seconds=0.2)
    app = create_app(settings)
    result: dict[str, float] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://engine") as client:
            pipeline = (await client.post("/v1/pipelines", json=DIAMOND)).json()["id"]

            async def one() -> None:
                answer = await client.post(
                    "/v1/executions",
                    params={"wait_seconds": 30},
                    json={"pipeline_id": pipeline},
                )
                assert answer.json()["status"] == "completed", answer.text

            for _ in range(20):
                await one()
            # What the engine sends while idle (claim polls, lease renewal, recovery and
            # time-out scans): subtracted at the same rate from the runs below.
            idle_started, before = time.perf_counter(), _WRITES["n"]
            await asyncio.sleep(5.0)
            idle_rate = (_WRITES["n"] - before) / (time.perf_counter() - idle_started)
            result["idle per second"] = idle_rate
            for label, concurrency in (("sequential", 1), ("4 at a time", 4)):
                todo = list(range(executions))

                async def worker(todo: list[int]) -> None:
                    while todo:
                        todo.pop()
                        await one()

                began, before = time.perf_counter(), _WRITES["n"]
                await asyncio.gather(*(worker(todo) for _ in range(concurrency)))
                background = idle_rate * (time.perf_counter() - began)
                result[label] = (_WRITES["n"] - before - background) / executions
    return result


def _run(checkout: Path, executions: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(checkout / "src"), str(ROOT)))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(
        [sys.executable, "-m", "bench.engine_round_trips", "--child", str(executions)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"{checkout}: {done.stderr.strip().splitlines()[-3:]}")
    return json.loads(line.removeprefix("RESULT "))


def main(argv: list[str] | None = None) -> int:
    """Count and write the section of ``docs/benchmarks.md``."""
    parser = argparse.ArgumentParser(prog="python -m bench.engine_round_trips", description=__doc__)
    parser.add_argument("--executions", type=int, default=300)
    parser.add_argument("--against", type=Path, action="append", default=[], metavar="CHECKOUT")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    if args.child:
        print("RESULT " + json.dumps(asyncio.run(_child(args.child))), flush=True)
        return 0
    rows: list[str] = []
    for checkout in (ROOT, *args.against):
        name = "this checkout" if checkout == ROOT else f"loom@{git_commit(checkout)}"
        print(f"[{name}] {args.executions} executions, sequential and 4 at a time", flush=True)
        counts = _run(checkout, args.executions)
        rows.append(
            f"| {name} | {counts['sequential']:.2f} | {counts['4 at a time']:.2f} | "
            f"{counts['idle per second']:.1f} |"
        )
        print(f"   {rows[-1]}", flush=True)
    body = "\n".join(
        [
            "## Engine round trips to PostgreSQL per execution (diamond, start and wait)",
            "",
            stamp(command_line("bench.engine_round_trips", argv)),
            "",
            "Writes to PostgreSQL's sockets per execution of the five-step diamond, after a "
            "warm-up (each is one round trip; `bench/engine_round_trips.py`). The engine runs "
            "in-process behind the ASGI transport; what it sends while idle (claim polls every "
            "0.2 s: `BEGIN`, the runnable-steps query, `COMMIT`; the maintenance round every "
            "second) is measured for 5 s and subtracted at that rate. The claims of root steps "
            "and successors ride on the create and on the commits.",
            "",
            "| engine | per execution, sequential | per execution, 4 at a time | idle, per s |",
            "|---|---:|---:|---:|",
            *rows,
        ]
    )
    if not args.no_write:
        write_section(SECTION, body)
    print("engine_round_trips: " + "; ".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
