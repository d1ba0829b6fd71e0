"""Cross-process wake-ups on PostgreSQL: ``NOTIFY`` in the writing transaction, ``LISTEN`` on
one dedicated connection per process.

Messages are delivered only when (and if) the transaction that sent them commits, so a wake-up
never announces work that does not exist. They are hints, not the source of truth: a receiver
re-reads the database, and every process keeps polling (``LOOM_POLL_INTERVAL_SECONDS``), so
a lost message, or a listener that is down while it reconnects, costs latency, never
correctness. SQLite is one process: there is nobody to tell, and :func:`notify` does nothing.

Payloads (several per message, separated by ``;``):

- ``r``: steps became runnable that the sender did not claim itself: claim loops look now;
- ``f <execution id> <status>``: an execution ended: long polls waiting for it answer now;
- ``f *``: executions ended (too many to name): every long poll re-reads its execution.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)

CHANNEL = "loom_engine"
RUNNABLE = "r"
ANY_FINISHED = "f *"
_MAX_PAYLOAD = 7000  # PostgreSQL refuses payloads of 8000 bytes and more
_PING_SECONDS = 15.0


def finished(execution_id: str, status: str) -> str:
    """The payload announcing that an execution ended."""
    return f"f {execution_id} {status}"


def payload(notifications: Iterable[str]) -> str | None:
    """One message for ``notifications`` (each once, in order), or ``None`` for none.

    A message longer than PostgreSQL accepts (a batch that ended very many executions) is
    replaced by :data:`ANY_FINISHED`, which makes receivers re-read every execution they
    wait for.
    """
    unique = list(dict.fromkeys(notifications))
    if not unique:
        return None
    joined = ";".join(unique)
    if len(joined.encode()) <= _MAX_PAYLOAD:
        return joined
    return ";".join(dict.fromkeys(RUNNABLE if p == RUNNABLE else ANY_FINISHED for p in unique))


class Listener:
    """``LISTEN`` on its own connection; reconnects with back-off when it is lost.

    Args:
        engine: the engine whose database (and connection arguments) to use.
        on_message: called with each payload of each notification.
        on_connected: called every time listening (re)starts: notifications sent while the
            connection was down are lost, so the receiver should look at the database.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        on_message: Callable[[str], None],
        on_connected: Callable[[], None],
    ) -> None:
        self._engine = engine
        self._on_message = on_message
        self._on_connected = on_connected
        self._task: asyncio.Task[None] | None = None
        self._connection: Any = None
        self._lost = asyncio.Event()
        self.connected = asyncio.Event()
        # Server processes of this engine's own pool: what they send, this process already
        # acted on (and its long polls got the committed row, which a wake-up would replace).
        self._own: set[int] = set()
        pool = engine.sync_engine.pool
        event.listen(pool, "connect", self._pool_connected)
        event.listen(pool, "close", self._pool_closed)
        event.listen(pool, "close_detached", self._pool_closed)

    def _pool_connected(self, dbapi_connection: Any, _record: Any) -> None:
        with contextlib.suppress(Exception):
            self._own.add(int(dbapi_connection.driver_connection.get_server_pid()))

    def _pool_closed(self, dbapi_connection: Any, *_args: Any) -> None:
        with contextlib.suppress(Exception):
            self._own.discard(int(dbapi_connection.driver_connection.get_server_pid()))

    async def start(self, *, timeout_seconds: float = 5.0) -> None:
        """Start listening; waits (up to the timeout) for the first connection."""
        self._task = asyncio.create_task(self._run(), name="loom-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout=timeout_seconds)

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close()
        pool = self._engine.sync_engine.pool
        event.remove(pool, "connect", self._pool_connected)
        event.remove(pool, "close", self._pool_closed)
        event.remove(pool, "close_detached", self._pool_closed)

    async def _connect(self) -> Any:
        import asyncpg  # pyright: ignore[reportMissingTypeStubs]  # the driver SQLAlchemy uses

        args, kwargs = self._engine.dialect.create_connect_args(self._engine.url)
        for private in ("prepared_statement_cache_size", "async_fallback"):
            kwargs.pop(private, None)
        connect = cast("Callable[..., Awaitable[Any]]", asyncpg.connect)  # pyright: ignore[reportUnknownMemberType]
        return await connect(*args, **kwargs)

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                connection = await self._connect()
                self._connection = connection
                self._lost.clear()
                connection.add_termination_listener(self._terminated)
                await connection.add_listener(CHANNEL, self._received)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning(
                    "cannot listen for wake-ups (%s); polling only, retrying in %.1f s",
                    type(exc).__name__,
                    delay,
                )
                await self._close()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            delay = 0.1
            self.connected.set()
            self._on_connected()
            await self._watch(connection)
            self.connected.clear()
            logger.warning("the wake-up connection was lost; reconnecting")
            await self._close()

    async def _watch(self, connection: Any) -> None:
        """Return when the connection is lost (a silent network failure included)."""
        while True:
            try:
                await asyncio.wait_for(self._lost.wait(), timeout=_PING_SECONDS)
                return
            except TimeoutError:
                pass
            try:
                await asyncio.wait_for(connection.fetchval("SELECT 1"), timeout=_PING_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception:
                return

    def _terminated(self, _connection: Any) -> None:
        self._lost.set()

    def _received(self, _connection: Any, pid: int, _channel: str, payload: str) -> None:
        if pid in self._own:
            return
        for part in payload.split(";"):
            try:
                self._on_message(part)
            except Exception:  # a bad message must not stop the listener
                logger.exception("wake-up message %r could not be handled", part)

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), timeout=2.0)
