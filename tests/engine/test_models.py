"""Pipeline writes are serialised by the row lock and versioned: concurrent updates each add
a version, none is lost."""

from __future__ import annotations

import asyncio

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from loom.engine.api.deps import EngineRuntime
from loom.engine.db.rows import PIPELINES


async def test_concurrent_updates_each_add_a_version_when_they_race(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    definition = {"name": "p", "steps": [{"id": "a", "action": "set_output"}]}
    created = (await client.post("/v1/pipelines", json=definition)).json()
    url = f"/v1/pipelines/{created['id']}"
    answers = await asyncio.gather(
        *(client.put(url, json={**definition, "description": f"update {n}"}) for n in range(4))
    )
    assert [a.status_code for a in answers] == [200] * 4
    assert sorted(a.json()["version"] for a in answers) == [2, 3, 4, 5]
    current = (await client.get(url)).json()
    assert current["version"] == 5
    runtime: EngineRuntime = app.state.runtime
    async with runtime.read() as conn:
        row_version = (
            await conn.execute(
                sa.select(PIPELINES.c.row_version).where(PIPELINES.c.id == created["id"])
            )
        ).scalar_one()
    assert row_version == 5
    for version in range(1, 6):
        assert (await client.get(url, params={"version": version})).status_code == 200
