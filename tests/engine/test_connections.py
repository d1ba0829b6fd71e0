"""PostgreSQL connections the engine keeps (the committer's, the listener's, the pool's) survive
being terminated by the server: the next work gets new ones."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from loom.engine.actions.base import ActionRegistry
from loom.engine.app import create_app

from .conftest import engine_settings, pg_url, reset_pg_schema
from .helpers import diamond


async def _terminate_other_backends(database: str, *, allow_connections: bool = True) -> int:
    engine = create_async_engine(pg_url("postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            allow = "true" if allow_connections else "false"
            await conn.execute(sa.text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {allow}'))
            killed = (
                await conn.execute(
                    sa.text(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                        "FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
                    ),
                    {"db": database},
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    return int(killed)


@asynccontextmanager
async def _engine_with_diamond(
    pg_database: str, registry: ActionRegistry
) -> AsyncGenerator[tuple[httpx.AsyncClient, dict[str, Any]], None]:
    """A started engine on an empty database, its client, and the body that starts the
    stored diamond pipeline."""
    await reset_pg_schema(pg_database)
    app = create_app(engine_settings(pg_url(pg_database)), registry=registry)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e") as client,
    ):
        pipeline = (await client.post("/v1/pipelines", json=diamond())).json()
        yield client, {"pipeline_id": pipeline["id"]}


async def test_executions_complete_after_the_server_terminated_every_engine_connection(
    pg_database: str, registry: ActionRegistry
) -> None:
    async with _engine_with_diamond(pg_database, registry) as (client, body):
        first = await client.post("/v1/executions?wait_seconds=10", json=body)
        assert first.json()["status"] == "completed", first.text
        assert await _terminate_other_backends(pg_database) >= 2  # pool + listener at least
        answers: list[tuple[int, str]] = []
        for _ in range(5):
            answer = await client.post("/v1/executions?wait_seconds=10", json=body)
            answers.append((answer.status_code, answer.json()["status"]))
    # A request that met a dead connection is a 503 problem (retry), never a 500.
    assert all(a in {(201, "completed"), (503, 503)} for a in answers), answers
    assert answers[-1] == (201, "completed"), answers


async def test_api_answers_503_while_the_database_is_unreachable_and_recovers_after(
    pg_database: str, registry: ActionRegistry
) -> None:
    async with _engine_with_diamond(pg_database, registry) as (client, body):
        done = (await client.post("/v1/executions?wait_seconds=10", json=body)).json()
        try:
            await _terminate_other_backends(pg_database, allow_connections=False)
            down = [
                await client.post("/v1/executions", json=body),
                await client.get(f"/v1/executions/{done['id']}"),
                await client.get("/v1/pipelines"),
                await client.get("/readyz"),
            ]
        finally:
            await _terminate_other_backends(pg_database, allow_connections=True)
        again = await client.post("/v1/executions?wait_seconds=10", json=body)
    for answer in down:
        assert answer.status_code == 503, (answer.request.url, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    assert down[0].headers["retry-after"] == "1"
    assert (again.status_code, again.json()["status"]) == (201, "completed"), again.text
