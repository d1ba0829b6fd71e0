"""Prism validates every request the Conductor adapter sends against the published schema."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from loom.runtime.worker import ActivateRequest, Job
from loom.runtime.worker.conductor import ConductorAdapter
from tests.e2e.prism import PRISM_BIN, PrismVerdict, prism_server, verdict
from tests.runtime.worker.schemas import CONDUCTOR_API

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not PRISM_BIN.exists(), reason="Prism is installed by `npm ci`"),
]


def json_responses(tmp_path: Path) -> Path:
    """The fixture with the poll's ``*/*`` response declared as an empty JSON array.

    Prism cannot answer a ``*/*`` response with JSON (406 for ``Accept: application/json``, 500
    "cannot serialise complex objects as text" for ``*/*``), and the ``Task`` it makes up breaks
    the schema's own ``required`` lists; real Conductor answers JSON, and the shape of tasks is
    checked against the unchanged schema in test_conductor_worker.py. The requests, which this
    test is about, are validated the same either way.
    """
    doc = json.loads(CONDUCTOR_API.read_text(encoding="utf-8"))
    ok = doc["paths"]["/api/tasks/poll/batch/{tasktype}"]["get"]["responses"]["200"]
    ok["content"] = {"application/json": {"schema": {"type": "array", "maxItems": 0}}}
    path = tmp_path / "conductor-tasks-api.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


async def test_prism_accepts_every_request_of_the_conductor_adapter(tmp_path: Path) -> None:
    verdicts: list[tuple[str, PrismVerdict]] = []

    async def record(response: httpx.Response) -> None:
        body = await response.aread()
        line = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
        verdicts.append((line, verdict(response.status_code, response.headers, body)))

    with prism_server(json_responses(tmp_path), tmp_path / "prism.log") as prism:
        prism.wait_until_listening()
        async with httpx.AsyncClient(
            headers={"X-Authorization": "token"}, event_hooks={"response": [record]}
        ) as http:
            adapter = ConductorAdapter(f"{prism.base_url}/api", client=http, domain="blue")
            polled = await adapter.activate(
                ActivateRequest(
                    "shape",
                    max_jobs=4,
                    lease_seconds=30,
                    worker_name="w1",
                    request_timeout_seconds=0.1,
                )
            )
            job = Job(
                key="task-1",
                type="shape",
                variables={},
                retries=2,
                raw={"workflowInstanceId": "wf-1"},
            )
            await adapter.heartbeat(job, lease_seconds=30)
            await adapter.complete(job, {"out": [1, 2]})
            await adapter.fail(job, message="boom", retries=1, retry_backoff_seconds=1)
            await adapter.fail(job, message="final", retries=0, retry_backoff_seconds=0)
            await adapter.fail(job, message="shutdown", retries=2, retry_backoff_seconds=1)
            await adapter.throw_error(job, code="E1", message="nope", variables={"v": 1})
    assert len(verdicts) == 7, verdicts
    rejected = [(line, v.reasons) for line, v in verdicts if v.rejected]
    assert rejected == []
    assert list(polled) == []
