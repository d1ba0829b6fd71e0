"""Transactions and the three writes of the hot path, for either database.

:class:`Database` hands out transactions as :class:`Tx` objects: ``tx.conn`` for any Core
statement, and ``lock``/``write``/``create`` for the statements every execution goes through.

- PostgreSQL: the transaction is the driver's own (asyncpg ``BEGIN``/``COMMIT`` on a pooled
  connection in autocommit mode, so that SQLAlchemy statements on ``tx.conn`` run inside it
  without opening a second one), and the three writes are one statement each, sent to asyncpg
  directly (:mod:`loom.engine.db.postgres`): no SQLAlchemy execution context, no greenlet
  switch, one round trip.
- SQLite runs in the process and has no round trips to save: a ``BEGIN IMMEDIATE`` transaction
  (which serialises writers) and the Core statements of :mod:`loom.engine.db.rows`.

Wake-up notifications exist only on PostgreSQL (SQLite is one process).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm.exc import StaleDataError

from loom.engine.db import postgres, rows
from loom.engine.db.cache import DefinitionCache
from loom.engine.db.committed import CommittedRows
from loom.engine.db.postgres import PostgresTx
from loom.engine.db.rows import ExecutionRow
from loom.engine.db.sqlite import SqliteTx
from loom.engine.db.tx import Tx
from loom.engine.definitions import PipelineDefinition


def _asyncpg_errors() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """asyncpg's errors: every one of them, and those of a connection that is gone or cannot
    be used (the server closed it: a restart, a fail-over, an administrator; or the driver
    lost track of it)."""
    try:
        import asyncpg  # pyright: ignore[reportMissingTypeStubs]
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return (), ()
    every = (asyncpg.PostgresError, asyncpg.InterfaceError)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    lost = (
        asyncpg.InterfaceError,  # pyright: ignore[reportUnknownMemberType]
        asyncpg.InternalClientError,  # pyright: ignore[reportUnknownMemberType]
        asyncpg.exceptions.PostgresConnectionError,  # pyright: ignore[reportUnknownMemberType]
        asyncpg.exceptions.OperatorInterventionError,  # pyright: ignore[reportUnknownMemberType]
    )
    return every, lost  # pyright: ignore[reportUnknownVariableType]


_DRIVER_ERRORS, _DRIVER_DISCONNECTS = _asyncpg_errors()

# The connection is gone or cannot be used: the network failed, or the driver says so.
DISCONNECT_ERRORS: tuple[type[Exception], ...] = (OSError, *_DRIVER_DISCONNECTS)


# SQLSTATE classes of a server that refuses or drops connections: 08 connection exception,
# 28 invalid authorization, 3D no such database, 53 insufficient resources (too many
# connections), 57 operator intervention (shutdown, starting up); and 55000, which a database
# closed to connections (ALLOW_CONNECTIONS false) answers.
_UNAVAILABLE_CLASSES = frozenset({"08", "28", "3D", "53", "57"})


def is_unavailable(exc: BaseException) -> bool:
    """Whether an error means the database cannot be reached now (not that a statement was
    wrong): a lost or refused connection, or no free connection in the pool in time."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (*DISCONNECT_ERRORS, PoolTimeoutError)):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str) and (state[:2] in _UNAVAILABLE_CLASSES or state == "55000"):
            return True
        current = current.__cause__ or current.__context__
    return False


# SQLSTATE classes of a value the database refuses: 22 data exception (NUL or a character
# the encoding lacks, a string too long), 54 program limit exceeded (a row too large).
_UNSTORABLE_CLASSES = frozenset({"22", "54"})


