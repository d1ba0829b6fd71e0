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

from loom.engine.db import postgres
from loom.engine.db.rows import EVENTS, EXECUTIONS, STEP_RUNS, ExecutionRow, NewEvent, StepRow
from loom.engine.db.store import Tx
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


async def claim_runnable(
    tx: Tx, *, owner: str, limit: int, lease_seconds: float, now: datetime
) -> list[Claim]:
    """Claim up to ``limit`` runnable steps for ``owner`` (inside the transaction ``tx``).

    On PostgreSQL in three statements sent to asyncpg directly: the runnable steps and then
    their active executions (with all their steps) locked with ``SKIP LOCKED``, the claim
    decided in memory by :func:`claim_in_transaction` (the rule of the claims made when a step
    becomes runnable), and one version-checked write of the claimed rows and their events.
    On SQLite, :func:`claim_steps`.
    """
    if tx.raw is None:
        return await claim_steps(
            tx.conn, owner=owner, limit=limit, lease_seconds=lease_seconds, now=now
        )
    runnable, executions, runs_of = await postgres.lock_runnable(tx.raw, now=now, limit=limit)
    order = {run_id: index for index, run_id in enumerate(runnable)}
    claims: list[Claim] = []
    events: list[NewEvent] = []
    claimed: list[str] = []
    for execution_id, execution in executions.items():
        runs = runs_of[execution_id]
        ready = sorted(
            (run for run in runs if run.id in order and run.status == "pending"),
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


async def claim_steps(
    conn: AsyncConnection, *, owner: str, limit: int, lease_seconds: float, now: datetime
) -> list[Claim]:
    """Claim up to ``limit`` runnable steps for ``owner`` (inside the caller's transaction),
    with SQLAlchemy Core statements (the SQLite path of :func:`claim_runnable`)."""
    sr = STEP_RUNS.c
    ex = EXECUTIONS.c
    candidates = (
        await conn.execute(
            sa.select(sr.id, sr.execution_id)
            .where(sr.status == "pending", sr.ready_at <= now)
            .order_by(sr.ready_at)
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
            await conn.execute(
                sa.select(
                    ex.id,
                    ex.status,
                    ex.max_parallel_steps,
                    ex.params,
                    ex.initiator,
                    ex.pipeline_name,
                    ex.deadline_at,
                    ex.correlation_id,
                )
                .where(ex.id.in_(execution_ids), ex.status.in_(ACTIVE_EXECUTION))
                .with_for_update(skip_locked=True)
            )
        ).all()
    }
    if not executions:
        return []
    running: dict[str, int] = {
        execution_id: int(count)
        for execution_id, count in (
            await conn.execute(
                sa.select(sr.execution_id, sa.func.count())
                .where(sr.execution_id.in_(executions), sr.status == "running")
                .group_by(sr.execution_id)
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
        await conn.execute(
            sa.update(STEP_RUNS)
            .where(sr.id.in_(admitted))
            .values(
                status="running",
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                started_at=now,
                attempt=sa.case(
                    (sr.resume_state.is_(None), sr.attempt + 1),
                    else_=sr.attempt,
                ),
                row_version=sr.row_version + 1,
            )
            .returning(
                sr.id,
                sr.execution_id,
                sr.step_id,
                sr.attempt,
                sr.resume_state,
                sr.runnable_since,
            )
        )
    ).all()
    claimed_executions = sorted({row.execution_id for row in claimed})
    # Every claimed execution gets a new version, not only those that start now: the version
    # is what an optimistic writer of the execution's steps checks (Database.commit).
    pending = ex.status == "pending"
    await conn.execute(
        sa.update(EXECUTIONS)
        .where(ex.id.in_(claimed_executions))
        .values(
            status=sa.case((pending, "running"), else_=ex.status),
            started_at=sa.case((pending, now), else_=ex.started_at),
            row_version=ex.row_version + 1,
        )
    )
    started = [eid for eid in claimed_executions if executions[eid].status == "pending"]
    step_states: dict[str, dict[str, Any]] = {eid: {} for eid in claimed_executions}
    for row in (
        await conn.execute(
            sa.select(
                sr.execution_id,
                sr.step_id,
                sr.status,
                sr.outputs,
                sr.error,
            ).where(sr.execution_id.in_(claimed_executions))
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
    await conn.execute(sa.insert(EVENTS), events)
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


async def count_runnable(conn: AsyncConnection, *, now: datetime) -> int:
    """Steps that are runnable now and not claimed yet."""
    return int(
        (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(STEP_RUNS)
                .where(STEP_RUNS.c.status == "pending", STEP_RUNS.c.ready_at <= now)
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
                f"step started (attempt {run.attempt})"
                + (" resuming" if run.resume_state is not None else ""),
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
