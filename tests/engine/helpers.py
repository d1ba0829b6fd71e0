"""Shared helpers of the engine tests: test actions, pipelines, waiting for a status."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from loom.engine.actions.base import (
    Action,
    ActionContext,
    ActionError,
    ActionRegistry,
    ActionResult,
)

TERMINAL = {"completed", "failed", "cancelled"}


class FlakyAction:
    """Fails ``failures`` times per (execution, step), then succeeds."""

    name = "flaky"
    description = "fails `failures` times, then succeeds"
    params_schema: dict[str, Any] = {
        "type": "object",
        "properties": {"failures": {"type": "integer", "minimum": 0}},
    }
    outputs_schema: dict[str, Any] = {"type": "object"}
    idempotent = True

    def __init__(self) -> None:
        self.calls: dict[tuple[str, str], int] = {}

    async def run(self, ctx: ActionContext) -> ActionResult:
        key = (ctx.execution_id, ctx.step_id)
        self.calls[key] = self.calls.get(key, 0) + 1
        if self.calls[key] <= int(ctx.params.get("failures", 1)):
            raise ActionError(f"flaky failure {self.calls[key]}")
        return ActionResult(outputs={"calls": self.calls[key]})


class SleepAction:
    """Sleeps for real (not durable), so a step can be caught running."""

    name = "sleep"
    description = "asyncio.sleep(seconds)"
    params_schema: dict[str, Any] = {
        "type": "object",
        "properties": {"seconds": {"type": "number", "minimum": 0}},
    }
    outputs_schema: dict[str, Any] = {"type": "object"}
    idempotent = True

    async def run(self, ctx: ActionContext) -> ActionResult:
        await asyncio.sleep(float(ctx.params.get("seconds", 1.0)))
        return ActionResult(outputs={"slept": True})


class ChargeAction(SleepAction):
    """A non-idempotent action (think: charge a card)."""

    name = "charge"
    description = "a non-idempotent sleep"
    idempotent = False


def test_registry() -> ActionRegistry:
    """Built-ins plus the test actions."""
    registry = ActionRegistry.default(entry_points=False)
    actions: list[Action] = [FlakyAction(), SleepAction(), ChargeAction()]
    for action in actions:
        registry.register(action)
    return registry


test_registry.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def diamond(name: str = "diamond", **settings: Any) -> dict[str, Any]:
    """The benchmark pipeline: a → b, c, d → e, with no-op steps."""
    return {
        "name": name,
        "settings": settings,
        "steps": [
            {"id": "a", "action": "set_output", "params": {"values": {"n": 1}}},
            {"id": "b", "action": "set_output", "depends_on": ["a"]},
            {"id": "c", "action": "set_output", "depends_on": ["a"]},
            {"id": "d", "action": "set_output", "depends_on": ["a"]},
            {"id": "e", "action": "set_output", "depends_on": ["b", "c", "d"]},
        ],
    }


async def wait_for(
    client: httpx.AsyncClient,
    execution_id: str,
    statuses: set[str] | None = None,
    *,
    timeout_seconds: float = 15.0,
) -> dict[str, Any]:
    """Poll an execution until its status is in ``statuses`` (terminal by default)."""
    wanted = statuses or TERMINAL
    deadline = time.monotonic() + timeout_seconds
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = await client.get(f"/v1/executions/{execution_id}")
        body = response.json()
        if body.get("status") in wanted:
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"execution {execution_id} stayed {body.get('status')}: {body}")


async def steps_by_id(client: httpx.AsyncClient, execution_id: str) -> dict[str, dict[str, Any]]:
    """The steps of an execution keyed by step id."""
    response = await client.get(f"/v1/executions/{execution_id}/steps")
    return {s["step_id"]: s for s in response.json()["items"]}


async def run_inline(
    client: httpx.AsyncClient, definition: dict[str, Any], **body: Any
) -> dict[str, Any]:
    """Start an inline execution and wait until it ends."""
    response = await client.post("/v1/executions", json={"definition": definition, **body})
    assert response.status_code == 201, response.text
    return await wait_for(client, response.json()["id"])
