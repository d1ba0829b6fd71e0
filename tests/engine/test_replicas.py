"""Several engine processes on one database: what one of them keeps in memory (the rows it
committed last, the current version of a pipeline) never wins over what another one wrote."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from loom.engine.actions.base import ActionRegistry
from loom.engine.api.deps import EngineRuntime
from loom.engine.app import create_app

from .conftest import engine_settings, pg_url, reset_pg_schema
from .helpers import steps_by_id, wait_for


@dataclass
class Replica:
    """One engine of several on a database: its HTTP client and its runtime."""

    client: httpx.AsyncClient
    runtime: EngineRuntime


@asynccontextmanager
async def _two_replicas(
    pg_database: str, registry: ActionRegistry, *, first_runs_steps: bool = True
) -> AsyncGenerator[tuple[Replica, Replica], None]:
    await reset_pg_schema(pg_database)
    url = pg_url(pg_database)
    async with AsyncExitStack() as stack:
        replicas: list[Replica] = []
        for index in range(2):
            settings = engine_settings(url, run_scheduler=first_runs_steps or index > 0)
            app = create_app(settings, registry=registry)
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url="http://engine")
            await stack.enter_async_context(client)
            replicas.append(Replica(client, app.state.runtime))
        yield replicas[0], replicas[1]


async def test_step_outcome_does_not_overwrite_a_cancel_made_by_another_replica(
    pg_database: str, registry: ActionRegistry
) -> None:
    definition: dict[str, Any] = {
        "name": "slow",
        "steps": [
            {"id": "a", "action": "sleep", "params": {"seconds": 0.6}},
            {"id": "b", "action": "set_output", "depends_on": ["a"]},
        ],
    }
    async with _two_replicas(pg_database, registry) as (one, other):
        first, second = one.client, other.client
        started = (await first.post("/v1/executions", json={"definition": definition})).json()
        eid = started["id"]
        scheduler = one.runtime.scheduler
        assert scheduler is not None
        # The first replica claimed step a when it created the execution and keeps its rows.
        assert scheduler.keeps(eid)
        cancelled = await second.post(f"/v1/executions/{eid}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        await asyncio.sleep(0.9)  # step a ends on the first replica and its outcome is committed
        done = await wait_for(first, eid)
        steps = await steps_by_id(first, eid)
    assert done["status"] == "cancelled", done
    assert steps["a"]["status"] == "cancelled", steps["a"]
    assert steps["b"]["status"] == "skipped", steps["b"]
    assert not scheduler.keeps(eid)


async def test_new_execution_runs_the_version_another_replica_just_stored(
    pg_database: str, registry: ActionRegistry
) -> None:
    definition: dict[str, Any] = {
        "name": "versions",
        "steps": [{"id": "one", "action": "set_output", "params": {"values": {"v": 1}}}],
    }
    async with _two_replicas(pg_database, registry) as (one, other):
        first, second = one.client, other.client
        pipeline = (await first.post("/v1/pipelines", json=definition)).json()
        body = {"pipeline_id": pipeline["id"]}
        old = (await first.post("/v1/executions?wait_seconds=10", json=body)).json()
        definition["steps"] = [
            {"id": "two", "action": "set_output", "params": {"values": {"v": 2}}}
        ]
        updated = await second.put(f"/v1/pipelines/{pipeline['id']}", json=definition)
        assert updated.status_code == 200, updated.text
        new = (await first.post("/v1/executions?wait_seconds=10", json=body)).json()
        new_steps = await steps_by_id(first, new["id"])
        deleted = await second.delete(f"/v1/pipelines/{pipeline['id']}")
        assert deleted.status_code == 204, deleted.text
        gone = await first.post("/v1/executions", json=body)
    assert (old["pipeline_version"], old["status"]) == (1, "completed")
    assert (new["pipeline_version"], new["status"]) == (2, "completed"), new
    assert list(new_steps) == ["two"]
    assert gone.status_code == 404, gone.text


async def test_worker_claims_what_an_api_only_replica_started_within_max_parallel_steps(
    pg_database: str, registry: ActionRegistry
) -> None:
    definition: dict[str, Any] = {
        "name": "fan-out",
        "settings": {"max_parallel_steps": 2},
        "steps": [
            {"id": f"s{n}", "action": "sleep", "params": {"seconds": 0.15}} for n in range(6)
        ],
    }
    async with _two_replicas(pg_database, registry, first_runs_steps=False) as (api, worker):
        started = await api.client.post(
            "/v1/executions?wait_seconds=20", json={"definition": definition}
        )
        steps = await steps_by_id(worker.client, started.json()["id"])
    assert started.json()["status"] == "completed", started.text
    assert {s["status"] for s in steps.values()} == {"completed"}
    assert {s["attempt"] for s in steps.values()} == {1}
    moments = sorted(
        [(s["started_at"], 1) for s in steps.values()]
        + [(s["finished_at"], -1) for s in steps.values()]
    )
    running = peak = 0
    for _, change in moments:  # an end sorts before a start at the same instant
        running += change
        peak = max(peak, running)
    assert peak == 2, moments
