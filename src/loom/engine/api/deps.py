"""What routes share: the engine runtime, transactions, masking and input hygiene."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncGenerator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from loom.engine import metrics
from loom.engine.actions.base import ActionRegistry
from loom.engine.db import notify
from loom.engine.db.rows import ExecutionRow
from loom.engine.db.store import Database
from loom.engine.db.tx import Tx
from loom.engine.masking import MASK, is_secret_key, mask_secrets
from loom.engine.pointers import escape_pointer
from loom.engine.scheduler.engine import Scheduler
from loom.engine.services.errors import InvalidInputError, Issue, NotFoundError
from loom.engine.services.executions import Committed
from loom.engine.settings import EngineSettings


@dataclass(slots=True)
class EngineRuntime:
    """Everything one engine process holds: settings, database, actions, scheduler."""

    settings: EngineSettings
    registry: ActionRegistry
    db: AsyncEngine | None = None
    read_db: AsyncEngine | None = None
    database: Database | None = None
    waiters: dict[str, list[asyncio.Future[ExecutionRow | None]]] = field(
        default_factory=dict[str, list[asyncio.Future[ExecutionRow | None]]]
    )
    scheduler: Scheduler | None = None
    listener: notify.Listener | None = None
    migrated: bool = False
    startup_seconds: float = 0.0

    def require_database(self) -> Database:
        """The database (the engine must be started)."""
        if self.database is None:
            raise RuntimeError("the engine is not started")
        return self.database

    @asynccontextmanager
    async def begin(self) -> AsyncGenerator[Tx, None]:
        """A unit of work (a transaction), committed when the block ends without error."""
        async with self.require_database().transaction() as tx:
            yield tx

    @asynccontextmanager
    async def autocommit(self) -> AsyncGenerator[Tx, None]:
        """For work whose only write is one ``Tx.create`` (see ``Database.autocommit``)."""
        async with self.require_database().autocommit() as tx:
            yield tx

    @asynccontextmanager
    async def read(self) -> AsyncGenerator[AsyncConnection, None]:
        """A connection for reads only (never blocks behind writers on SQLite)."""
        async with self.require_database().read() as conn:
            yield conn

    def after_commit(self, committed: Committed) -> None:
        """What a unit of work of the API did, once committed: the scheduler starts what it
        claimed and stops what ended; requests waiting for an ended execution are answered."""
        if self.scheduler is not None:
            self.scheduler.after_commit(committed)
        if committed.ended:
            execution = committed.execution
            self.execution_finished(execution.id, execution)
            metrics.EXECUTIONS_FINISHED.labels(execution.status).inc()

    def execution_finished(self, execution_id: str, row: ExecutionRow | None = None) -> None:
        """Wake the requests waiting for this execution to end.

        ``row`` is the execution as just committed by this process (the waiters answer with
        it); a wake-up from another process has none, and the waiters read the database.
        """
        for future in self.waiters.pop(execution_id, []):
            if not future.done():
                future.set_result(row)

    def on_message(self, payload: str) -> None:
        """Handle one wake-up payload from another process (see :mod:`loom.engine.db.notify`)."""
        if payload == notify.RUNNABLE:
            if self.scheduler is not None:
                self.scheduler.wake()
            return
        kind, _, rest = payload.partition(" ")
        if kind == "f":
            execution_id = rest.partition(" ")[0]
            if execution_id == "*":
                self.on_listening()
            elif execution_id in self.waiters:
                self.execution_finished(execution_id)

    def on_listening(self) -> None:
        """Listening (re)started: wake-ups may have been missed, so look at the database."""
        if self.scheduler is not None:
            self.scheduler.wake()
        for execution_id in list(self.waiters):
            self.execution_finished(execution_id)

    @asynccontextmanager
    async def watching(
        self, execution_id: str
    ) -> AsyncGenerator[asyncio.Future[ExecutionRow | None], None]:
        """A future resolved when this process learns that the execution ended.

        Register before reading the execution: an end that happens between the read and
        the wait then still wakes the waiter.
        """
        future: asyncio.Future[ExecutionRow | None] = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(execution_id, []).append(future)
        try:
            yield future
        finally:
            waiting = self.waiters.get(execution_id)
            if waiting is not None and future in waiting:
                waiting.remove(future)
                if not waiting:
                    del self.waiters[execution_id]

    def mask(self, value: Any) -> Any:
        """``value`` with the values under secret-looking keys replaced by ``***``."""
        return mask_secrets(value, patterns=self.settings.secret_patterns)

    def mask_definition(self, definition: dict[str, Any]) -> dict[str, Any]:
        """A definition with secrets masked, including defaults of secret-named parameters."""
        masked: dict[str, Any] = self.mask(definition)
        parameters: list[Any] = masked.get("parameters") or []
        for parameter in parameters:
            if not isinstance(parameter, dict):
                continue
            entry = cast("dict[str, Any]", parameter)
            if entry.get("default") is not None and is_secret_key(
                entry.get("name"), self.settings.secret_patterns
            ):
                entry["default"] = MASK
        return masked


async def get_runtime(request: Request) -> EngineRuntime:
    """The runtime stored on the application.

    ``async`` on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, a
    thread hand-off on every request.
    """
    runtime: EngineRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[EngineRuntime, Depends(get_runtime)]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def require_id(value: str, what: str) -> str:
    """A resource id from a path; anything that is not a UUID cannot exist (404)."""
    if not _UUID.match(value):
        raise NotFoundError(f"{what} {value!r} does not exist")
    return str(uuid.UUID(value))


def reject_nul(value: Any, pointer: str = "") -> None:
    """Refuse NUL characters, which PostgreSQL cannot store in text or JSON (a 422, not a 500).

    Raises:
        InvalidInputError: with the pointer of the first offending value.
    """
    stack: list[tuple[Any, str]] = [(value, pointer)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise InvalidInputError(
                    "text must not contain NUL characters",
                    issues=[Issue(where, "contains a NUL character", "nul")],
                )
        elif isinstance(item, dict):
            for key, sub in cast("dict[Any, Any]", item).items():
                token = escape_pointer(key)
                stack.append((key, where))
                stack.append((sub, f"{where}/{token}"))
        elif isinstance(item, list | tuple):
            for index, sub in enumerate(cast("list[Any]", item)):
                stack.append((sub, f"{where}/{index}"))


def reject_nul_params(**values: str | Sequence[str] | None) -> None:
    """Refuse NUL characters in query parameters."""
    for name, value in values.items():
        if value is not None:
            reject_nul(value, f"/query/{name}")
