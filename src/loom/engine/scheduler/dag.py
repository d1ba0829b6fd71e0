"""Advancing one execution: which steps become runnable, which are skipped, when it ends.

Everything here works on rows already loaded (and, on PostgreSQL, locked) by the caller, inside
its transaction; nothing here talks to the database, so the rules are easy to test and are the
same for the API (start, cancel, retry) and the scheduler (step finished, lease expired).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from loom.engine.db.rows import ExecutionRow, NewEvent, StepRow
from loom.engine.db.storable import storable_json, storable_text
from loom.engine.definitions import PipelineDefinition, StepDefinition
from loom.engine.domain import (
    CHOSEN_SKIPS,
    FINISHED_EVENT,
    TERMINAL_EXECUTION,
    TERMINAL_STEP,
    EventKind,
    ExecutionStatus,
    SkipReason,
    StepStatus,
)
from loom.engine.templates import TemplateError, evaluate_condition, render

logger = logging.getLogger(__name__)


def new_event(
    execution_id: str,
    kind: EventKind,
    message: str,
    now: datetime,
    *,
    step_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> NewEvent:
    """A timeline entry (not yet inserted)."""
    return NewEvent(execution_id, kind, message, now, step_id, data)


def template_context(
    execution: ExecutionRow, runs: Iterable[StepRow], *, pipeline_name: str | None = None
) -> dict[str, Any]:
    """The context templates see: ``params``, ``steps``, ``execution``."""
    return {
        "params": execution.params,
        "steps": {
            run.step_id: {"outputs": run.outputs or {}, "status": run.status, "error": run.error}
            for run in runs
        },
        "execution": {
            "id": execution.id,
            "pipeline": pipeline_name or execution.pipeline_name,
            "initiator": execution.initiator,
        },
    }


def is_hard_failure(run: StepRow, step: StepDefinition | None) -> bool:
    """A failed step that fails its execution (``on_failure`` is not ``continue``)."""
    return run.status == StepStatus.FAILED and (step is None or step.on_failure != "continue")


def skip_step(
    run: StepRow, reason: SkipReason, message: str, now: datetime, events: list[NewEvent]
) -> None:
    """Mark a not-yet-finished step skipped."""
    run.status = StepStatus.SKIPPED
    run.skip_reason = reason
    run.error = message
    run.ready_at = None
    run.finished_at = now
    run.lease_owner = None
    run.lease_expires_at = None
    events.append(
        new_event(run.execution_id, EventKind.STEP_SKIPPED, message, now, step_id=run.step_id)
    )


def cancel_running(run: StepRow, message: str, now: datetime, events: list[NewEvent]) -> None:
    """Mark a started step cancelled (a running one's runner notices at its next heartbeat)."""
    run.status = StepStatus.CANCELLED
    run.error = message
    run.ready_at = None
    run.finished_at = now
    run.lease_owner = None
    run.lease_expires_at = None
    events.append(
        new_event(run.execution_id, EventKind.STEP_CANCELLED, message, now, step_id=run.step_id)
    )


def stop_execution(
    execution: ExecutionRow,
    runs: Iterable[StepRow],
    *,
    status: ExecutionStatus,
    reason: SkipReason,
    message: str,
    now: datetime,
    events: list[NewEvent],
) -> None:
    """End an execution early: steps that started (running, or waiting in a ``delay`` or a
    retry's back-off) are cancelled, steps that never started are skipped."""
    for run in runs:
        if run.status == StepStatus.RUNNING or (
            run.status == StepStatus.PENDING and run.attempt > run.attempts_before_retry
        ):
            cancel_running(run, message, now, events)
        elif run.status == StepStatus.PENDING:
            skip_step(run, reason, message, now, events)
    finish_execution(execution, status=status, error=message, now=now, events=events)


def finish_execution(
    execution: ExecutionRow,
    *,
    status: ExecutionStatus,
    error: str | None,
    now: datetime,
    events: list[NewEvent],
    outputs: dict[str, Any] | None = None,
) -> None:
    """Put an execution in a terminal status."""
    execution.status = status
    execution.error = error
    execution.outputs = outputs
    execution.finished_at = now
    if status == ExecutionStatus.COMPLETED:
        execution.progress_percent = 100.0
    events.append(
        new_event(
            execution.id,
            FINISHED_EVENT[status],
            f"execution {status}" + (f": {error}" if error else ""),
            now,
        )
    )


def is_done(run: StepRow) -> bool:
    """Whether a step counts as done for progress: completed, or skipped by the pipeline's
    own choice (a false condition, a branch not taken); a failed, cancelled or blocked step
    is not done, so a failed execution does not read 100 %."""
    return run.status == StepStatus.COMPLETED or (
        run.status == StepStatus.SKIPPED and run.skip_reason in CHOSEN_SKIPS
    )


def update_progress(execution: ExecutionRow, runs: Iterable[StepRow]) -> None:
    """Raise ``progress_percent`` to the weighted share of done steps (never lower it)."""
    total = 0.0
    done = 0.0
    count = 0
    done_count = 0
    for run in runs:
        count += 1
        total += run.weight
        if is_done(run):
            done += run.weight
            done_count += 1
    percent = 100.0 * done / total if total > 0 else 100.0 * done_count / count if count else 100.0
    if not math.isfinite(percent):  # absurd weights (1e308) must not break the JSON answer
        percent = 100.0 * done_count / count if count else 100.0
    percent = round(percent, 2)
    execution.progress_percent = max(execution.progress_percent, percent)


def advance(
    execution: ExecutionRow,
    defn: PipelineDefinition,
    runs: list[StepRow],
    *,
    now: datetime,
    events: list[NewEvent],
) -> list[StepRow]:
    """Move an execution forward after something changed.

    Steps whose dependencies all finished become runnable (``ready_at = now``) or are skipped
    (a dependency was skipped, cancelled or failed hard; their condition is false); with
    ``fail_fast`` a hard failure ends the execution at once; when every step is finished the
    outputs are resolved and the execution completes or fails.

    Args:
        execution: the execution row (locked by the caller on PostgreSQL).
        defn: its definition.
        runs: all its step rows.
        now: the current time.
        events: timeline entries are appended here.

    Returns:
        The steps that became runnable.
    """
    if execution.status in TERMINAL_EXECUTION:
        return []
    by_id = {run.step_id: run for run in runs}
    steps = {step.id: step for step in defn.steps}
    hard_failures = [run for run in runs if is_hard_failure(run, steps.get(run.step_id))]
    if hard_failures and defn.settings.fail_fast:
        first = hard_failures[0]
        stop_execution(
            execution,
            runs,
            status=ExecutionStatus.FAILED,
            reason=SkipReason.FAIL_FAST,
            message=f"step {first.step_id!r} failed: {first.error}",
            now=now,
            events=events,
        )
        update_progress(execution, runs)
        return []
    ready: list[StepRow] = []
    changed = True
    context: dict[str, Any] | None = None
    while changed:
        changed = False
        for step in defn.steps:
            run = by_id.get(step.id)
            if run is None or run.status != StepStatus.PENDING or run.ready_at is not None:
                continue
            deps = [by_id[d] for d in step.depends_on if d in by_id]
            if any(dep.status not in TERMINAL_STEP for dep in deps):
                continue
            blocked = [
                dep
                for dep in deps
                if dep.status in {StepStatus.SKIPPED, StepStatus.CANCELLED}
                or is_hard_failure(dep, steps.get(dep.step_id))
            ]
            changed = True
            if blocked:
                skip_step(
                    run,
                    SkipReason.DEPENDENCY,
                    f"skipped: dependency {blocked[0].step_id!r} is {blocked[0].status}",
                    now,
                    events,
                )
                continue
            if step.condition is not None and step.condition is not True:
                if context is None:
                    context = template_context(execution, runs)
                try:
                    holds = evaluate_condition(step.condition, context)
                except TemplateError as exc:
                    run.status = StepStatus.FAILED
                    message = storable_text(f"condition could not be evaluated: {exc}")
                    run.error = message
                    run.finished_at = now
                    events.append(
                        new_event(
                            execution.id, EventKind.STEP_FAILED, message, now, step_id=run.step_id
                        )
                    )
                    context = None
                    continue
                if not holds:
                    skip_step(run, SkipReason.CONDITION, "skipped: condition is false", now, events)
                    context = None
                    continue
            run.ready_at = now
            run.runnable_since = now
            ready.append(run)
        if changed:
            context = None
            hard_failures = [r for r in runs if is_hard_failure(r, steps.get(r.step_id))]
            if hard_failures and defn.settings.fail_fast:
                return advance(execution, defn, runs, now=now, events=events)
    update_progress(execution, runs)
    if all(run.status in TERMINAL_STEP for run in runs):
        _conclude(execution, defn, runs, now=now, events=events)
    return ready


def _conclude(
    execution: ExecutionRow,
    defn: PipelineDefinition,
    runs: list[StepRow],
    *,
    now: datetime,
    events: list[NewEvent],
) -> None:
    steps = {step.id: step for step in defn.steps}
    failed = [run for run in runs if is_hard_failure(run, steps.get(run.step_id))]
    cancelled = [run for run in runs if run.status == StepStatus.CANCELLED]
    if failed or cancelled:
        culprit = (failed or cancelled)[0]
        finish_execution(
            execution,
            status=ExecutionStatus.FAILED,
            error=f"step {culprit.step_id!r} {culprit.status}: {culprit.error}",
            now=now,
            events=events,
        )
        return
    try:
        outputs = storable_json(resolve_outputs(defn.outputs, template_context(execution, runs)))
    except TemplateError as exc:
        finish_execution(
            execution,
            status=ExecutionStatus.FAILED,
            error=storable_text(f"the pipeline outputs could not be resolved: {exc}"),
            now=now,
            events=events,
        )
        return
    finish_execution(
        execution,
        status=ExecutionStatus.COMPLETED,
        error=None,
        now=now,
        events=events,
        outputs=outputs,
    )


def resolve_outputs(outputs: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """Render the pipeline's ``outputs`` templates."""
    rendered = render(dict(outputs), context)
    return dict(rendered) if isinstance(rendered, Mapping) else {"value": rendered}  # pyright: ignore[reportUnknownArgumentType]
