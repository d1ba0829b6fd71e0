"""The unit of work on SQLite: a ``BEGIN IMMEDIATE`` transaction (which serialises writers,
so nothing here needs a row lock) and the Core statements of :mod:`loom.engine.db.rows`.
SQLite runs in the process: there are no round trips to save, and no wake-ups to send (one
process)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from loom.engine.db import rows
from loom.engine.db.rows import ExecutionRow, NewEvent, StepRow
from loom.engine.db.tx import Locked, TxBase
from loom.engine.domain import ACTIVE_EXECUTION, StepStatus


@dataclass(slots=True)
class SqliteTx(TxBase):
    """:class:`loom.engine.db.tx.Tx` on SQLite."""

    async def pipeline_version(self, pipeline_id: str) -> int | None:
        """The current version of a stored pipeline (``None`` when it does not exist)."""
        pipelines = rows.PIPELINES.c
        version = (
            await self.conn.execute(
                sa.select(pipelines.current_version).where(pipelines.id == pipeline_id)
            )
        ).scalar_one_or_none()
        return None if version is None else int(version)

    async def lock(self, execution_ids: Iterable[str]) -> Locked:
        """Executions and their steps (the transaction holds the database's write lock)."""
        executions = await rows.load_executions(self.conn, execution_ids, lock=True)
        return executions, await rows.load_steps(self.conn, executions)

    async def lock_runnable(
        self, *, now: datetime, limit: int
    ) -> tuple[list[str], dict[str, ExecutionRow], dict[str, list[StepRow]]]:
        """Runnable steps (oldest first) and their active executions with all their steps."""
        sr = rows.STEP_RUNS.c
        runnable = list(
            (
                await self.conn.execute(
                    sa.select(sr.id, sr.execution_id)
                    .where(sr.status == StepStatus.PENDING, sr.ready_at <= now)
                    .order_by(sr.ready_at)
                    .limit(limit)
                )
            ).all()
        )
        found = await rows.load_executions(self.conn, {row.execution_id for row in runnable})
        active = {eid: x for eid, x in found.items() if x.status in ACTIVE_EXECUTION}
        return [row.id for row in runnable], active, await rows.load_steps(self.conn, active)

    async def write(
        self,
        executions: Iterable[ExecutionRow],
        runs: Iterable[StepRow],
        events: Sequence[NewEvent],
        notifications: Iterable[str] = (),
    ) -> None:
        """Changed rows written back (each checked against its version), events appended."""
        await rows.save(self.conn, self.forget_written(executions), runs)
        await rows.insert_events(self.conn, events)

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
        """A new execution, its steps and events (the version check is a read first)."""
        if of_current_version and (
            execution.pipeline_id is None
            or await self.pipeline_version(execution.pipeline_id) != execution.pipeline_version
        ):
            raise StaleDataError("the pipeline has a newer version")
        await rows.insert_execution(self.conn, execution, definition, runs)
        await rows.insert_events(self.conn, events)
