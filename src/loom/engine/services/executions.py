"""Executions: start, list, get, steps, events, progress, cancel, retry."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from loom.engine.actions.base import ActionRegistry
from loom.engine.db.models import Event, Execution, StepRun, utcnow
from loom.engine.definitions import ParameterError, PipelineDefinition, bind_parameters
from loom.engine.scheduler.dag import (
    RETRYABLE_SKIPS,
    TERMINAL_EXECUTION,
    TERMINAL_STEP,
    advance,
    new_event,
    stop_execution,
)
from loom.engine.services.errors import ConflictError, InvalidInputError, Issue, NotFoundError
from loom.engine.services.pipelines import get_pipeline, require_valid

ClaimHook = Callable[[Execution, list[StepRun], list[StepRun], datetime, list[Event]], object]
EXECUTION_STATUSES = ("pending", "running", "completed", "failed", "cancelled")
_DEFINITION_CACHE: OrderedDict[str, PipelineDefinition] = OrderedDict()
_DEFINITION_CACHE_SIZE = 2048


_VERSION_CACHE: OrderedDict[tuple[str, int], PipelineDefinition] = OrderedDict()


def _stored_definition(
    pipeline_id: str, version: int, data: Mapping[str, Any]
) -> PipelineDefinition:
    """A stored version's parsed definition (versions are immutable, so it is cached)."""
    key = (pipeline_id, version)
    cached = _VERSION_CACHE.get(key)
    if cached is None:
        cached = PipelineDefinition.model_validate(data)
        _VERSION_CACHE[key] = cached
        if len(_VERSION_CACHE) > 256:
            _VERSION_CACHE.popitem(last=False)
    return cached


def cached_definition(execution_id: str) -> PipelineDefinition | None:
    """The parsed definition of an execution if this process has it at hand."""
    return _DEFINITION_CACHE.get(execution_id)


def definition_of(execution_id: str, data: Mapping[str, Any]) -> PipelineDefinition:
    """The parsed definition of an execution (cached: an execution's definition never changes)."""
    cached = _DEFINITION_CACHE.get(execution_id)
    if cached is not None:
        _DEFINITION_CACHE.move_to_end(execution_id)
        return cached
    defn = PipelineDefinition.model_validate(data)
    _DEFINITION_CACHE[execution_id] = defn
    if len(_DEFINITION_CACHE) > _DEFINITION_CACHE_SIZE:
        _DEFINITION_CACHE.popitem(last=False)
    return defn


def deadline_after(now: datetime, timeout_seconds: float | None) -> datetime | None:
    """``now + timeout``; no deadline when there is no timeout or it is beyond year 9999."""
    if not timeout_seconds:
        return None
    try:
        return now + timedelta(seconds=timeout_seconds)
    except OverflowError:
        return None


@dataclass(frozen=True, slots=True)
class ExecutionFilter:
    """Filters of the execution list."""

    pipeline_id: str | None = None
    status: str | None = None
    initiator: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """How far an execution is."""

    percent: float
    completed_steps: int
    total_steps: int
    current_steps: list[str]
    eta_seconds: float | None


