"""Recording the outcome of one attempt on its step row."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from loom.engine.actions.base import ActionRegistry
from loom.engine.db.models import Event, Execution, StepRun
from loom.engine.definitions import PipelineDefinition
from loom.engine.scheduler.dag import TERMINAL_EXECUTION, new_event, skip_step, stop_execution
from loom.engine.scheduler.outcomes import Completed, Failed, LeaseExpired, Outcome, Suspended
from loom.engine.services.executions import definition_of

MAX_DELAY_SECONDS = 366 * 86400.0


def event_row(event: Event) -> dict[str, Any]:
    """The column values of a not-yet-added event (for a Core executemany)."""
    return {
        "execution_id": event.execution_id,
        "step_id": event.step_id,
        "kind": event.kind,
        "message": event.message,
        "data": event.data,
        "created_at": event.created_at,
    }


def apply_outcome(
    run: StepRun,
    runs: list[StepRun],
    defn: PipelineDefinition,
    outcome: Outcome,
    now: datetime,
    events: list[Event],
    *,
    registry: ActionRegistry,
) -> None:
    """Record one attempt's outcome on its step row (the caller advances the execution).

    Completed: outputs stored, branches not taken skipped. Suspended: back to pending with the
    resume time and state. Lease expired: re-run when the action is idempotent, else failed.
    Failed: retried with back-off while the policy allows, else failed.
    """
    step = defn.step(run.step_id)
    run.lease_owner = None
    run.lease_expires_at = None
    if isinstance(outcome, Completed):
        run.status = "completed"
        run.outputs = outcome.outputs
        run.error = None
        run.finished_at = now
        run.resume_state = None
        events.append(
            new_event(
                run.execution_id, "step_completed", "step completed", now, step_id=run.step_id
            )
        )
        for other in runs:
            if other.step_id in outcome.skip_steps and other.status == "pending":
                skip_step(
                    other,
                    "branch",
                    f"skipped: branch not taken by {run.step_id!r}",
                    now,
                    events,
                )
        return
    if isinstance(outcome, Suspended):
        run.status = "pending"
        run.ready_at = outcome.resume_at
        run.runnable_since = outcome.resume_at
        run.resume_state = outcome.state
        events.append(
            new_event(
                run.execution_id,
                "step_suspended",
                f"step waits until {outcome.resume_at.isoformat()}",
                now,
                step_id=run.step_id,
            )
        )
        return
    if isinstance(outcome, LeaseExpired):
        action = registry.get(run.action)
        if action is not None and action.idempotent:
            run.status = "pending"
            run.ready_at = now
            run.runnable_since = now
            events.append(
                new_event(
                    run.execution_id,
                    "step_recovered",
                    f"the lease of engine {outcome.owner!r} expired; running the step "
                    f"again (action {run.action!r} is idempotent)",
                    now,
                    step_id=run.step_id,
                )
            )
            return
        message = (
            f"the engine running this step ({outcome.owner!r}) stopped before it finished "
            f"(its lease expired); action {run.action!r} is not idempotent, so it was not "
            "run again: check its effect and retry the execution"
        )
        outcome = Failed(message, retryable=False)
    retry = step.effective_retry if step is not None else None
    if outcome.retryable and retry is not None and run.attempt < retry.max_attempts:
        delay = min(retry.delay_seconds(run.attempt), MAX_DELAY_SECONDS)
        run.status = "pending"
        run.error = outcome.message
        run.ready_at = now + timedelta(seconds=delay)
        run.runnable_since = run.ready_at
        run.resume_state = None
        events.append(
            new_event(
                run.execution_id,
                "step_retrying",
                f"attempt {run.attempt} failed: {outcome.message}; retrying in {delay:g} s",
                now,
                step_id=run.step_id,
                data={"attempt": run.attempt, "delay_seconds": delay},
            )
        )
        return
    run.status = "failed"
    run.error = outcome.message
    run.finished_at = now
    run.resume_state = None
    events.append(
        new_event(run.execution_id, "step_failed", outcome.message, now, step_id=run.step_id)
    )


async def time_out_execution(session: AsyncSession, execution_id: str, now: datetime) -> bool:
    """Fail an execution past its deadline (running steps cancelled, waiting ones skipped).

    Returns:
        Whether it was still active and is now failed.
    """
    execution = await session.get(
        Execution, execution_id, with_for_update=True, populate_existing=True
    )
    if execution is None or execution.status in TERMINAL_EXECUTION:
        return False
    runs = list(
        (
            await session.execute(
                sa.select(StepRun)
                .where(StepRun.execution_id == execution_id)
                .execution_options(populate_existing=True)
            )
        ).scalars()
    )
    defn = definition_of(execution.id, execution.definition)
    events: list[Event] = []
    stop_execution(
        execution,
        runs,
        status="failed",
        reason="timeout",
        message=f"the execution timed out after {defn.settings.timeout_seconds:g} s",
        now=now,
        events=events,
    )
    session.add_all(events)
    return True
