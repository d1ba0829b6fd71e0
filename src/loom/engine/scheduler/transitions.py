"""Recording the outcome of one attempt on its step row."""

from __future__ import annotations

from datetime import datetime, timedelta

from loom.engine.actions.base import ActionRegistry
from loom.engine.db import notify
from loom.engine.db.rows import ExecutionRow, NewEvent, StepRow
from loom.engine.db.tx import Tx
from loom.engine.definitions import PipelineDefinition
from loom.engine.domain import (
    TERMINAL_EXECUTION,
    EventKind,
    ExecutionStatus,
    SkipReason,
    StepStatus,
)
from loom.engine.scheduler.dag import new_event, skip_step, stop_execution
from loom.engine.scheduler.outcomes import Completed, Failed, LeaseExpired, Outcome, Suspended

MAX_DELAY_SECONDS = 366 * 86400.0


def apply_outcome(
    run: StepRow,
    runs: list[StepRow],
    defn: PipelineDefinition,
    outcome: Outcome,
    now: datetime,
    events: list[NewEvent],
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
        run.status = StepStatus.COMPLETED
        run.outputs = outcome.outputs
        run.error = None
        run.finished_at = now
        run.resume_state = None
        events.append(
            new_event(
                run.execution_id,
                EventKind.STEP_COMPLETED,
                "step completed",
                now,
                step_id=run.step_id,
            )
        )
        for other in runs:
            if other.step_id in outcome.skip_steps and other.status == StepStatus.PENDING:
                skip_step(
                    other,
                    SkipReason.BRANCH,
                    f"skipped: branch not taken by {run.step_id!r}",
                    now,
                    events,
                )
        return
    if isinstance(outcome, Suspended):
        run.status = StepStatus.PENDING
        run.ready_at = outcome.resume_at
        run.runnable_since = outcome.resume_at
        run.resume_state = outcome.state
        events.append(
            new_event(
                run.execution_id,
                EventKind.STEP_SUSPENDED,
                f"step waits until {outcome.resume_at.isoformat()}",
                now,
                step_id=run.step_id,
            )
        )
        return
    if isinstance(outcome, LeaseExpired):
        action = registry.get(run.action)
        if action is not None and action.idempotent:
            run.status = StepStatus.PENDING
            run.ready_at = now
            run.runnable_since = now
            events.append(
                new_event(
                    run.execution_id,
                    EventKind.STEP_RECOVERED,
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
    tries = run.attempt - run.attempts_before_retry  # the policy counts since the last retry
    if outcome.retryable and retry is not None and tries < retry.max_attempts:
        delay = min(retry.delay_seconds(tries), MAX_DELAY_SECONDS)
        run.status = StepStatus.PENDING
        run.error = outcome.message
        run.ready_at = now + timedelta(seconds=delay)
        run.runnable_since = run.ready_at
        run.resume_state = None
        events.append(
            new_event(
                run.execution_id,
                EventKind.STEP_RETRYING,
                f"attempt {run.attempt} failed: {outcome.message}; retrying in {delay:g} s",
                now,
                step_id=run.step_id,
                data={"attempt": run.attempt, "delay_seconds": delay},
            )
        )
        return
    run.status = StepStatus.FAILED
    run.error = outcome.message
    run.finished_at = now
    run.resume_state = None
    events.append(
        new_event(
            run.execution_id, EventKind.STEP_FAILED, outcome.message, now, step_id=run.step_id
        )
    )


async def time_out_execution(tx: Tx, execution_id: str, now: datetime) -> ExecutionRow | None:
    """Fail an execution past its deadline (running steps cancelled, waiting ones skipped).

    Returns:
        The execution, now failed; ``None`` when it had already ended.
    """
    executions, runs_of = await tx.lock([execution_id])
    execution = executions.get(execution_id)
    if execution is None or execution.status in TERMINAL_EXECUTION:
        return None
    runs = runs_of[execution_id]
    defn = await tx.definition(execution_id)
    events: list[NewEvent] = []
    stop_execution(
        execution,
        runs,
        status=ExecutionStatus.FAILED,
        reason=SkipReason.TIMEOUT,
        message=f"the execution timed out after {defn.settings.timeout_seconds:g} s",
        now=now,
        events=events,
    )
    await tx.write([execution], runs, events, [notify.finished(execution.id, execution.status)])
    return execution