async def start_execution(
    session: AsyncSession,
    *,
    registry: ActionRegistry,
    pipeline_id: str | None,
    definition: object | None,
    params: Mapping[str, Any] | None,
    initiator: str | None,
    callback_topics: Sequence[str] = (),
    correlation_id: str | None = None,
    claim_ready: ClaimHook | None = None,
) -> Execution:
    """Create an execution of a stored pipeline (its current version) or of an inline definition.

    ``claim_ready`` lets the engine process that serves the request claim the first runnable
    steps in the creating transaction (see ``Scheduler.claim_new``).

    Raises:
        NotFoundError: the pipeline does not exist.
        InvalidInputError: both or neither of pipeline and definition given, a draft, an
            invalid inline definition, or parameters that do not match the declaration.
    """
    if (pipeline_id is None) == (definition is None):
        raise InvalidInputError(
            "give exactly one of pipeline_id and definition",
            issues=[Issue("/pipeline_id", "give exactly one of pipeline_id and definition")],
        )
    version: int | None = None
    definition_data: dict[str, Any] | None = None
    if pipeline_id is not None:
        stored = await get_pipeline(session, pipeline_id)
        version = stored.pipeline.current_version
        defn = _stored_definition(pipeline_id, version, stored.definition)
        definition_data = stored.definition
        pointer = "/pipeline_id"
    else:
        try:
            defn = require_valid(definition, registry)
        except InvalidInputError as exc:
            raise InvalidInputError(
                exc.detail,
                issues=[Issue(f"/definition{i.pointer}", i.message, i.code) for i in exc.issues],
            ) from None
        pointer = "/definition/steps"
    if defn.is_draft:
        raise InvalidInputError(
            "the pipeline is a draft (it has no steps); add steps before running it",
            issues=[Issue(pointer, "a draft pipeline cannot run", "draft")],
        )
    try:
        bound = bind_parameters(defn, params or {})
    except ParameterError as exc:
        raise InvalidInputError(
            "the parameters do not match the pipeline's declaration",
            issues=[Issue(f"/params{p}", m, "parameter") for p, m in exc.errors],
        ) from None
    now = utcnow()
    timeout = defn.settings.timeout_seconds
    execution = Execution(
        id=str(uuid.uuid4()),
        pipeline_id=pipeline_id,
        pipeline_version=version,
        pipeline_name=defn.name,
        definition=definition_data or defn.model_dump(mode="json"),
        params=bound,
        initiator=initiator,
        callback_topics=list(callback_topics),
        status="pending",
        outputs=None,
        error=None,
        progress_percent=0.0,
        max_parallel_steps=defn.settings.max_parallel_steps,
        correlation_id=correlation_id,
        created_at=now,
        deadline_at=deadline_after(now, timeout),
    )
    _DEFINITION_CACHE[execution.id] = defn
    runs = [
        StepRun(
            id=str(uuid.uuid4()),
            execution_id=execution.id,
            step_id=step.id,
            position=index,
            status="pending",
            attempt=0,
            action=step.action,
            weight=step.weight,
        )
        for index, step in enumerate(defn.steps)
    ]
    events = [
        new_event(execution.id, "execution_created", f"execution of {defn.name!r} created", now)
    ]
    ready = advance(execution, defn, runs, now=now, events=events)
    if ready and claim_ready is not None:
        claim_ready(execution, runs, ready, now, events)
    session.add(execution)
    await session.flush()
    session.add_all(runs)
    session.add_all(events)
    await session.flush()
    return execution