def is_unstorable(exc: BaseException) -> bool:
    """Whether an error means a value cannot be stored as it is (doing it again cannot help):
    the database refused the data, or it could not be encoded (an action's output that is no
    JSON, text the driver cannot send: a ``TypeError`` or ``ValueError`` on the way)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TypeError | ValueError | sqlite3.DataError):
            return True
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str) and state[:2] in _UNSTORABLE_CLASSES:
            return True
        current = current.__cause__ or current.__context__
    return False


# What a caller retries: a lost optimistic lock, a lost connection, a deadlock or serialization
# failure, from SQLAlchemy or (on the PostgreSQL fast path) from the driver itself.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    StaleDataError,
    OperationalError,
    DBAPIError,
    OSError,
    *_DRIVER_ERRORS,
)


async def _drop_if_broken(conn: AsyncConnection, raw: Any, exc: BaseException) -> None:
    """Invalidate a connection that an error left unusable, so that the pool does not hand it
    to the next user (SQLAlchemy does that itself only for the statements it ran)."""
    if raw is not None and (raw.is_closed() or is_unavailable(exc)):
        await conn.invalidate()


class HeldConnection:
    """A pooled PostgreSQL connection that one serial user (the committer) keeps from one
    unit of work to the next while work keeps coming, instead of a checkout and a return
    through SQLAlchemy's pool for each (about 0.15 ms of CPU each here).

    Given back by :meth:`release` (when idle), after an error that is not a lost optimistic
    lock (the connection may be broken), and after a minute held, so that the pool's
    recycling still applies to it.
    """

    _MAX_HELD_SECONDS = 60.0

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._raw: Any = None
        self._since = 0.0

    async def get(self) -> tuple[AsyncConnection, Any]:
        """The connection and its asyncpg connection (checked out when not held)."""
        if self._conn is not None and time.monotonic() - self._since > self._MAX_HELD_SECONDS:
            await self.release()
        if self._conn is None:
            conn = await self._engine.connect()
            try:
                self._raw = (await conn.get_raw_connection()).driver_connection
            except BaseException:
                await conn.close()
                raise
            self._conn, self._since = conn, time.monotonic()
        return self._conn, self._raw

    async def release(self, error: BaseException | None = None) -> None:
        """Give the connection back to the pool (invalidated if ``error`` or the server
        closed it)."""
        conn, raw = self._conn, self._raw
        self._conn = self._raw = None
        if conn is None:
            return
        try:
            if raw is None or raw.is_closed() or (error is not None and is_unavailable(error)):
                await conn.invalidate()
        finally:
            await conn.close()


class Database:
    """The engine's database: where transactions, single writes and reads come from.

    Args:
        write: the engine for writes (on SQLite, its single ``BEGIN IMMEDIATE`` connection).
        read: the engine for reads (SQLite: a read-only pool; PostgreSQL: the same pool in
            autocommit mode).
    """

    def __init__(self, write: AsyncEngine, read: AsyncEngine) -> None:
        self.write_engine = write
        self.read_engine = read
        self.is_postgres = write.dialect.name == "postgresql"
        # The process's caches; every unit of work carries them (see Tx).
        self.kept = CommittedRows()  # what the committer wrote last (committed.py)
        self.definitions = DefinitionCache()

    def _tx(self, conn: AsyncConnection, raw: Any = None, *, locking: bool = True) -> Tx:
        if raw is None:
            return SqliteTx(conn, self.kept, self.definitions)
        return PostgresTx(conn, self.kept, self.definitions, raw, locking)

    @asynccontextmanager
    async def transaction(self) -> AsyncGenerator[Tx, None]:
        """A transaction, committed when the block ends without an exception."""
        if not self.is_postgres:
            async with self.write_engine.begin() as conn:
                yield self._tx(conn)
            return
        async with self.read_engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            try:
                async with raw.transaction():  # pyright: ignore[reportOptionalMemberAccess]
                    yield self._tx(conn, raw)
            except BaseException as exc:
                await _drop_if_broken(conn, raw, exc)
                raise

    def held(self) -> HeldConnection | None:
        """A connection to keep between units of work (PostgreSQL; ``None`` on SQLite, where
        every write shares the single write connection anyway)."""
        return HeldConnection(self.read_engine) if self.is_postgres else None

    @asynccontextmanager
    async def commit(self, held: HeldConnection | None = None) -> AsyncGenerator[Tx, None]:
        """A unit of work of the form ``tx.lock`` → decide → one ``tx.write``.

        PostgreSQL: optimistic, no transaction at all. ``tx.lock`` reads without locking and
        ``tx.write`` is one statement that writes only if every execution it names is still
        at the version read (each one is written, hence its version bumped, even when
        unchanged; every other writer of an execution's steps bumps it too: claims, cancel,
        retry, time-outs) and every changed step row is still at its version and lease;
        otherwise it writes nothing and raises ``StaleDataError``, and the caller redoes the
        work from fresh rows. Two round trips instead of four (``BEGIN``, ``SELECT … FOR
        UPDATE``, write, ``COMMIT``), and no lock is held between them.

        SQLite: a ``BEGIN IMMEDIATE`` transaction, as every write there.

        ``held``: the connection to use on PostgreSQL (see :class:`HeldConnection`).
        """
        if held is None or not self.is_postgres:
            async with self._untransacted(locking=False) as tx:
                yield tx
            return
        conn, raw = await held.get()
        try:
            yield self._tx(conn, raw, locking=False)
        except StaleDataError:
            raise  # the statement failed cleanly: the connection is fine
        except BaseException as exc:
            await held.release(exc)
            raise

    @asynccontextmanager
    async def autocommit(self) -> AsyncGenerator[Tx, None]:
        """For work whose only write is :meth:`Tx.create`: no ``BEGIN``/``COMMIT`` round
        trips on PostgreSQL (the statement is atomic on its own), a transaction on SQLite."""
        async with self._untransacted(locking=True) as tx:
            yield tx

    @asynccontextmanager
    async def _untransacted(self, *, locking: bool) -> AsyncGenerator[Tx, None]:
        """A pooled connection with no transaction on PostgreSQL; a transaction on SQLite."""
        if not self.is_postgres:
            async with self.transaction() as tx:
                yield tx
            return
        async with self.read_engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            try:
                yield self._tx(conn, raw, locking=locking)
            except BaseException as exc:
                await _drop_if_broken(conn, raw, exc)
                raise

    async def definition(self, execution_id: str) -> PipelineDefinition:
        """The parsed definition of an execution (read on the read pool, parsed once)."""
        cached = self.definitions.execution(execution_id)
        if cached is not None:
            return cached
        async with self.read_engine.connect() as conn:
            data = await rows.load_definition(conn, execution_id)
        return self.definitions.parse(execution_id, data)

    async def execution(self, execution_id: str) -> ExecutionRow | None:
        """One execution as committed now (``None`` when it does not exist)."""
        async with self.read_engine.connect() as conn:
            if not self.is_postgres:
                return await rows.load_execution(conn, execution_id)
            raw = (await conn.get_raw_connection()).driver_connection
            try:
                return await postgres.load_execution(raw, execution_id)
            except BaseException as exc:
                await _drop_if_broken(conn, raw, exc)
                raise

    @asynccontextmanager
    async def read(self) -> AsyncGenerator[AsyncConnection, None]:
        """A connection for reads (no transaction round trips on PostgreSQL; never waits for
        the writer on SQLite)."""
        async with self.read_engine.connect() as conn:
            yield conn
