"""Executions, step runs and events as plain rows, read and written with Core statements.

The scheduler's hot path (start an execution, commit a step's outcome, claim its successors)
does not use the ORM unit of work: a flush of a handful of rows costs more CPU than the rest
of the request. Rows are loaded into the slotted dataclasses below, changed in memory by the
pure rules of :mod:`loom.engine.scheduler.dag`, and written back by :func:`save`:

- every changed row is written by ``UPDATE … SET …, row_version = v + 1 WHERE id = :id AND
  row_version = v``: the optimistic lock of the ORM's ``version_id_col``, kept on every state
  transition; a row that another writer changed in between makes the statement match fewer
  rows than expected and :func:`save` raises ``StaleDataError``, which every caller retries;
- rows that get the same new values (siblings claimed together, siblings that finished
  together) share one statement, ``WHERE (id, row_version) IN ((…), (…))``, whose matched row
  count is checked the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm.exc import StaleDataError

from loom.engine.db.models import Event, Execution, Pipeline, PipelineVersion, StepRun
from loom.engine.domain import EventKind, ExecutionStatus, SkipReason, StepStatus

PIPELINES = cast("sa.Table", Pipeline.__table__)
PIPELINE_VERSIONS = cast("sa.Table", PipelineVersion.__table__)
EXECUTIONS = cast("sa.Table", Execution.__table__)
STEP_RUNS = cast("sa.Table", StepRun.__table__)
EVENTS = cast("sa.Table", Event.__table__)

EXECUTION_MUTABLE = (
    "status",
    "outputs",
    "error",
    "progress_percent",
    "started_at",
    "finished_at",
    "deadline_at",
)
STEP_MUTABLE = (
    "status",
    "attempt",
    "attempts_before_retry",
    "outputs",
    "error",
    "skip_reason",
    "ready_at",
    "runnable_since",
    "started_at",
    "finished_at",
    "lease_owner",
    "lease_expires_at",
    "resume_state",
)


class _Versioned:
    """What execution and step rows share: the mutable columns as last read or written
    (``saved``), so that a write sends only what changed, checked by ``row_version``."""

    __slots__ = ()
    MUTABLE: ClassVar[tuple[str, ...]]
    saved: tuple[Any, ...] | None

    def changes(self) -> dict[str, Any]:
        """The mutable columns whose value differs from the stored one."""
        saved = self.saved
        if saved is None:
            return {name: getattr(self, name) for name in self.MUTABLE}
        return {
            name: value
            for name, old in zip(self.MUTABLE, saved, strict=True)
            if (value := getattr(self, name)) != old
        }

    def mark_saved(self) -> None:
        """Remember the current values as the stored ones."""
        self.saved = tuple(getattr(self, name) for name in self.MUTABLE)

    def stored(self, name: str) -> Any:
        """The value of a mutable column as it was read (or last written)."""
        if self.saved is None:
            return None
        return self.saved[self.MUTABLE.index(name)]


@dataclass(slots=True, eq=False)
class PipelineRow:
    """A stored pipeline without its definitions (those are in ``pipeline_versions``)."""

    id: str
    name: str
    description: str | None
    current_version: int
    is_draft: bool
    created_at: datetime
    updated_at: datetime
    row_version: int = 1


@dataclass(slots=True, eq=False)
class ExecutionRow(_Versioned):
    """An execution without its definition (that is parsed once and cached per process)."""

    id: str
    pipeline_id: str | None
    pipeline_version: int | None
    pipeline_name: str
    params: dict[str, Any]
    initiator: str | None
    callback_topics: list[str]
    status: ExecutionStatus
    outputs: dict[str, Any] | None
    error: str | None
    progress_percent: float
    max_parallel_steps: int
    correlation_id: str | None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    deadline_at: datetime | None = None
    row_version: int = 0
    saved: tuple[Any, ...] | None = field(default=None, repr=False)
    MUTABLE: ClassVar[tuple[str, ...]] = EXECUTION_MUTABLE


@dataclass(slots=True, eq=False)
class StepRow(_Versioned):
    """The state of one step of one execution."""

    id: str
    execution_id: str
    step_id: str
    position: int
    action: str
    weight: float
    status: StepStatus = StepStatus.PENDING
    attempt: int = 0
    attempts_before_retry: int = 0
    outputs: dict[str, Any] | None = None
    error: str | None = None
    skip_reason: SkipReason | None = None
    ready_at: datetime | None = None
    runnable_since: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    resume_state: dict[str, Any] | None = None
    row_version: int = 0
    saved: tuple[Any, ...] | None = field(default=None, repr=False)
    MUTABLE: ClassVar[tuple[str, ...]] = STEP_MUTABLE


@dataclass(slots=True)
class NewEvent:
    """A timeline entry to insert."""

    execution_id: str
    kind: EventKind
    message: str
    created_at: datetime
    step_id: str | None = None
    data: dict[str, Any] | None = None

    def values(self) -> dict[str, Any]:
        """The column values (for an executemany)."""
        return {name: getattr(self, name) for name in _EVENT_NAMES}


_EXECUTION_COLUMNS = [c for c in EXECUTIONS.c if c.name != "definition"]
_STEP_COLUMNS = list(STEP_RUNS.c)


_EXECUTION_NAMES = tuple(c.name for c in _EXECUTION_COLUMNS)
_STEP_NAMES = tuple(c.name for c in _STEP_COLUMNS)
_EVENT_NAMES = tuple(c.name for c in EVENTS.c if c.name != "id")  # the id is the sequence's


def _execution(row: sa.Row[Any]) -> ExecutionRow:
    execution = ExecutionRow(**dict(zip(_EXECUTION_NAMES, row, strict=True)))
    execution.mark_saved()
    return execution


def _step(row: sa.Row[Any]) -> StepRow:
    step = StepRow(**dict(zip(_STEP_NAMES, row, strict=True)))
    step.mark_saved()
    return step


def select_executions() -> sa.Select[Any]:
    """``SELECT`` of every execution column but the definition."""
    return sa.select(*_EXECUTION_COLUMNS)


async def query_executions(conn: AsyncConnection, query: sa.Select[Any]) -> list[ExecutionRow]:
    """The executions a :func:`select_executions` query finds."""
    return [_execution(row) for row in await conn.execute(query)]


async def load_executions(
    conn: AsyncConnection, ids: Iterable[str], *, lock: bool = False
) -> dict[str, ExecutionRow]:
    """Executions by id; with ``lock``, ``FOR UPDATE`` in id order (no deadlock between two
    writers that lock several executions)."""
    query = select_executions().where(EXECUTIONS.c.id.in_(sorted(set(ids))))
    if lock:
        query = query.order_by(EXECUTIONS.c.id).with_for_update()
    return {row.id: _execution(row) for row in (await conn.execute(query))}


async def load_execution(
    conn: AsyncConnection, execution_id: str, *, lock: bool = False
) -> ExecutionRow | None:
    """One execution (``None`` when it does not exist)."""
    return (await load_executions(conn, (execution_id,), lock=lock)).get(execution_id)


async def load_steps(
    conn: AsyncConnection, execution_ids: Iterable[str], *, lock: bool = False
) -> dict[str, list[StepRow]]:
    """The step rows of executions, in definition order, by execution id."""
    ids = sorted(set(execution_ids))
    query = (
        sa.select(*_STEP_COLUMNS)
        .where(STEP_RUNS.c.execution_id.in_(ids))
        .order_by(STEP_RUNS.c.execution_id, STEP_RUNS.c.position)
    )
    if lock:
        query = query.with_for_update()
    runs: dict[str, list[StepRow]] = {eid: [] for eid in ids}
    for row in await conn.execute(query):
        runs[row.execution_id].append(_step(row))
    return runs


async def load_definition(conn: AsyncConnection, execution_id: str) -> dict[str, Any]:
    """The definition snapshot stored with an execution."""
    data = (
        await conn.execute(
            sa.select(EXECUTIONS.c.definition).where(EXECUTIONS.c.id == execution_id)
        )
    ).scalar_one()
    return cast("dict[str, Any]", data)


async def insert_execution(
    conn: AsyncConnection,
    execution: ExecutionRow,
    definition: Mapping[str, Any],
    runs: Sequence[StepRow],
) -> None:
    """Insert a new execution and its step rows (version 1 each)."""
    execution.row_version = 1
    values = {c.name: getattr(execution, c.name) for c in _EXECUTION_COLUMNS}
    await conn.execute(sa.insert(EXECUTIONS), [{**values, "definition": definition}])
    execution.mark_saved()
    if runs:
        for run in runs:
            run.row_version = 1
        await conn.execute(
            sa.insert(STEP_RUNS),
            [{c.name: getattr(run, c.name) for c in _STEP_COLUMNS} for run in runs],
        )
        for run in runs:
            run.mark_saved()


async def insert_events(conn: AsyncConnection, events: Sequence[NewEvent]) -> None:
    """Append timeline entries (one executemany)."""
    if events:
        await conn.execute(sa.insert(EVENTS), [event.values() for event in events])


def _freeze(value: Any) -> Any:
    """A hashable stand-in for a column value (JSON values are dicts and lists)."""
    if isinstance(value, dict | list):
        return repr(value)  # pyright: ignore[reportUnknownArgumentType]
    return value


async def _update(
    conn: AsyncConnection,
    table: sa.Table,
    rows: Sequence[ExecutionRow] | Sequence[StepRow],
    *,
    unchanged_too: bool = False,
) -> None:
    groups: dict[tuple[Any, ...], tuple[dict[str, Any], list[ExecutionRow | StepRow]]] = {}
    for row in rows:
        changes = row.changes()
        if not changes and not unchanged_too:
            continue
        key = tuple((name, _freeze(value)) for name, value in changes.items())
        groups.setdefault(key, (changes, []))[1].append(row)
    for changes, members in groups.values():
        if len(members) == 1:
            where = sa.and_(
                table.c.id == members[0].id, table.c.row_version == members[0].row_version
            )
        else:
            where = sa.tuple_(table.c.id, table.c.row_version).in_(
                [(row.id, row.row_version) for row in members]
            )
        result = await conn.execute(
            sa.update(table).where(where).values(**changes, row_version=table.c.row_version + 1)
        )
        if result.rowcount != len(members):
            raise StaleDataError(
                f"{table.name}: {len(members) - result.rowcount} of {len(members)} row(s) "
                "changed since they were read"
            )
        for row in members:
            row.row_version += 1
            row.mark_saved()


async def save(
    conn: AsyncConnection,
    executions: Iterable[ExecutionRow] = (),
    runs: Iterable[StepRow] = (),
) -> None:
    """Write the changed step rows and every execution given (a new version even when
    unchanged: it orders all writers of the execution's steps, as on PostgreSQL), each
    checked against the version it was read at.

    Raises:
        StaleDataError: a row changed since it was read; the transaction must be rolled back
            and the work redone from fresh rows.
    """
    await _update(conn, STEP_RUNS, list(runs))
    await _update(conn, EXECUTIONS, list(executions), unchanged_too=True)
