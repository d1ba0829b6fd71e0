"""Executions: start, list, get, steps, events, progress, cancel, retry."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm.exc import StaleDataError

from loom.engine.actions.base import ActionRegistry
from loom.engine.db import notify, rows
from loom.engine.db.models import utcnow
from loom.engine.db.rows import (
    EVENTS,
    EXECUTIONS,
    PIPELINE_VERSIONS,
    ExecutionRow,
    NewEvent,
    StepRow,
)
from loom.engine.db.store import Database, Tx
from loom.engine.definitions import ParameterError, PipelineDefinition, bind_parameters
from loom.engine.domain import (
    RETRYABLE_EXECUTION,
    RETRYABLE_SKIPS,
    TERMINAL_EXECUTION,
    TERMINAL_STEP,
    EventKind,
    ExecutionStatus,
    SkipReason,
    StepStatus,
)
from loom.engine.scheduler.dag import (
    advance,
    new_event,
    stop_execution,
)
from loom.engine.services.errors import ConflictError, InvalidInputError, Issue, NotFoundError
from loom.engine.services.pipelines import require_valid

ClaimHook = Callable[[ExecutionRow, list[StepRow], list[StepRow], datetime, list[NewEvent]], int]
_DEFINITION_CACHE: OrderedDict[str, PipelineDefinition] = OrderedDict()
_DEFINITION_CACHE_SIZE = 2048
_VERSION_CACHE: OrderedDict[tuple[str, int], tuple[PipelineDefinition, dict[str, Any]]] = (
    OrderedDict()
)
_VERSION_CACHE_SIZE = 256
# The version of each pipeline that was current when this process last looked: a guess, which
# the statement that creates an execution checks (Tx.create(of_current_version=True)).
_CURRENT_VERSION: OrderedDict[str, int] = OrderedDict()


async def _pipeline_definition(
    tx: Tx, pipeline_id: str, *, guess: bool
) -> tuple[int, PipelineDefinition, dict[str, Any], bool]:
    """The current version of a stored pipeline, its parsed definition, its JSON, and whether
    the version is a guess that the create statement must check.

    Versions are immutable, so a parsed version is cached by (pipeline id, version): starting
    an execution of a known version reads nothing: the version this process saw last is
    guessed, and the statement that creates the execution checks it (a wrong guess is redone
    with a read).

    Raises:
        NotFoundError: no such pipeline.
    """
    version = _CURRENT_VERSION.get(pipeline_id) if guess else None
    if version is not None and (pipeline_id, version) in _VERSION_CACHE:
        cached = _VERSION_CACHE[(pipeline_id, version)]
        return version, cached[0], cached[1], True
    version = await tx.pipeline_version(pipeline_id)
    if version is None:
        _CURRENT_VERSION.pop(pipeline_id, None)
        raise NotFoundError(f"pipeline {pipeline_id!r} does not exist")
    _CURRENT_VERSION[pipeline_id] = version
    _CURRENT_VERSION.move_to_end(pipeline_id)
    if len(_CURRENT_VERSION) > _VERSION_CACHE_SIZE:
        _CURRENT_VERSION.popitem(last=False)
    key = (pipeline_id, version)
    cached = _VERSION_CACHE.get(key)
    if cached is None:
        versions = PIPELINE_VERSIONS.c
        data = (
            await tx.conn.execute(
                sa.select(versions.definition).where(
                    versions.pipeline_id == pipeline_id, versions.version == version
                )
            )
        ).scalar_one_or_none()
        if data is None:
            raise NotFoundError(f"pipeline {pipeline_id!r} has no version {version}")
        cached = (PipelineDefinition.model_validate(data), dict(data))
        _VERSION_CACHE[key] = cached
        if len(_VERSION_CACHE) > _VERSION_CACHE_SIZE:
            _VERSION_CACHE.popitem(last=False)
    return key[1], cached[0], cached[1], False


def cached_definition(execution_id: str) -> PipelineDefinition | None:
    """The parsed definition of an execution if this process has it at hand."""
    return _DEFINITION_CACHE.get(execution_id)


def _remember(execution_id: str, defn: PipelineDefinition) -> None:
    _DEFINITION_CACHE[execution_id] = defn
    if len(_DEFINITION_CACHE) > _DEFINITION_CACHE_SIZE:
        _DEFINITION_CACHE.popitem(last=False)


def definition_of(execution_id: str, data: Mapping[str, Any]) -> PipelineDefinition:
    """The parsed definition of an execution (cached: an execution's definition never changes)."""
    cached = _DEFINITION_CACHE.get(execution_id)
    if cached is not None:
        _DEFINITION_CACHE.move_to_end(execution_id)
        return cached
    defn = PipelineDefinition.model_validate(data)
    _remember(execution_id, defn)
    return defn


async def execution_definition(conn: AsyncConnection, execution_id: str) -> PipelineDefinition:
    """The parsed definition of an execution, read from the database when not cached."""
    cached = _DEFINITION_CACHE.get(execution_id)
    if cached is not None:
        return cached
    return definition_of(execution_id, await rows.load_definition(conn, execution_id))


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
    status: ExecutionStatus | None = None
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
    tx: Tx,
    *,
    registry: ActionRegistry,
    pipeline_id: str | None,
    definition: object | None,
    params: Mapping[str, Any] | None,
    initiator: str | None,
    callback_topics: Sequence[str] = (),
    correlation_id: str | None = None,
    claim_ready: ClaimHook | None = None,
) -> ExecutionRow:
    """Create an execution of a stored pipeline (its current version) or of an inline definition.

    ``claim_ready`` lets the engine process that serves the request claim the first runnable
    steps in the creating statement (see ``Scheduler.claim_new``); it returns how many it
    claimed, and the other processes are woken for the rest (it may be called twice: the last
    call counts). On PostgreSQL the execution is written by one statement, so ``tx`` may be in
    autocommit mode.

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
    # A stored pipeline's version is guessed first (see _pipeline_definition); a wrong guess
    # is redone once with the version read.
    for guess in (True, False):
        version: int | None = None
        definition_data: dict[str, Any] | None = None
        guessed = False
        if pipeline_id is not None:
            version, defn, definition_data, guessed = await _pipeline_definition(
                tx, pipeline_id, guess=guess
            )
            pointer = "/pipeline_id"
        else:
            try:
                defn = require_valid(definition, registry)
            except InvalidInputError as exc:
                raise InvalidInputError(
                    exc.detail,
                    issues=[
                        Issue(f"/definition{i.pointer}", i.message, i.code) for i in exc.issues
                    ],
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
        execution = ExecutionRow(
            id=str(uuid.uuid4()),
            pipeline_id=pipeline_id,
            pipeline_version=version,
            pipeline_name=defn.name,
            params=bound,
            initiator=initiator,
            callback_topics=list(callback_topics),
            status=ExecutionStatus.PENDING,
            outputs=None,
            error=None,
            progress_percent=0.0,
            max_parallel_steps=defn.settings.max_parallel_steps,
            correlation_id=correlation_id,
            created_at=now,
            deadline_at=deadline_after(now, defn.settings.timeout_seconds),
        )
        runs = [
            StepRow(
                id=str(uuid.uuid4()),
                execution_id=execution.id,
                step_id=step.id,
                position=index,
                action=step.action,
                weight=step.weight,
            )
            for index, step in enumerate(defn.steps)
        ]
        events = [
            new_event(
                execution.id,
                EventKind.EXECUTION_CREATED,
                f"execution of {defn.name!r} created",
                now,
            )
        ]
        ready = advance(execution, defn, runs, now=now, events=events)
        claimed = claim_ready(execution, runs, ready, now, events) if ready and claim_ready else 0
        try:
            await tx.create(
                execution,
                definition_data or defn.model_dump(mode="json"),
                runs,
                events,
                [notify.RUNNABLE] if claimed < len(ready) else [],
                of_current_version=guessed,
            )
        except StaleDataError:
            if not guessed:
                raise
            _CURRENT_VERSION.pop(pipeline_id or "", None)
            continue
        _remember(execution.id, defn)
        return execution
    raise AssertionError("unreachable: the second try does not guess")


async def list_executions(
    conn: AsyncConnection, flt: ExecutionFilter, *, page: int, page_size: int
) -> tuple[list[ExecutionRow], int]:
    """One page of executions (newest first) and the total count."""
    ex = EXECUTIONS.c
    conditions: list[sa.ColumnElement[bool]] = []
    if flt.pipeline_id:
        conditions.append(ex.pipeline_id == flt.pipeline_id)
    if flt.status:
        conditions.append(ex.status == flt.status)
    if flt.initiator:
        conditions.append(ex.initiator == flt.initiator)
    if flt.created_after:
        conditions.append(ex.created_at >= flt.created_after)
    if flt.created_before:
        conditions.append(ex.created_at < flt.created_before)
    total = int(
        (
            await conn.execute(
                sa.select(sa.func.count()).select_from(EXECUTIONS).where(*conditions)
            )
        ).scalar_one()
    )
    found = await rows.query_executions(
        conn,
        rows.select_executions()
        .where(*conditions)
        .order_by(ex.created_at.desc(), ex.id)
        .offset((page - 1) * page_size)
        .limit(page_size),
    )
    return found, total


async def get_execution(
    conn: AsyncConnection, execution_id: str, *, for_update: bool = False
) -> ExecutionRow:
    """One execution.

    Raises:
        NotFoundError: no such execution.
    """
    execution = await rows.load_execution(conn, execution_id, lock=for_update)
    if execution is None:
        raise NotFoundError(f"execution {execution_id!r} does not exist")
    return execution


async def read_execution(database: Database, execution_id: str) -> ExecutionRow:
    """One execution, as committed now (the long poll's read).

    Raises:
        NotFoundError: no such execution.
    """
    execution = await database.execution(execution_id)
    if execution is None:
        raise NotFoundError(f"execution {execution_id!r} does not exist")
    return execution


async def list_steps(conn: AsyncConnection, execution_id: str) -> list[StepRow]:
    """The steps of an execution, in definition order."""
    await get_execution(conn, execution_id)
    return (await rows.load_steps(conn, [execution_id]))[execution_id]


async def list_events(
    conn: AsyncConnection, execution_id: str, *, page: int, page_size: int
) -> tuple[list[sa.Row[*tuple[Any, ...]]], int]:
    """One page of an execution's timeline (oldest first) and the total count."""
    await get_execution(conn, execution_id)
    ev = EVENTS.c
    total = int(
        (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(EVENTS)
                .where(ev.execution_id == execution_id)
            )
        ).scalar_one()
    )
    found = await conn.execute(
        sa.select(ev.id, ev.step_id, ev.kind, ev.message, ev.data, ev.created_at)
        .where(ev.execution_id == execution_id)
        .order_by(ev.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(found), total


def compute_progress(
    execution: ExecutionRow, runs: Sequence[StepRow], *, now: datetime
) -> Progress:
    """Progress of an execution: weighted percentage, current steps and an ETA.

    The ETA is the mean duration of the finished steps times the steps left, divided by the
    parallelism the pipeline allows; there is none before a step has finished.
    """
    done = [run for run in runs if run.status in TERMINAL_STEP]
    durations = [
        (run.finished_at - run.started_at).total_seconds()
        for run in runs
        if run.status == StepStatus.COMPLETED and run.finished_at and run.started_at
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
        current_steps=[run.step_id for run in runs if run.status == StepStatus.RUNNING],
        eta_seconds=eta,
    )


async def _locked(tx: Tx, execution_id: str) -> tuple[ExecutionRow, list[StepRow]]:
    """An execution and its steps, locked for the rest of the transaction.

    Raises:
        NotFoundError: no such execution.
    """
    executions, runs = await tx.lock([execution_id])
    execution = executions.get(execution_id)
    if execution is None:
        raise NotFoundError(f"execution {execution_id!r} does not exist")
    return execution, runs[execution_id]


async def cancel_execution(tx: Tx, execution_id: str) -> ExecutionRow:
    """Cancel: running steps are cancelled, waiting ones skipped.

    Raises:
        NotFoundError: no such execution.
        ConflictError: it already finished.
    """
    execution, runs = await _locked(tx, execution_id)
    if execution.status in TERMINAL_EXECUTION:
        raise ConflictError(f"execution {execution_id!r} is already {execution.status}")
    events: list[NewEvent] = []
    stop_execution(
        execution,
        runs,
        status=ExecutionStatus.CANCELLED,
        reason=SkipReason.CANCELLED,
        message="cancelled by request",
        now=utcnow(),
        events=events,
    )
    await tx.write([execution], runs, events, [notify.finished(execution.id, execution.status)])
    return execution


async def retry_execution(tx: Tx, execution_id: str) -> ExecutionRow:
    """Re-run the failed and cancelled steps and what depends on them; completed steps keep
    their outputs.

    Raises:
        NotFoundError: no such execution.
        ConflictError: the execution is not failed or cancelled.
    """
    execution, runs = await _locked(tx, execution_id)
    if execution.status not in RETRYABLE_EXECUTION:
        raise ConflictError(
            f"execution {execution_id!r} is {execution.status}; only failed or cancelled "
            "executions can be retried"
        )
    defn = await execution_definition(tx.conn, execution_id)
    now = utcnow()
    reset = 0
    for run in runs:
        if run.status in {StepStatus.FAILED, StepStatus.CANCELLED} or (
            run.status == StepStatus.SKIPPED and run.skip_reason in RETRYABLE_SKIPS
        ):
            run.status = StepStatus.PENDING
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
    execution.status = ExecutionStatus.RUNNING
    execution.error = None
    execution.outputs = None
    execution.finished_at = None
    execution.deadline_at = deadline_after(now, defn.settings.timeout_seconds)
    events = [
        new_event(execution.id, EventKind.EXECUTION_RETRIED, f"retrying {reset} step(s)", now)
    ]
    ready = advance(execution, defn, runs, now=now, events=events)
    await tx.write([execution], runs, events, [notify.RUNNABLE] if ready else [])
    return execution
