"""What steps produce is stored on both databases and read back; an outcome the database
refuses fails its step with a clear error instead of running it again after every lease."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from loom.engine.actions.base import ActionContext, ActionRegistry, ActionResult
from loom.engine.db.storable import storable_json, storable_text

from .helpers import run_inline, steps_by_id, test_registry

# The template `{{ '"\\u0000"' | fromjson }}`: the literal is the JSON text "\u0000".
NUL_FROM_JSON = "{{ '\"\\\\u0000\"' | fromjson }}"


class WhenAction:
    """Returns an output that is no JSON (a datetime): no database can store it."""

    name = "when"
    description = "outputs a datetime object"
    params_schema: dict[str, Any] = {"type": "object"}
    outputs_schema: dict[str, Any] = {"type": "object"}
    idempotent = True

    def __init__(self) -> None:
        self.calls = 0

    async def run(self, ctx: ActionContext) -> ActionResult:
        self.calls += 1
        return ActionResult(outputs={"at": datetime(2026, 1, 1, tzinfo=UTC)})


WHEN = WhenAction()


@pytest.fixture
def registry() -> ActionRegistry:
    registry = test_registry()
    registry.register(WHEN, replace=True)
    return registry


def test_storable_text_replaces_nul_and_lone_surrogates() -> None:
    assert storable_text("a\x00b\udfffc\u00e9") == "a\ufffdb\ufffdc\u00e9"
    assert storable_text("plain") == "plain"


def test_storable_json_replaces_lone_surrogates_in_strings_and_keys_and_keeps_nul() -> None:
    value = {"k\ud800": ["x\udfff", {"n": 1, "z": "a\x00"}], "f": 1.5, "none": None}
    assert storable_json(value) == {
        "k\ufffd": ["x\ufffd", {"n": 1, "z": "a\x00"}],
        "f": 1.5,
        "none": None,
    }


async def test_a_step_failing_with_a_nul_in_its_message_fails_once_and_reads_back(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "name": "nul",
        "steps": [{"id": "f", "action": "fail", "params": {"message": NUL_FROM_JSON}}],
    }
    done = await run_inline(client, definition)
    assert done["status"] == "failed"
    assert done["error"] == "step 'f' failed: \ufffd"
    step = (await steps_by_id(client, done["id"]))["f"]
    assert step["status"] == "failed"
    assert step["attempt"] == 1
    assert step["error"] == "\ufffd"
    events = await client.get(f"/v1/executions/{done['id']}/events")
    assert events.status_code == 200
    assert (await client.get("/v1/executions")).status_code == 200


async def test_outputs_with_nul_and_a_lone_surrogate_are_stored_and_read_back(
    client: httpx.AsyncClient,
) -> None:
    text = "{{ '\"a\\\\u0000b\\\\udfffc\"' | fromjson }}"
    definition = {
        "name": "odd-outputs",
        "steps": [{"id": "s", "action": "set_output", "params": {"values": {"v": text}}}],
        "outputs": {"v": "{{ steps.s.outputs.v }}"},
    }
    done = await run_inline(client, definition)
    assert done["status"] == "completed", done
    assert done["outputs"] == {"v": "a\x00b\ufffdc"}
    step = (await steps_by_id(client, done["id"]))["s"]
    assert step["outputs"] == {"v": "a\x00b\ufffdc"}
    listed = await client.get("/v1/executions")
    assert listed.status_code == 200
    assert listed.json()["items"][0]["outputs"] == {"v": "a\x00b\ufffdc"}


async def test_an_outcome_the_database_refuses_fails_the_step_instead_of_rerunning_it(
    client: httpx.AsyncClient,
) -> None:
    WHEN.calls = 0
    definition = {
        "name": "unstorable",
        "steps": [
            {"id": "w", "action": "when"},
            {"id": "after", "action": "set_output", "depends_on": ["w"]},
        ],
    }
    done = await run_inline(client, definition)
    assert done["status"] == "failed"
    steps = await steps_by_id(client, done["id"])
    assert steps["w"]["status"] == "failed"
    assert steps["w"]["attempt"] == 1
    assert "the step's outcome could not be stored" in steps["w"]["error"]
    assert steps["after"]["status"] == "skipped"
    await asyncio.sleep(0.3)  # several poll rounds: nothing runs it again
    assert WHEN.calls == 1
    again = (await client.get(f"/v1/executions/{done['id']}")).json()
    assert again["status"] == "failed"
