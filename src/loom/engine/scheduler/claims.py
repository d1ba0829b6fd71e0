"""Claiming runnable steps with a lease.

On PostgreSQL the candidate steps and then their executions are locked with
``FOR UPDATE SKIP LOCKED``: several engine processes share one database and never claim the
same step, and the per-execution ``max_parallel_steps`` is exact because the execution row is
held while its running steps are counted. On SQLite every transaction is ``BEGIN IMMEDIATE``,
which serialises writers the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engine.db.rows import STEP_RUNS, ExecutionRow, NewEvent, StepRow
from loom.engine.db.tx import Tx
from loom.engine.domain import EventKind, ExecutionStatus, StepStatus
from loom.engine.scheduler.dag import new_event, template_context


@dataclass(frozen=True, slots=True)
class Claim:
    """A step this process now owns, with what it needs to run it."""

    run_id: str
    execution_id: str
    step_id: str
    attempt: int
    resume_state: dict[str, Any] | None
    runnable_since: datetime | None
    deadline_at: datetime | None
    correlation_id: str | None
    context: dict[str, Any]


async def claim_runnable(
    tx: Tx, *, owner: str, limit: int, lease_seconds: float, now: datetime
) -> list[Claim]:
    """Claim up to ``limit`` runnable steps for ``owner`` (inside the transaction ``tx``).

    The runnable steps and then their active executions (with all their steps), locked
    (:meth:`Tx.lock_runnable`; on PostgreSQL three statements sent to asyncpg directly), the
    claim decided in memory by :func:`claim_in_transaction` (the rule of the claims made when
    a step becomes runnable), and one version-checked write of the claimed rows and events.
    """
    runnable, executions, runs_of = await tx.lock_runnable(now=now, limit=limit)
    order = {run_id: index for index, run_id in enumerate(runnable)}
    claims: list[Claim] = []
    events: list[NewEvent] = []
    claimed: list[str] = []
    for execution_id, execution in executions.items():
        runs = runs_of[execution_id]
        ready = sorted(
            (run for run in runs if run.id in order and run.status == StepStatus.PENDING),
            key=lambda run: order[run.id],
        )
        made = claim_in_transaction(
            execution,
            runs,
            ready,
            now,
            events,
            owner=owner,
            lease_seconds=lease_seconds,
            capacity=limit - len(claims),
        )
        if made:
            claims.extend(made)
            claimed.append(execution_id)
    if claimed:
        await tx.write(
            [executions[eid] for eid in claimed],
            [run for eid in claimed for run in runs_of[eid]],
            events,
        )
    return claims


async def count_runnable(conn: AsyncConnection, *, now: datetime) -> int:
    """Steps that are runnable now and not claimed yet."""
    return int(
        (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(STEP_RUNS)
                .where(STEP_RUNS.c.status == StepStatus.PENDING, STEP_RUNS.c.ready_at <= now)
            )
        ).scalar_one()
    )


def claim_in_transaction(
    execution: ExecutionRow,
    runs: list[StepRow],
    ready: list[StepRow],
    now: datetime,
    events: list[NewEvent],
    *,
    owner: str,
    lease_seconds: float,
    capacity: int,
) -> list[Claim]:
    """Claim steps that just became runnable, in the transaction that made them so.

    The caller holds the execution row's lock, so the per-execution parallelism is exact;
    this saves a claim round trip and the poll delay for every step after the first.
    """
    running = sum(1 for r in runs if r.status == StepStatus.RUNNING)
    limit = min(capacity, execution.max_parallel_steps - running)
    if limit <= 0:
        return []
    chosen = ready[:limit]
    lease_until = now + timedelta(seconds=lease_seconds)
    for run in chosen:
        run.status = StepStatus.RUNNING
        run.lease_owner = owner
        run.lease_expires_at = lease_until
        run.started_at = now
        if run.resume_state is None:
            run.attempt += 1
        events.append(
            new_event(
                run.execution_id,
                EventKind.STEP_STARTED,
                f"step started (attempt {run.attempt})"
                + (" resuming" if run.resume_state is not None else ""),
                now,
                step_id=run.step_id,
                data={"attempt": run.attempt, "owner": owner},
            )
        )
    if execution.status == ExecutionStatus.PENDING:
        execution.status = ExecutionStatus.RUNNING
        execution.started_at = now
        events.append(
            new_event(execution.id, EventKind.EXECUTION_STARTED, "execution started", now)
        )
    context = template_context(execution, runs)
    return [
        Claim(
            run_id=run.id,
            execution_id=run.execution_id,
            step_id=run.step_id,
            attempt=run.attempt,
            resume_state=run.resume_state,
            runnable_since=run.runnable_since,
            deadline_at=execution.deadline_at,
            correlation_id=execution.correlation_id,
            context=context,
        )
        for run in chosen
    ]
