"""Durability and scale: lease expiry, kill -9 and restart, two engines on one PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from loom.engine.actions.base import ActionRegistry
from loom.engine.api.deps import EngineRuntime
from loom.engine.app import create_app
from loom.engine.db.models import Event, StepRun, utcnow
from loom.engine.db.session import create_engine
from loom.engine.scheduler.claims import claim_runnable
from loom.engine.scheduler.engine import Scheduler

from .conftest import engine_settings, pg_url, reset_pg_schema
from .engine_process import EngineProcess, run_db_command
from .helpers import diamond, steps_by_id, wait_for


async def test_expired_lease_reruns_idempotent_steps_and_fails_others_when_recovered(
    database_url: str, registry: ActionRegistry
) -> None:
    settings = engine_settings(database_url, run_scheduler=False, lease_seconds=0.3)
    app: FastAPI = create_app(settings, registry=registry)
    definition = {
        "name": "crash",
        "settings": {"fail_fast": False},
        "steps": [
            {"id": "idem", "action": "sleep", "params": {"seconds": 0.01}},
            {"id": "charge", "action": "charge", "params": {"seconds": 0.01}},
        ],
    }
    async with app.router.lifespan_context(app):
        runtime: EngineRuntime = app.state.runtime
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://e") as client:
            started = await client.post("/v1/executions", json={"definition": definition})
            eid = started.json()["id"]
            async with runtime.begin() as tx:  # a "dead" engine claims both steps
                claims = await claim_runnable(
                    tx, owner="dead-engine", limit=10, lease_seconds=0.2, now=utcnow()
                )
            assert len(claims) == 2
            assert runtime.database is not None
            scheduler = Scheduler(runtime.database, registry, settings)
            scheduler.start()
            try:
                done = await wait_for(client, eid)
            finally:
                await scheduler.stop()
            steps = await steps_by_id(client, eid)
    assert steps["idem"]["status"] == "completed"
    assert steps["idem"]["attempt"] == 2
    assert steps["charge"]["status"] == "failed"
    assert "not idempotent" in steps["charge"]["error"]
    assert "dead-engine" in steps["charge"]["error"]
    assert done["status"] == "failed"


CRASH_PIPELINE: dict[str, Any] = {
    "name": "crashy",
    "parameters": [{"name": "i", "type": "integer", "required": True}],
    "settings": {"max_parallel_steps": 4},
    "steps": [
        {"id": "a", "action": "set_output", "params": {"key": "i", "value": "{{ params.i }}"}},
        {"id": "wait", "action": "delay", "depends_on": ["a"], "params": {"seconds": 0.4}},
        {
            "id": "b",
            "action": "set_output",
            "depends_on": ["wait"],
            "params": {"key": "j", "value": "{{ steps.a.outputs.i * 10 }}"},
        },
    ],
    "outputs": {"j": "{{ steps.b.outputs.j }}"},
}


async def _post_many(url: str, bodies: list[dict[str, Any]]) -> list[str]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        ids: list[str] = []
        for start in range(0, len(bodies), 10):
            responses = await asyncio.gather(
                *(client.post("/v1/executions", json=b) for b in bodies[start : start + 10])
            )
            for response in responses:
                assert response.status_code == 201, response.text
                ids.append(response.json()["id"])
        return ids


async def _statuses(url: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        found: dict[str, dict[str, Any]] = {}
        page = 1
        while True:
            body = (
                await client.get("/v1/executions", params={"page": page, "page_size": 200})
            ).json()
            for item in body["items"]:
                found[item["id"]] = item
            if page * 200 >= body["total"]:
                break
            page += 1
        return {eid: found[eid] for eid in ids if eid in found}


async def _wait_all(url: str, ids: list[str], timeout_seconds: float) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout_seconds
    statuses: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        statuses = await _statuses(url, ids)
        if all(s["status"] in {"completed", "failed", "cancelled"} for s in statuses.values()):
            return statuses
        await asyncio.sleep(0.2)
    counts = Counter(s["status"] for s in statuses.values())
    raise AssertionError(f"not all executions finished: {counts}")


async def _started_counts(database_url: str) -> tuple[Counter[tuple[str, str | None]], set[str]]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(Event.execution_id, Event.step_id, Event.data).where(
                        Event.kind == "step_started"
                    )
                )
            ).all()
            attempts = (await conn.execute(sa.select(sa.func.max(StepRun.attempt)))).scalar()
    finally:
        await engine.dispose()
    owners = {str(cast("dict[str, Any]", row.data or {}).get("owner")) for row in rows}
    assert attempts == 1
    return Counter((row.execution_id, row.step_id) for row in rows), owners


@pytest.mark.slow
@pytest.mark.xdist_group("engine-processes")
async def test_all_executions_complete_when_the_engine_is_killed_and_restarted(
    database_url: str, tmp_path: Path
) -> None:
    assert run_db_command(database_url, "upgrade").returncode == 0
    env = {"LOOM_LEASE_SECONDS": "1", "LOOM_AUTO_MIGRATE": "0"}
    log = tmp_path / "engine.log"
    first = EngineProcess(database_url, log, **env)
    try:
        bodies = [{"definition": CRASH_PIPELINE, "params": {"i": i}} for i in range(50)]
        ids = await _post_many(first.url, bodies)
        deadline = time.monotonic() + 60  # generous: CI machines can be slow
        while time.monotonic() < deadline:
            done = [
                s for s in (await _statuses(first.url, ids)).values() if s["status"] == "completed"
            ]
            if len(done) >= 5:
                break
            await asyncio.sleep(0.02)
    finally:
        first.kill()
    before = await _statuses_offline(database_url, ids)
    assert 0 < before["completed"] < 50, before  # killed in the middle
    second = EngineProcess(database_url, log, **env)
    try:
        final = await _wait_all(second.url, ids, timeout_seconds=90)
    finally:
        second.stop()
    assert all(s["status"] == "completed" for s in final.values()), Counter(
        s["status"] for s in final.values()
    )
    assert all(final[eid]["outputs"] == {"j": i * 10} for i, eid in enumerate(ids))


async def _statuses_offline(database_url: str, ids: list[str]) -> Counter[str]:
    from loom.engine.db.models import Execution

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (
                (await conn.execute(sa.select(Execution.status).where(Execution.id.in_(ids))))
                .scalars()
                .all()
            )
    finally:
        await engine.dispose()
    return Counter(rows)


@pytest.mark.slow
@pytest.mark.xdist_group("engine-processes")
async def test_no_step_runs_twice_when_two_engines_share_one_postgresql(
    pg_database: str, tmp_path: Path
) -> None:
    await reset_pg_schema(pg_database)
    database_url = pg_url(pg_database)
    upgraded = run_db_command(database_url, "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    env = {"LOOM_LEASE_SECONDS": "5", "LOOM_AUTO_MIGRATE": "0"}
    engines = [
        EngineProcess(
            database_url, tmp_path / f"engine{n}.log", LOOM_ENGINE_ID=f"engine-{n}", **env
        )
        for n in (1, 2)
    ]
    try:
        definition = diamond()
        halves = await asyncio.gather(
            *(_post_many(e.url, [{"definition": definition}] * 100) for e in engines)
        )
        ids = [eid for half in halves for eid in half]
        assert len(set(ids)) == 200
        final = await _wait_all(engines[0].url, ids, timeout_seconds=120)
    finally:
        for engine in engines:
            engine.stop()
    assert all(s["status"] == "completed" for s in final.values())
    starts, owners = await _started_counts(database_url)
    assert len(starts) == 200 * 5
    assert set(starts.values()) == {1}, "a step was started twice"
    assert owners == {"engine-1", "engine-2"}, owners
