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
from sqlalchemy.ext.asyncio import AsyncSession

from loom.engine.db.models import Event, Execution, StepRun
from loom.engine.scheduler.dag import new_event, template_context

ACTIVE_EXECUTION = ("pending", "running")


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


async def claim_steps(
    session: AsyncSession, *, owner: str, limit: int, lease_seconds: float, now: datetime
) -> list[Claim]:
    """Claim up to ``limit`` runnable steps for ``owner`` (inside the caller's transaction)."""
    candidates = (
        await session.execute(
            sa.select(StepRun.id, StepRun.execution_id)
            .where(StepRun.status == "pending", StepRun.ready_at <= now)
            .order_by(StepRun.ready_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not candidates:
        return []
    execution_ids = sorted({row.execution_id for row in candidates})
    executions = {
        row.id: row
        for row in (
            await session.execute(
                sa.select(
                    Execution.id,
                    Execution.status,
                    Execution.max_parallel_steps,
                    Execution.params,
                    Execution.initiator,
                    Execution.pipeline_name,
                    Execution.deadline_at,
                    Execution.correlation_id,
                )
                .where(Execution.id.in_(execution_ids), Execution.status.in_(ACTIVE_EXECUTION))
                .with_for_update(skip_locked=True)
            )
        ).all()
    }
    if not executions:
        return []
    running: dict[str, int] = {
        execution_id: int(count)
        for execution_id, count in (
            await session.execute(
                sa.select(StepRun.execution_id, sa.func.count())
                .where(StepRun.execution_id.in_(executions), StepRun.status == "running")
                .group_by(StepRun.execution_id)
            )
        ).all()
    }
    admitted: list[str] = []
    for row in candidates:
        execution = executions.get(row.execution_id)
        if execution is None:
            continue
        used = running.get(row.execution_id, 0)
        if used >= execution.max_parallel_steps:
            continue
        running[row.execution_id] = used + 1
        admitted.append(row.id)
    if not admitted:
        return []
    claimed = (
        await session.execute(
            sa.update(StepRun)
            .where(StepRun.id.in_(admitted))
            .values(
                status="running",
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                started_at=now,
                attempt=sa.case(
                    (StepRun.resume_state.is_(None), StepRun.attempt + 1),
                    else_=StepRun.attempt,
                ),
                row_version=StepRun.row_version + 1,
            )
            .returning(
                StepRun.id,
                StepRun.execution_id,
                StepRun.step_id,
                StepRun.attempt,
                StepRun.resume_state,
                StepRun.runnable_since,
            )
            .execution_options(synchronize_session=False)
        )
    ).all()
    claimed_executions = sorted({row.execution_id for row in claimed})
    started = (
        (
            await session.execute(
                sa.update(Execution)
                .where(Execution.id.in_(claimed_executions), Execution.status == "pending")
                .values(status="running", started_at=now, row_version=Execution.row_version + 1)
                .returning(Execution.id)
                .execution_options(synchronize_session=False)
            )
        )
        .scalars()
        .all()
    )
    step_states: dict[str, dict[str, Any]] = {eid: {} for eid in claimed_executions}
    for row in (
        await session.execute(
            sa.select(
                StepRun.execution_id,
                StepRun.step_id,
                StepRun.status,
                StepRun.outputs,
                StepRun.error,
            ).where(StepRun.execution_id.in_(claimed_executions))
        )
    ).all():
        step_states[row.execution_id][row.step_id] = {
            "outputs": row.outputs or {},
            "status": row.status,
            "error": row.error,
        }
    events: list[dict[str, Any]] = [
        {
            "execution_id": eid,
            "step_id": None,
            "kind": "execution_started",
            "message": "execution started",
            "data": None,
            "created_at": now,
        }
        for eid in started
    ]
    events.extend(
        {
            "execution_id": row.execution_id,
            "step_id": row.step_id,
            "kind": "step_started",
            "message": f"step started (attempt {row.attempt})"
            + (" resuming" if row.resume_state is not None else ""),
            "data": {"attempt": row.attempt, "owner": owner},
            "created_at": now,
        }
        for row in claimed
    )
    await session.execute(sa.insert(Event), events)
    result: list[Claim] = []
    for row in claimed:
        execution = executions[row.execution_id]
        result.append(
            Claim(
                run_id=row.id,
                execution_id=row.execution_id,
                step_id=row.step_id,
                attempt=row.attempt,
                resume_state=row.resume_state,
                runnable_since=row.runnable_since,
                deadline_at=execution.deadline_at,
                correlation_id=execution.correlation_id,
                context={
                    "params": execution.params,
                    "steps": step_states[row.execution_id],
                    "execution": {
                        "id": execution.id,
                        "pipeline": execution.pipeline_name,
                        "initiator": execution.initiator,
                    },
                },
            )
        )
    return result


async def count_runnable(session: AsyncSession, *, now: datetime) -> int:
    """Steps that are runnable now and not claimed yet."""
    return int(
        (
            await session.execute(
                sa.select(sa.func.count())
                .select_from(StepRun)
                .where(StepRun.status == "pending", StepRun.ready_at <= now)
            )
        ).scalar_one()
    )


def claim_in_transaction(
    execution: Execution,
    runs: list[StepRun],
    ready: list[StepRun],
    now: datetime,
    events: list[Event],
    *,
    owner: str,
    lease_seconds: float,
    capacity: int,
) -> list[Claim]:
    """Claim steps that just became runnable, in the transaction that made them so.

    The caller holds the execution row's lock, so the per-execution parallelism is exact;
    this saves a claim round trip and the poll delay for every step after the first.
    """
    running = sum(1 for r in runs if r.status == "running")
    limit = min(capacity, execution.max_parallel_steps - running)
    if limit <= 0:
        return []
    chosen = ready[:limit]
    lease_until = now + timedelta(seconds=lease_seconds)
    for run in chosen:
        run.status = "running"
        run.lease_owner = owner
        run.lease_expires_at = lease_until
        run.started_at = now
        if run.resume_state is None:
            run.attempt += 1
        events.append(
            new_event(
                run.execution_id,
                "step_started",
                f"step started (attempt {run.attempt})",
                now,
                step_id=run.step_id,
                data={"attempt": run.attempt, "owner": owner},
            )
        )
    if execution.status == "pending":
        execution.status = "running"
        execution.started_at = now
        events.append(new_event(execution.id, "execution_started", "execution started", now))
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
