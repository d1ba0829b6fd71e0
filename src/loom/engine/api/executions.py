"""Routes of ``/v1/executions``."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from loom.engine import metrics
from loom.engine.api.deps import Runtime, reject_nul, reject_nul_params, require_id
from loom.engine.api.problems import problem_responses
from loom.engine.api.schemas import (
    EventPage,
    EventRead,
    ExecutionCreate,
    ExecutionPage,
    ExecutionRead,
    ProgressRead,
    StepList,
    StepRead,
)
from loom.engine.db.models import utcnow
from loom.engine.db.rows import ExecutionRow, StepRow
from loom.engine.domain import TERMINAL_EXECUTION, ExecutionStatus
from loom.engine.logging import correlation_id
from loom.engine.services import executions as service
from loom.engine.services.errors import Issue, NotFoundError

router = APIRouter(prefix="/v1/executions", tags=["executions"])

ExecutionId = Annotated[str, Path(max_length=64)]


def _read(e: ExecutionRow, runtime: Runtime) -> ExecutionRead:
    return ExecutionRead(
        id=e.id,
        pipeline_id=e.pipeline_id,
        pipeline_version=e.pipeline_version,
        pipeline_name=e.pipeline_name,
        status=e.status,
        params=runtime.mask(e.params),
        initiator=e.initiator,
        callback_topics=e.callback_topics,
        outputs=runtime.mask(e.outputs),
        error=e.error,
        progress_percent=e.progress_percent,
        created_at=e.created_at,
        started_at=e.started_at,
        finished_at=e.finished_at,
    )


def _step(run: StepRow, runtime: Runtime, now: datetime) -> StepRead:
    return StepRead(
        step_id=run.step_id,
        action=run.action,
        status=service.step_state(run, now),
        attempt=run.attempt,
        outputs=runtime.mask(run.outputs),
        error=run.error,
        skip_reason=run.skip_reason,
        weight=run.weight,
        ready_at=run.ready_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )


@router.post(
    "",
    status_code=201,
    operation_id="createExecution",
    summary="Start an execution",
    responses=problem_responses(400, 404, 422),
)
async def create_execution(
    body: ExecutionCreate,
    request: Request,
    runtime: Runtime,
    wait_seconds: Annotated[
        float,
        Query(
            ge=0,
            le=60,
            description="wait up to this long for the execution to end before answering "
            "(start and wait in one request); the answer is the execution as it is then",
        ),
    ] = 0.0,
) -> ExecutionRead:
    """Start an execution of a stored pipeline or of an inline ``definition``."""
    reject_nul(body.model_dump())
    pipeline_id = body.pipeline_id
    if pipeline_id is not None:
        try:
            pipeline_id = require_id(pipeline_id, "pipeline")
        except NotFoundError as exc:
            exc.issues.append(Issue("/pipeline_id", exc.detail, "not_found"))
            raise
    async with runtime.autocommit() as tx:
        started = await service.start_execution(
            tx,
            registry=runtime.registry,
            pipeline_id=pipeline_id,
            definition=body.definition,
            params=body.params,
            initiator=body.initiator,
            callback_topics=body.callback_topics,
            correlation_id=correlation_id.get(),
            claimer=runtime.scheduler,
        )
    metrics.EXECUTIONS_STARTED.inc()
    execution = started.execution
    # Read now: from here on the scheduler owns the rows and changes them as steps finish.
    answer = _read(execution, runtime)
    runtime.after_commit(started)
    if wait_seconds > 0 and execution.status not in TERMINAL_EXECUTION:
        return await _until_ended(runtime, execution.id, wait_seconds, known=answer)
    return answer


@router.get(
    "", operation_id="listExecutions", summary="List executions", responses=problem_responses(422)
)
async def list_executions(
    runtime: Runtime,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    pipeline_id: Annotated[str | None, Query(max_length=64)] = None,
    status: ExecutionStatus | None = None,
    initiator: Annotated[str | None, Query(max_length=200)] = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> ExecutionPage:
    """A page of executions, newest first, filtered by pipeline, status, initiator, time."""
    reject_nul_params(pipeline_id=pipeline_id, initiator=initiator)
    flt = service.ExecutionFilter(
        pipeline_id=pipeline_id,
        status=status,
        initiator=initiator,
        created_after=created_after,
        created_before=created_before,
    )
    async with runtime.read() as conn:
        items, total = await service.list_executions(conn, flt, page=page, page_size=page_size)
    return ExecutionPage(
        items=[_read(e, runtime) for e in items], page=page, page_size=page_size, total=total
    )


@router.get(
    "/{execution_id}",
    operation_id="getExecution",
    summary="Get an execution",
    responses=problem_responses(404, 422),
)
async def get_execution(
    execution_id: ExecutionId,
    runtime: Runtime,
    wait_seconds: Annotated[
        float,
        Query(ge=0, le=60, description="wait up to this long for the execution to end"),
    ] = 0.0,
) -> ExecutionRead:
    """One execution; with ``wait_seconds``, answer as soon as it ends (long poll)."""
    return await _until_ended(runtime, require_id(execution_id, "execution"), wait_seconds)


async def _until_ended(
    runtime: Runtime, eid: str, wait_seconds: float, *, known: ExecutionRead | None = None
) -> ExecutionRead:
    """The execution as soon as it ends, or as it is after ``wait_seconds``.

    Woken at once when this process finishes it, or another one does and says so (PostgreSQL
    ``NOTIFY``); re-read at the poll interval in case a wake-up was lost. ``known``: the
    execution as this request just committed it (start-and-wait), which needs no first read:
    the waiter is registered before anything else runs in this process, and an end announced
    by another process in between is caught by the poll.
    """
    deadline = time.monotonic() + wait_seconds
    interval = max(runtime.settings.poll_interval_seconds, 0.01)
    while True:
        async with runtime.watching(eid) as ended:
            if known is not None:
                current, known = known, None
            else:
                execution = await service.read_execution(runtime.require_database(), eid)
                current = _read(execution, runtime)
            left = deadline - time.monotonic()
            if current.status in TERMINAL_EXECUTION or left <= 0:
                return current
            await asyncio.wait((ended,), timeout=min(left, interval))
            if ended.done() and (committed := ended.result()) is not None:
                return _read(committed, runtime)


@router.get(
    "/{execution_id}/progress",
    operation_id="getExecutionProgress",
    summary="Progress of an execution",
    responses=problem_responses(404, 422),
)
async def get_progress(execution_id: ExecutionId, runtime: Runtime) -> ProgressRead:
    """Weighted percentage (never decreasing), current steps and an ETA."""
    eid = require_id(execution_id, "execution")
    async with runtime.read() as conn:
        execution = await service.get_execution(conn, eid)
        runs = await service.list_steps(conn, eid)
    progress = service.compute_progress(execution, runs, now=utcnow())
    return ProgressRead(
        execution_id=execution.id,
        status=execution.status,
        percent=progress.percent,
        completed_steps=progress.completed_steps,
        total_steps=progress.total_steps,
        current_steps=progress.current_steps,
        eta_seconds=progress.eta_seconds,
    )


@router.get(
    "/{execution_id}/steps",
    operation_id="listExecutionSteps",
    summary="Steps of an execution",
    responses=problem_responses(404, 422),
)
async def list_steps(
    execution_id: ExecutionId,
    runtime: Runtime,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> StepList:
    """Status, attempts, outputs, errors and timing of the steps, in definition order."""
    eid = require_id(execution_id, "execution")
    async with runtime.read() as conn:
        runs = await service.list_steps(conn, eid)
    now = utcnow()
    start = (page - 1) * page_size
    return StepList(
        items=[_step(r, runtime, now) for r in runs[start : start + page_size]],
        page=page,
        page_size=page_size,
        total=len(runs),
    )


@router.get(
    "/{execution_id}/events",
    operation_id="listExecutionEvents",
    summary="Timeline of an execution",
    responses=problem_responses(404, 422),
)
async def list_events(
    execution_id: ExecutionId,
    runtime: Runtime,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventPage:
    """A page of the execution's events, oldest first."""
    eid = require_id(execution_id, "execution")
    async with runtime.read() as conn:
        events, total = await service.list_events(conn, eid, page=page, page_size=page_size)
    return EventPage(
        items=[
            EventRead(
                id=ev.id,
                step_id=ev.step_id,
                kind=ev.kind,
                message=ev.message,
                data=runtime.mask(ev.data),
                created_at=ev.created_at,
            )
            for ev in events
        ],
        page=page,
        page_size=page_size,
        total=total,
    )


@router.post(
    "/{execution_id}/cancel",
    operation_id="cancelExecution",
    summary="Cancel an execution",
    responses=problem_responses(404, 409, 422),
)
async def cancel_execution(execution_id: ExecutionId, runtime: Runtime) -> ExecutionRead:
    """Running steps are cancelled, pending ones skipped."""
    eid = require_id(execution_id, "execution")
    async with runtime.begin() as tx:
        cancelled = await service.cancel_execution(tx, eid)
    runtime.after_commit(cancelled)
    return _read(cancelled.execution, runtime)


@router.post(
    "/{execution_id}/retry",
    operation_id="retryExecution",
    summary="Retry a failed or cancelled execution",
    responses=problem_responses(404, 409, 422),
)
async def retry_execution(execution_id: ExecutionId, runtime: Runtime) -> ExecutionRead:
    """Re-run failed and cancelled steps and what depends on them; keep completed outputs."""
    eid = require_id(execution_id, "execution")
    async with runtime.begin() as tx:
        retried = await service.retry_execution(tx, eid)
    runtime.after_commit(retried)
    return _read(retried.execution, runtime)
