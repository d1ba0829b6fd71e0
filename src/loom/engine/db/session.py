"""The async engine, the session factory and migrations (Alembic, shipped in the package)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine for ``database_url``.

    SQLite gets WAL, ``busy_timeout`` and ``BEGIN IMMEDIATE`` transactions: every transaction
    takes the write lock up front, so a read-then-write never fails half-way with
    ``database is locked`` when another connection wrote in between.

    Args:
        database_url: async SQLAlchemy URL (``sqlite+aiosqlite`` or ``postgresql+asyncpg``).
        echo: log every SQL statement.

    Returns:
        The engine.
    """
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            database_url, echo=echo, connect_args={"timeout": 30}, pool_size=8, max_overflow=8
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:  # pyright: ignore[reportUnusedFunction]
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Connection) -> None:  # pyright: ignore[reportUnusedFunction]
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(
        database_url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory whose sessions keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic configuration pointing at the migrations shipped inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def _run_command(connection: Connection, action: str, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(cfg, revision)
    elif action == "downgrade":
        command.downgrade(cfg, revision)
    else:
        raise ValueError(f"unknown migration action {action!r}")


async def migrate(engine: AsyncEngine, *, action: str = "upgrade", revision: str = "head") -> None:
    """Apply (``upgrade``) or revert (``downgrade``) migrations up to ``revision``.

    Args:
        engine: the async engine of the target database.
        action: ``upgrade`` or ``downgrade``.
        revision: target revision (``head``, ``base``, ``-1``, a revision id).
    """
    async with engine.begin() as conn:
        await conn.run_sync(_run_command, action, revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (``None`` before the first migration)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


def head_revision() -> str | None:
    """The newest revision shipped in the package."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
