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
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from loom.engine.actions.base import ActionRegistry
from loom.engine.masking import MASK, is_secret_key, mask_secrets
from loom.engine.scheduler.engine import Scheduler
from loom.engine.services.errors import InvalidInputError, Issue, NotFoundError
from loom.engine.settings import EngineSettings


@dataclass(slots=True)
class EngineRuntime:
    """Everything one engine process holds: settings, database, actions, scheduler."""

    settings: EngineSettings
    registry: ActionRegistry
    db: AsyncEngine | None = None
    read_db: AsyncEngine | None = None
    sessions: async_sessionmaker[AsyncSession] | None = None
    readers: async_sessionmaker[AsyncSession] | None = None
    waiters: dict[str, list[asyncio.Future[str]]] = field(
        default_factory=dict[str, list[asyncio.Future[str]]]
    )
    scheduler: Scheduler | None = None
    migrated: bool = False
    startup_seconds: float = 0.0

    @asynccontextmanager
    async def transaction(self) -> AsyncGenerator[AsyncSession, None]:
        """A session inside a transaction, committed when the block ends without error."""
        if self.sessions is None:
            raise RuntimeError("the engine is not started")
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncGenerator[AsyncSession, None]:
        """A session for reads only (never blocks behind writers on SQLite)."""
        if self.readers is None:
            raise RuntimeError("the engine is not started")
        async with self.readers() as session:
            yield session

    def execution_finished(self, execution_id: str, status: str) -> None:
        """Wake the requests waiting for this execution to end."""
        for future in self.waiters.pop(execution_id, []):
            if not future.done():
                future.set_result(status)

    async def wait_finished(self, execution_id: str, timeout_seconds: float) -> None:
        """Return when this process sees the execution end, or after the timeout."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(execution_id, []).append(future)
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout=timeout_seconds)
        except TimeoutError:
            pass
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


def get_runtime(request: Request) -> EngineRuntime:
    """The runtime stored on the application."""
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
                token = str(key).replace("~", "~0").replace("/", "~1")
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
