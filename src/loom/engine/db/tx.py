"""The unit of work every service and the scheduler write through: one interface, one
implementation per database (:class:`loom.engine.db.sqlite.SqliteTx`,
:class:`loom.engine.db.postgres.PostgresTx`), handed out by
:class:`loom.engine.db.store.Database`.

``tx.conn`` runs any Core statement inside the unit of work (the cold paths: pipelines, lease
renewal, listings); the methods below are the statements every execution goes through, which
each database implements in its cheapest form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engine.db import rows
from loom.engine.db.cache import DefinitionCache
from loom.engine.db.committed import CommittedRows
from loom.engine.db.rows import ExecutionRow, NewEvent, StepRow
from loom.engine.definitions import PipelineDefinition

Locked = tuple[dict[str, ExecutionRow], dict[str, list[StepRow]]]


class Tx(Protocol):
    """One unit of work (a transaction, or on PostgreSQL possibly a single atomic statement)."""

    conn: AsyncConnection
    kept: CommittedRows
    definitions: DefinitionCache

    async def definition(self, execution_id: str) -> PipelineDefinition:
        """The parsed definition of an execution (read and parsed once per process)."""
        ...

    async def pipeline_version(self, pipeline_id: str) -> int | None:
        """The current version of a stored pipeline (``None`` when it does not exist)."""
        ...

    async def lock(self, execution_ids: Iterable[str]) -> Locked:
        """Executions (locked, in id order) and all their steps as they are after the lock."""
        ...

    async def lock_runnable(
        self, *, now: datetime, limit: int
    ) -> tuple[list[str], dict[str, ExecutionRow], dict[str, list[StepRow]]]:
        """The ids of up to ``limit`` runnable steps (oldest first), and their active
        executions with all their steps, locked so that no other engine claims them."""
        ...

    async def write(
        self,
        executions: Iterable[ExecutionRow],
        runs: Iterable[StepRow],
        events: Sequence[NewEvent],
        notifications: Iterable[str] = (),
    ) -> None:
        """Write changed rows back (optimistic lock on each), append events, send wake-ups.

        Every execution given is written (a new version even when unchanged: it orders all
        writers of its steps). The executions written are dropped from the committer's kept
        rows first; the committer keeps its own again once its write succeeded.

        Raises:
            StaleDataError: a row changed since it was read.
        """
        ...

    async def create(
        self,
        execution: ExecutionRow,
        definition: Mapping[str, Any],
        runs: Sequence[StepRow],
        events: Sequence[NewEvent],
        notifications: Iterable[str] = (),
        *,
        of_current_version: bool = False,
    ) -> None:
        """Insert a new execution with its steps and events.

        ``of_current_version``: write only if the execution's pipeline version is still the
        current one, else raise ``StaleDataError`` and write nothing.
        """
        ...


@dataclass(slots=True)
class TxBase:
    """What both implementations share: the connection and the process's caches."""

    conn: AsyncConnection
    kept: CommittedRows
    definitions: DefinitionCache

    async def definition(self, execution_id: str) -> PipelineDefinition:
        """The parsed definition of an execution (read and parsed once per process)."""
        cached = self.definitions.execution(execution_id)
        if cached is not None:
            return cached
        return self.definitions.parse(
            execution_id, await rows.load_definition(self.conn, execution_id)
        )

    def forget_written(self, executions: Iterable[ExecutionRow]) -> list[ExecutionRow]:
        """The executions about to be written, dropped from the kept rows."""
        written = list(executions)
        self.kept.forget(execution.id for execution in written)
        return written