async def list_executions(
    session: AsyncSession, flt: ExecutionFilter, *, page: int, page_size: int
) -> tuple[list[Execution], int]:
    """One page of executions (newest first) and the total count."""
    conditions: list[sa.ColumnElement[bool]] = []
    if flt.pipeline_id:
        conditions.append(Execution.pipeline_id == flt.pipeline_id)
    if flt.status:
        conditions.append(Execution.status == flt.status)
    if flt.initiator:
        conditions.append(Execution.initiator == flt.initiator)
    if flt.created_after:
        conditions.append(Execution.created_at >= flt.created_after)
    if flt.created_before:
        conditions.append(Execution.created_at < flt.created_before)
    total = int(
        (
            await session.execute(
                sa.select(sa.func.count()).select_from(Execution).where(*conditions)
            )
        ).scalar_one()
    )
    rows = await session.execute(
        sa.select(Execution)
        .where(*conditions)
        .order_by(Execution.created_at.desc(), Execution.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows.scalars()), total


async def get_execution(
    session: AsyncSession, execution_id: str, *, for_update: bool = False
) -> Execution:
    """One execution.

    Raises:
        NotFoundError: no such execution.
    """
    execution = await session.get(Execution, execution_id, with_for_update=for_update)
    if execution is None:
        raise NotFoundError(f"execution {execution_id!r} does not exist")
    return execution


async def list_steps(session: AsyncSession, execution_id: str) -> list[StepRun]:
    """The steps of an execution, in definition order."""
    await get_execution(session, execution_id)
    rows = await session.execute(
        sa.select(StepRun).where(StepRun.execution_id == execution_id).order_by(StepRun.position)
    )
    return list(rows.scalars())


async def list_events(
    session: AsyncSession, execution_id: str, *, page: int, page_size: int
) -> tuple[list[Event], int]:
    """One page of an execution's timeline (oldest first) and the total count."""
    await get_execution(session, execution_id)
    total = int(
        (
            await session.execute(
                sa.select(sa.func.count())
                .select_from(Event)
                .where(Event.execution_id == execution_id)
            )
        ).scalar_one()
    )
    rows = await session.execute(
        sa.select(Event)
        .where(Event.execution_id == execution_id)
        .order_by(Event.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows.scalars()), total


def compute_progress(execution: Execution, runs: Sequence[StepRun], *, now: datetime) -> Progress:
    """Progress of an execution: weighted percentage, current steps and an ETA.

    The ETA is the mean duration of the finished steps times the steps left, divided by the
    parallelism the pipeline allows; there is none before a step has finished.
    """
    done = [run for run in runs if run.status in TERMINAL_STEP]
    durations = [
        (run.finished_at - run.started_at).total_seconds()
        for run in runs
        if run.status == "completed" and run.finished_at and run.started_at
    ]
    remaining = len(runs) - len(done)
    eta: float | None = None
    if execution.status in TERMINAL_EXECUTION:
        eta = 0.0
    elif durations:
        lanes = max(1, min(execution.max_parallel_steps, remaining))
        eta = round(sum(durations) / len(durations) * remaining / lanes, 3)
    return Progress(
        percent=execution.progress_percent,
        completed_steps=len(done),
        total_steps=len(runs),
        current_steps=[run.step_id for run in runs if run.status == "running"],
        eta_seconds=eta,
    )


async def _locked_runs(session: AsyncSession, execution_id: str) -> list[StepRun]:
    rows = await session.execute(
        sa.select(StepRun)
        .where(StepRun.execution_id == execution_id)
        .order_by(StepRun.position)
        .with_for_update()
    )
    return list(rows.scalars())


async def cancel_execution(session: AsyncSession, execution_id: str) -> Execution:
    """Cancel: running steps are cancelled, waiting ones skipped.

    Raises:
        NotFoundError: no such execution.
        ConflictError: it already finished.
    """
    execution = await get_execution(session, execution_id, for_update=True)
    if execution.status in TERMINAL_EXECUTION:
        raise ConflictError(f"execution {execution_id!r} is already {execution.status}")
    runs = await _locked_runs(session, execution_id)
    events: list[Event] = []
    stop_execution(
        execution,
        runs,
        status="cancelled",
        reason="cancelled",
        message="cancelled by request",
        now=utcnow(),
        events=events,
    )
    session.add_all(events)
    await session.flush()
    return execution


async def retry_execution(session: AsyncSession, execution_id: str) -> Execution:
    """Re-run the failed and cancelled steps and what depends on them; completed steps keep
    their outputs.

    Raises:
        NotFoundError: no such execution.
        ConflictError: the execution is not failed or cancelled.
    """
    execution = await get_execution(session, execution_id, for_update=True)
    if execution.status not in {"failed", "cancelled"}:
        raise ConflictError(
            f"execution {execution_id!r} is {execution.status}; only failed or cancelled "
            "executions can be retried"
        )
    defn = definition_of(execution.id, execution.definition)
    runs = await _locked_runs(session, execution_id)
    now = utcnow()
    reset = 0
    for run in runs:
        if run.status in {"failed", "cancelled"} or (
            run.status == "skipped" and run.skip_reason in RETRYABLE_SKIPS
        ):
            run.status = "pending"
            run.attempt = 0
            run.outputs = None
            run.error = None
            run.skip_reason = None
            run.ready_at = None
            run.runnable_since = None
            run.started_at = None
            run.finished_at = None
            run.lease_owner = None
            run.lease_expires_at = None
            run.resume_state = None
            reset += 1
    timeout = defn.settings.timeout_seconds
    execution.status = "running"
    execution.error = None
    execution.outputs = None
    execution.finished_at = None
    execution.deadline_at = deadline_after(now, timeout)
    events = [new_event(execution.id, "execution_retried", f"retrying {reset} step(s)", now)]
    advance(execution, defn, runs, now=now, events=events)
    session.add_all(events)
    await session.flush()
    return execution
