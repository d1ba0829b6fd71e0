"""Executions: start, list, get, steps, events, progress, cancel, retry."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

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
from loom.engine.db.store import Database
from loom.engine.db.tx import Tx
from loom.engine.definitions import ParameterError, PipelineDefinition, bind_parameters
from loom.engine.domain import (
    RETRYABLE_EXECUTION,
    RETRYABLE_SKIPS,
    TERMINAL_EXECUTION,
    TERMINAL_STEP,
    EventKind,
    ExecutionStatus,
    SkipReason,
    StepState,
    StepStatus,
)
from loom.engine.scheduler.claims import Claim
from loom.engine.scheduler.dag import (
    advance,
    new_event,
    stop_execution,
)
from loom.engine.services.errors import ConflictError, InvalidInputError, Issue, NotFoundError
from loom.engine.services.pipelines import require_valid


class Claimer(Protocol):
    """Claims the first steps of a new execution in the statement that creates it (the
    scheduler of the process serving the request, see ``Scheduler.claim_new``)."""

    def claim_new(
        self,
        execution: ExecutionRow,
        runs: list[StepRow],
        ready: list[StepRow],
        now: datetime,
        events: list[NewEvent],
    ) -> list[Claim]:
        """Claim some of ``ready`` for this process (changing the rows in memory)."""
        ...


@dataclass(frozen=True, slots=True)
class Committed:
    """What a unit of work of the API changed, once committed: what the scheduler of this
    process does next (``EngineRuntime.after_commit``)."""

    execution: ExecutionRow
    runs: list[StepRow]
    claims: list[Claim] = field(default_factory=list[Claim])  # to start now
    runnable: bool = False  # steps became runnable that no one here claimed: wake the poller
    ended: bool = False  # the execution ended here (a cancel): stop its steps, wake waiters


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
    cache = tx.definitions
    version = cache.current_version(pipeline_id) if guess else None
    if version is not None and (cached := cache.version(pipeline_id, version)) is not None:
        return version, cached[0], cached[1], True
    version = await tx.pipeline_version(pipeline_id)
    cache.pipeline_changed(pipeline_id, version)
    if version is None:
        raise NotFoundError(f"pipeline {pipeline_id!r} does not exist")
    cached = cache.version(pipeline_id, version)
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
        cache.keep_version(pipeline_id, version, data)
        cached = cache.version(pipeline_id, version)
        assert cached is not None
    return version, cached[0], cached[1], False


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
    claimer: Claimer | None = None,
) -> Committed:
    """Create an execution of a stored pipeline (its current version) or of an inline definition.

    ``claimer`` lets the engine process that serves the request claim the first runnable
    steps in the creating statement; the other processes are woken for the rest. The answer
    says what was claimed and has to be started once committed (``EngineRuntime.after_commit``).
    On PostgreSQL the execution is written by one statement, so ``tx`` may be in autocommit
    mode.

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
        claims = claimer.claim_new(execution, runs, ready, now, events) if ready and claimer else []
        try:
            await tx.create(
                execution,
                definition_data or defn.model_dump(mode="json"),
                runs,
                events,
                [notify.RUNNABLE] if len(claims) < len(ready) else [],
                of_current_version=guessed,
            )
        except StaleDataError:
            if not guessed:
                raise
            tx.definitions.pipeline_changed(pipeline_id or "", None)
            continue
        tx.definitions.remember(execution.id, defn)
        return Committed(execution, runs, claims, runnable=len(claims) < len(ready))
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


def step_state(run: StepRow, now: datetime) -> StepState:
    """A step's status as users read it: a pending step whose time has not come (a ``delay``,
    or the back-off before a retry) is ``waiting``."""
    if run.status == StepStatus.PENDING and run.ready_at is not None and run.ready_at > now:
        return StepState.WAITING
    return StepState(run.status)


def compute_progress(
    execution: ExecutionRow, runs: Sequence[StepRow], *, now: datetime
) -> Progress:
    """Progress of an execution: weighted percentage, current steps and an ETA.

    Current steps are the running and the waiting ones. The ETA is at least the longest wait
    left (a ``delay``, a retry's back-off), plus the mean duration of the completed steps for
    each step not started yet, divided by the parallelism the pipeline allows; there is none
    before a step has completed or started waiting.
    """
    finished = [run for run in runs if run.status in TERMINAL_STEP]
    states = [(run, step_state(run, now)) for run in runs]
    current = [run for run, state in states if state in {StepState.RUNNING, StepState.WAITING}]
    waits = [
        (run.ready_at - now).total_seconds()
        for run, state in states
        if state == StepState.WAITING and run.ready_at is not None
    ]
    durations = [
        (run.finished_at - run.started_at).total_seconds()
        for run in runs
        if run.status == StepStatus.COMPLETED and run.finished_at and run.started_at
    ]
    eta: float | None = None
    if execution.status in TERMINAL_EXECUTION:
        eta = 0.0
    elif durations or waits:
        not_started = len(runs) - len(finished) - len(current)
        lanes = max(1, min(execution.max_parallel_steps, not_started))
        mean = sum(durations) / len(durations) if durations else 0.0
        eta = round(max(waits, default=0.0) + mean * not_started / lanes, 3)
    return Progress(
        percent=execution.progress_percent,
        completed_steps=len(finished),
        total_steps=len(runs),
        current_steps=[run.step_id for run in current],
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


async def cancel_execution(tx: Tx, execution_id: str) -> Committed:
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
    return Committed(execution, runs, ended=True)


async def retry_execution(tx: Tx, execution_id: str) -> Committed:
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
    defn = await tx.definition(execution_id)
    now = utcnow()
    reset = 0
    for run in runs:
        if run.status in {StepStatus.FAILED, StepStatus.CANCELLED} or (
            run.status == StepStatus.SKIPPED and run.skip_reason in RETRYABLE_SKIPS
        ):
            run.status = StepStatus.PENDING
            run.attempts_before_retry = run.attempt  # numbers go on; the policy starts over
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
    return Committed(execution, runs, runnable=bool(ready))
