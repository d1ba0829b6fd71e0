"""The async engines and migrations (Alembic, shipped in the package).

Alembic is imported only when a migration actually runs: start-up on an up-to-date database
reads ``alembic_version`` with one query and compares it with :data:`HEAD_REVISION`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    create_async_engine,
)

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest revision shipped; tests check it against Alembic's own view of the scripts.
HEAD_REVISION = "0003"
_LOCK_KEY = 0x6C6F6F6D  # "loom"


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
        # One write connection: SQLite has one writer anyway, and waiting for the pool is an
        # asyncio wait, while waiting on SQLite's lock is its busy handler's sleeps (up to
        # 100 ms each). Reads go through create_read_engine's own pool.
        engine = create_async_engine(
            database_url,
            echo=echo,
            connect_args={"timeout": 30},
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
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
        # No pre-ping: it costs a round trip per checkout; dead connections surface as
        # DBAPI errors, which every caller already retries.
        database_url,
        echo=echo,
        # asyncpg prepares every statement once per connection, and PostgreSQL soon switches
        # a prepared statement to a generic plan made with the statistics of that moment: on
        # a new database (small tables) a sequential scan, kept while the tables grow (the
        # benchmark's database CPU per execution tripled over 1,000 executions). Custom plans
        # see the table sizes of now and the values of the arrays, for a fraction of a ms.
        connect_args={"server_settings": {"plan_cache_mode": "force_custom_plan"}},
        pool_size=10,
        max_overflow=10,
        pool_recycle=1800,
    )


def create_read_engine(database_url: str, write_engine: AsyncEngine) -> AsyncEngine:
    """The engine for read-only work.

    On SQLite it is a second pool without ``BEGIN IMMEDIATE`` (in WAL mode readers never wait
    for the writer, so API reads do not queue behind the scheduler's write transactions); on
    PostgreSQL it is the write engine's pool in autocommit mode: a read of one statement
    needs no ``BEGIN`` and ``ROLLBACK`` round trips, and under READ COMMITTED several reads see
    what they would have seen inside a transaction anyway (each statement its own snapshot).
    """
    if not database_url.startswith("sqlite"):
        return write_engine.execution_options(isolation_level="AUTOCOMMIT")
    engine = create_async_engine(
        database_url, connect_args={"timeout": 30}, pool_size=8, max_overflow=8
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:  # pyright: ignore[reportUnusedFunction]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    return engine


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic configuration pointing at the migrations shipped inside the package."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def _run_command(connection: Connection, action: str, revision: str) -> None:
    from alembic import command

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
        if conn.dialect.name == "postgresql":
            # Several replicas may start at once: one migrates, the others wait and find
            # nothing left to do.
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        await conn.run_sync(_run_command, action, revision)


def _current(connection: Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    return str(rows[0]) if len(rows) == 1 else None


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (``None`` before the first migration)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def ensure_migrated(engine: AsyncEngine) -> None:
    """Upgrade to head unless the database is already there (Alembic stays unimported then)."""
    if await current_revision(engine) != HEAD_REVISION:
        await migrate(engine)


def head_revision() -> str | None:
    """The newest revision of the migration scripts, as Alembic sees them."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
