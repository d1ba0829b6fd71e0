"""State that reads right: waiting steps, honest progress and ETA, attempt numbers across a
retry, cancelled waits."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from .helpers import run_inline, steps_by_id, wait_for


def step(step_id: str, action: str = "set_output", **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "action": action, **fields}


DELAYED = {
    "name": "delayed",
    "steps": [
        step("first"),
        step("wait", "delay", depends_on=["first"], params={"seconds": 30}),
        step("last", depends_on=["wait"]),
    ],
}


async def _until_waiting(client: httpx.AsyncClient, execution_id: str) -> dict[str, Any]:
    steps: dict[str, Any] = {}
    for _ in range(300):
        steps = await steps_by_id(client, execution_id)
        if steps["wait"]["status"] == "waiting":
            return steps
        await asyncio.sleep(0.02)
    raise AssertionError(f"the delay never showed as waiting: {steps}")


async def test_a_step_in_a_delay_reads_waiting_and_is_a_current_step_with_its_wait_as_eta(
    client: httpx.AsyncClient,
) -> None:
    started = (await client.post("/v1/executions", json={"definition": DELAYED})).json()
    steps = await _until_waiting(client, started["id"])
    assert steps["first"]["status"] == "completed"
    assert steps["last"]["status"] == "pending"
    progress = (await client.get(f"/v1/executions/{started['id']}/progress")).json()
    assert progress["status"] == "running"
    assert progress["current_steps"] == ["wait"]
    assert progress["percent"] < 50.0
    assert 25.0 <= progress["eta_seconds"] <= 31.0


async def test_a_cancelled_delay_reads_cancelled_and_the_steps_after_it_skipped(
    client: httpx.AsyncClient,
) -> None:
    started = (await client.post("/v1/executions", json={"definition": DELAYED})).json()
    await _until_waiting(client, started["id"])
    assert (await client.post(f"/v1/executions/{started['id']}/cancel")).status_code == 200
    steps = await steps_by_id(client, started["id"])
    assert steps["wait"]["status"] == "cancelled"
    assert steps["last"]["status"] == "skipped"
    assert steps["last"]["skip_reason"] == "cancelled"
    events = (await client.get(f"/v1/executions/{started['id']}/events")).json()["items"]
    assert {(e["step_id"], e["kind"]) for e in events} >= {
        ("wait", "step_cancelled"),
        ("last", "step_skipped"),
    }


async def test_a_failed_execution_does_not_read_100_percent(client: httpx.AsyncClient) -> None:
    definition = {
        "name": "half",
        "steps": [
            step("ok"),
            step("boom", "fail", depends_on=["ok"]),
            step("after", depends_on=["boom"]),
            step("more", depends_on=["after"]),
        ],
    }
    failed = await run_inline(client, definition)
    assert failed["status"] == "failed"
    assert failed["progress_percent"] == 25.0
    progress = (await client.get(f"/v1/executions/{failed['id']}/progress")).json()
    assert progress["percent"] == 25.0
    assert progress["eta_seconds"] == 0.0


async def test_attempts_keep_counting_after_a_retry_and_the_policy_starts_over(
    client: httpx.AsyncClient,
) -> None:
    retry = {"max_attempts": 2, "backoff_seconds": 0, "backoff_multiplier": 1}
    definition = {
        "name": "count-on",
        "steps": [step("f", "flaky", params={"failures": 3}, retry=retry)],
    }
    failed = await run_inline(client, definition)
    assert failed["status"] == "failed"
    assert (await steps_by_id(client, failed["id"]))["f"]["attempt"] == 2
    assert (await client.post(f"/v1/executions/{failed['id']}/retry")).status_code == 200
    done = await wait_for(client, failed["id"])
    assert done["status"] == "completed"  # attempt 3 failed, 4 succeeded: a fresh budget of 2
    f = (await steps_by_id(client, failed["id"]))["f"]
    assert f["attempt"] == 4
    assert f["outputs"] == {"calls": 4}
    events = (await client.get(f"/v1/executions/{failed['id']}/events")).json()["items"]
    started = [e["data"]["attempt"] for e in events if e["kind"] == "step_started"]
    assert started == [1, 2, 3, 4]
