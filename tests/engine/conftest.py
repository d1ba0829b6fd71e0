"""Fixtures of the engine tests: every database test runs on SQLite and on PostgreSQL.

PostgreSQL (127.0.0.1:5432, user postgres) gets one database per xdist worker, created at the
start of the session and dropped at the end; each test starts from an empty schema. When the
server is down the PostgreSQL variants are skipped locally, and fail in CI (``CI`` is set).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from loom.engine.actions.base import ActionRegistry
from loom.engine.app import create_app
from loom.engine.settings import EngineSettings

from .helpers import test_registry

PG_HOST = os.environ.get("LOOM_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("LOOM_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("LOOM_TEST_PG_USER", "postgres")
REPO_ROOT = Path(__file__).resolve().parents[2]
# Several checkouts on one machine (worktrees, a CI clone) share the server: each one's database
# names carry a short hash of its path so that one run never drops another's databases.
CHECKOUT_TAG = hashlib.sha256(str(REPO_ROOT).encode()).hexdigest()[:6]


def _pg_up() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1.0):
            return True
    except OSError:
        return False


def pg_url(database: str) -> str:
    """The async URL of a database on the test PostgreSQL server."""
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


async def _execute(database: str, *statements: str) -> None:
    engine = create_async_engine(pg_url(database), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def _admin(sql: str) -> None:
    await _execute("postgres", sql)


async def reset_pg_schema(database: str) -> None:
    """Empty a test database: drop and re-create its ``public`` schema."""
    await _execute(database, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")


@pytest.fixture(scope="session")
def pg_database(worker_id: str) -> Iterator[str]:
    """A PostgreSQL database of this xdist worker (its name comes from ``worker_id``)."""
    if not _pg_up():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} (required in CI)")
        pytest.skip(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT}")
    name = f"loom_engine_test_{CHECKOUT_TAG}_{worker_id}".lower()
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def fresh_pg_database(name: str) -> str:
    """Create (or re-create) a PostgreSQL database and return its async URL."""
    name = f"{name}_{CHECKOUT_TAG}"
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return pg_url(name)


def drop_pg_database(name: str) -> None:
    """Drop a PostgreSQL database made by :func:`fresh_pg_database`."""
    name = f"{name}_{CHECKOUT_TAG}"
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or this worker's PostgreSQL database, reset."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}"
    name: str = request.getfixturevalue("pg_database")
    asyncio.run(reset_pg_schema(name))
    return pg_url(name)


def engine_settings(database_url: str, **overrides: Any) -> EngineSettings:
    """Settings for a test engine: fast polling, short leases, migrations at start."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "auto_migrate": True,
        "poll_interval_seconds": 0.02,
        "lease_seconds": 5.0,
        "allow_private_networks": True,
    }
    values.update(overrides)
    return EngineSettings(**values)


@pytest.fixture
def registry() -> ActionRegistry:
    """The built-in actions plus the test actions (``flaky``, ``sleep``, ``once``)."""
    return test_registry()


@pytest.fixture
async def app(database_url: str, registry: ActionRegistry) -> AsyncIterator[FastAPI]:
    """A started engine (lifespan entered: database migrated, scheduler running)."""
    application = create_app(engine_settings(database_url), registry=registry)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the engine through the ASGI transport."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://engine") as c:
        yield c


def subprocess_env(database_url: str, **extra: str) -> dict[str, str]:
    """Environment of a ``loom serve`` subprocess."""
    env = dict(os.environ)
    src = str(REPO_ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (src, str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
    )
    env.update(
        {
            "LOOM_DATABASE_URL": database_url,
            "LOOM_AUTO_MIGRATE": "1",
            "LOOM_POLL_INTERVAL_SECONDS": "0.05",
            "LOOM_LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


PYTHON = sys.executable


@pytest.fixture
def live_url(database_url: str, registry: ActionRegistry) -> Iterator[str]:
    """A started engine served by uvicorn on a loopback port (real HTTP); its base URL."""
    from .live import serve

    with serve(create_app(engine_settings(database_url), registry=registry)) as url:
        yield url


@pytest.fixture
async def http(live_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of :func:`live_url`."""
    async with httpx.AsyncClient(base_url=live_url, timeout=30.0) as c:
        yield c
