"""Secrets and logs in every sink: API answers, log lines, events and error texts; GET, edit,
PUT keeps a secret; access lines and error lines carry the correlation id; /docs is offline."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path
from typing import Any

import httpx

from loom.engine.actions.base import ActionRegistry
from loom.engine.app import create_app
from loom.engine.logging import JsonFormatter

from .conftest import engine_settings
from .engine_process import EngineProcess
from .helpers import steps_by_id, wait_for
from .live import serve

SECRET = "s3cr3t-value-42"


def _secret_pipeline() -> dict[str, Any]:
    return {
        "name": "secrets",
        "parameters": [
            {"name": "api_token", "type": "string", "default": SECRET},
            {"name": "region", "type": "string", "default": "eu"},
        ],
        "steps": [
            {
                "id": "copy",
                "action": "set_output",
                "params": {
                    "values": {
                        "copied": "{{ params.api_token }}",
                        "n": "{{ params.api_token | length }}",
                    }
                },
            },
            {
                "id": "say",
                "action": "log",
                "params": {"message": {"token": "inline-token-value", "note": "hi"}},
            },
        ],
    }


async def test_get_edit_put_keeps_secrets_and_copies_are_masked(http: httpx.AsyncClient) -> None:
    created = await http.post("/v1/pipelines", json=_secret_pipeline())
    pid = created.json()["id"]
    shown = (await http.get(f"/v1/pipelines/{pid}")).json()
    assert shown["definition"]["parameters"][0]["default"] == "***"
    assert shown["definition"]["steps"][1]["params"]["message"]["token"] == "***"
    edited = shown["definition"]
    edited["description"] = "edited after a GET"
    edited["parameters"].reverse()  # matched by name, not position
    put = await http.put(f"/v1/pipelines/{pid}", json=edited)
    assert put.status_code == 200, put.text
    started = await http.post("/v1/executions", json={"pipeline_id": pid})
    execution = await wait_for(http, started.json()["id"])
    assert execution["status"] == "completed", execution
    assert execution["params"]["api_token"] == "***"
    steps = await steps_by_id(http, execution["id"])
    assert steps["copy"]["outputs"] == {"copied": "***", "n": len(SECRET)}  # the secret survived
    assert steps["say"]["outputs"]["message"]["token"] == "***"
    failing = {
        "name": "leak",
        "parameters": [{"name": "password", "type": "string"}],
        "steps": [
            {"id": "f", "action": "fail", "params": {"message": "denied for {{ params.password }}"}}
        ],
    }
    run = await http.post(
        "/v1/executions", json={"definition": failing, "params": {"password": SECRET}}
    )
    failed = await wait_for(http, run.json()["id"])
    assert SECRET not in json.dumps(failed)
    assert "denied for ***" in (failed["error"] or "")
    events = (await http.get(f"/v1/executions/{failed['id']}/events")).json()
    steps_text = (await http.get(f"/v1/executions/{failed['id']}/steps")).text
    assert SECRET not in json.dumps(events)
    assert SECRET not in steps_text


def test_log_lines_are_json_masked_and_carry_correlation_ids(tmp_path: Path) -> None:
    # Log lines do not depend on the database: one subprocess on SQLite.
    log_path = tmp_path / "engine.log"
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}"
    engine = EngineProcess(database_url, log_path, LOOM_LOG_LEVEL="INFO")
    try:
        definition = _secret_pipeline()
        response = httpx.post(
            f"{engine.url}/v1/executions?wait_seconds=10",
            json={"definition": definition, "params": {"api_token": SECRET}},
            headers={"x-correlation-id": "req-log-1"},
        )
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "completed"
        hostile = httpx.get(f"{engine.url}/healthz", headers={"x-correlation-id": "bad id\x01"})
        assert hostile.headers["x-correlation-id"] != "bad id\x01"
    finally:
        engine.stop()
    text = log_path.read_text()
    assert "\x1b[" not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert SECRET not in text
    assert "inline-token-value" not in text
    said = [e for e in lines if e["logger"] == "loom.engine.step.log"]
    assert said
    assert said[0]["correlation_id"] == "req-log-1"
    access = [e for e in lines if e["logger"] == "loom.engine.access"]
    create = [e for e in access if e.get("path") == "/v1/executions"]
    assert create
    assert create[0]["correlation_id"] == "req-log-1"
    assert create[0]["status"] == 201
    assert any(e.get("path") == "/healthz" for e in access)


async def test_error_log_of_a_failed_request_carries_its_correlation_id(
    database_url: str, registry: ActionRegistry
) -> None:
    app = create_app(engine_settings(database_url), registry=registry)

    async def boom() -> None:
        raise RuntimeError("engine bug")

    app.add_api_route("/boom", boom)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())  # formats as it is emitted, as loom serve's does
    handler.setLevel(logging.ERROR)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with serve(app) as url:
            async with httpx.AsyncClient(base_url=url) as http:
                response = await http.get("/boom", headers={"x-correlation-id": "req-err-7"})
    finally:
        root.removeHandler(handler)
    assert response.status_code == 500
    errors = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert errors
    assert all(e.get("correlation_id") == "req-err-7" for e in errors), errors


async def test_docs_and_options_work_without_a_network(http: httpx.AsyncClient) -> None:
    page = await http.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert sources
    for source in sources:
        assert source.startswith("/"), source  # nothing from another host
        assert (await http.get(source)).status_code == 200, source
    redoc = await http.get("/redoc")
    assert "https://" not in redoc.text.replace("https://github.com", "")
    options = await http.options("/v1/pipelines")
    assert options.status_code == 204
    assert set(options.headers["allow"].split(", ")) == {"GET", "OPTIONS", "POST"}
    item = await http.options("/v1/executions/00000000-0000-0000-0000-000000000000")
    assert set(item.headers["allow"].split(", ")) == {"GET", "OPTIONS"}
    assert (await http.options("/nowhere")).status_code == 404
