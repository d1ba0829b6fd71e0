"""The hot path on PostgreSQL: one round trip per step of the protocol.

On loopback the cost of a statement is dominated by the round trip (a send, a wake-up of the
server process, a receive), not by the SQL. The three statements below therefore carry whole
sets of rows in arrays (``unnest``) and chain their parts with data-modifying CTEs, and their
text never changes with the number of rows, so each is prepared once per connection:

- :data:`CREATE`: an execution, its step rows, its first events and a wake-up, in one atomic
  statement (no ``BEGIN``/``COMMIT`` needed around it);
- :data:`LOCK`: executions and all their step rows ``FOR UPDATE``, in execution id order.
  Locking the step rows too is what makes one statement enough: after waiting for a lock,
  PostgreSQL re-reads the newest version of every row it locks, so the steps returned include
  whatever the previous lock holder committed (a join that locked only the executions would
  return step rows from before the wait);
- :data:`WRITE`: the changed step rows and executions, each ``WHERE id = … AND row_version =
  …`` (the optimistic lock), the new events and the wake-ups. The matched row counts come
  back and a short count raises ``StaleDataError``, exactly as one statement per row would.

They go to asyncpg directly (``raw`` below is the ``asyncpg.Connection`` under a pooled
SQLAlchemy connection): values are converted here (naive UTC timestamps, JSON as text, which
the JSON codec SQLAlchemy installs on every connection expects; JSON comes back decoded).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import TypeDecorator, TypeEngine

from loom.engine.db import notify
from loom.engine.db.rows import (
    EVENTS,
    EXECUTION_MUTABLE,
    EXECUTIONS,
    STEP_MUTABLE,
    STEP_RUNS,
    ExecutionRow,
    NewEvent,
    StepRow,
)
from loom.engine.db.tx import Locked, TxBase
from loom.engine.domain import ACTIVE_EXECUTION, StepStatus

# The type each column's values are sent as (cast to ``kind[]`` for ``unnest``), by the
# column's SQLAlchemy type; lengths are left out on purpose: a cast to ``varchar(n)`` would
# cut a longer value silently, where the column refuses it.
_KINDS: tuple[tuple[type[TypeEngine[Any]], str], ...] = (
    (sa.DateTime, "timestamp"),
    (sa.JSON, "json"),
    (sa.Text, "text"),
    (sa.String, "varchar"),
    (sa.Float, "float8"),
    (sa.BigInteger, "int8"),
    (sa.Integer, "int"),
)


def _columns(table: sa.Table, *leave_out: str) -> tuple[tuple[str, str], ...]:
    """``(name, kind)`` of the table's columns (from the models: one source of truth)."""
    out: list[tuple[str, str]] = []
    for column in table.c:
        if column.name in leave_out:
            continue
        t: TypeEngine[Any] = column.type
        if isinstance(t, TypeDecorator):
            t = t.impl_instance  # pyright: ignore[reportUnknownMemberType]
        out.append((column.name, next(kind for cls, kind in _KINDS if isinstance(t, cls))))
    return tuple(out)


_STEP_COLUMNS = _columns(STEP_RUNS)
_EXECUTION_COLUMNS = _columns(EXECUTIONS, "definition")  # parsed once and cached per process
_EVENT_COLUMNS = _columns(EVENTS, "id")  # the id is the table's sequence
_TYPES = dict((*_STEP_COLUMNS, *_EXECUTION_COLUMNS, *_EVENT_COLUMNS))


def _unnest(columns: Sequence[tuple[str, str]], first: int) -> str:
    """``unnest($first::t[], …) AS v(c, …)`` over one array parameter per column."""
    arrays = ", ".join(f"${first + i}::{kind}[]" for i, (_, kind) in enumerate(columns))
    return f"unnest({arrays}) AS v({', '.join(name for name, _ in columns)})"


def _insert(table: str, columns: Sequence[tuple[str, str]], first: int) -> str:
    names = ", ".join(name for name, _ in columns)
    return f"INSERT INTO {table} ({names}) SELECT {names} FROM {_unnest(columns, first)}"


def _insert_one(table: str, columns: Sequence[tuple[str, str]], first: int) -> str:
    names = ", ".join(name for name, _ in columns)
    values = ", ".join(f"${first + i}::{kind}" for i, (_, kind) in enumerate(columns))
    return f"INSERT INTO {table} ({names}) VALUES ({values})"


def _update(table: str, columns: Sequence[tuple[str, str]], first: int, check: str = "") -> str:
    sets = ", ".join(
        f"{name} = v.{name}" for name, _ in columns[2:] if not name.startswith("read_")
    )
    return (
        f"UPDATE {table} AS t SET {sets}, row_version = t.row_version + 1 "
        f"FROM {_unnest(columns, first)} "
        f"WHERE t.id = v.id AND t.row_version = v.row_version{check} RETURNING 1"
    )


def _notify(param: int) -> str:
    value = f"${param}::text"
    return f"CASE WHEN {value} IS NOT NULL THEN pg_notify('{notify.CHANNEL}', {value}) END"


_EXECUTION_INSERT = (*_EXECUTION_COLUMNS, ("definition", "json"))
_N_EXECUTION = len(_EXECUTION_INSERT)
_N_STEPS = len(_STEP_COLUMNS)
_N_EVENTS = len(_EVENT_COLUMNS)

_C_NOTIFY = 1 + _N_EXECUTION + _N_STEPS + _N_EVENTS
CREATE = (
    f"WITH x AS ({_insert_one('executions', _EXECUTION_INSERT, 1)}), "
    f"s AS ({_insert('step_runs', _STEP_COLUMNS, 1 + _N_EXECUTION)}), "
    f"e AS ({_insert('events', _EVENT_COLUMNS, 1 + _N_EXECUTION + _N_STEPS)}) "
    f"SELECT {_notify(_C_NOTIFY)}"
)
# The same, for an execution of the version of a stored pipeline this process believes is the
# current one (instead of reading it first): nothing is written unless it still is.
_PIPELINE_CHANGED = "the pipeline has a newer version"
CREATE_OF_VERSION = (
    f"{CREATE}, loom_check(EXISTS (SELECT 1 FROM pipelines WHERE id = ${_C_NOTIFY + 1}::varchar "
    f"AND current_version = ${_C_NOTIFY + 2}::int), '{_PIPELINE_CHANGED}')"
)

_SELECT_WITH_STEPS = (
    "SELECT "
    + ", ".join(f"x.{name}" for name, _ in _EXECUTION_COLUMNS)
    + ", "
    + ", ".join(f"s.{name}" for name, _ in _STEP_COLUMNS)
    + " FROM executions AS x JOIN step_runs AS s ON s.execution_id = x.id"
    " WHERE x.id = ANY($1::varchar[])"
)
READ = _SELECT_WITH_STEPS + " ORDER BY x.id, s.position"
LOCK = READ + " FOR UPDATE"
_ACTIVE = ", ".join(f"'{status}'" for status in sorted(ACTIVE_EXECUTION))
# The claim loop: runnable steps, then their active executions (with all their steps), each
# locked with SKIP LOCKED, so that engines claiming at the same time never wait for each other
# and never take the same step; the per-execution parallelism is counted under the lock.
RUNNABLE = (
    f"SELECT id, execution_id FROM step_runs WHERE status = '{StepStatus.PENDING}'"
    " AND ready_at <= $1"
    " ORDER BY ready_at LIMIT $2 FOR UPDATE SKIP LOCKED"
)
LOCK_ACTIVE = (
    _SELECT_WITH_STEPS + f" AND x.status IN ({_ACTIVE})"
    " ORDER BY x.id, s.position FOR UPDATE OF x SKIP LOCKED"
)

EXECUTION = (
    "SELECT " + ", ".join(name for name, _ in _EXECUTION_COLUMNS) + " FROM executions WHERE id = $1"
)
PIPELINE_VERSION = "SELECT current_version FROM pipelines WHERE id = $1"

# Step rows are also checked against the lease they were read with: renewing a lease is no
# state transition (it leaves row_version alone), but a step whose lease looked expired must
# not be taken from an owner that renewed it in between.
_STEP_UPDATE = (
    ("id", "varchar"),
    ("row_version", "int"),
    ("read_lease_expires_at", "timestamp"),
    *((name, _TYPES[name]) for name in STEP_MUTABLE),
)
_EXECUTION_UPDATE = (
    ("id", "varchar"),
    ("row_version", "int"),
    *((name, _TYPES[name]) for name in EXECUTION_MUTABLE),
)
_STALE = "rows changed since they were read"
_W_EXECUTIONS = 1
_W_STEPS = _W_EXECUTIONS + len(_EXECUTION_UPDATE)
_W_EVENTS = _W_STEPS + len(_STEP_UPDATE)
_W_COUNTS = _W_EVENTS + len(_EVENT_COLUMNS)
_STEP_CHECK = " AND t.lease_expires_at IS NOT DISTINCT FROM v.read_lease_expires_at"
WRITE = (
    f"WITH x AS ({_update('executions', _EXECUTION_UPDATE, _W_EXECUTIONS)}), "
    f"s AS ({_update('step_runs', _STEP_UPDATE, _W_STEPS, _STEP_CHECK)}), "
    f"e AS ({_insert('events', _EVENT_COLUMNS, _W_EVENTS)}) "
    f"SELECT loom_check((SELECT count(*) FROM x) = ${_W_COUNTS}::int "
    f"AND (SELECT count(*) FROM s) = ${_W_COUNTS + 1}::int, '{_STALE}'), {_notify(_W_COUNTS + 2)}"
)


def _naive(value: datetime | None) -> datetime | None:
    """A timestamp as the columns store it: naive UTC."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _json(value: Any) -> str | None:
    """JSON as text (the codec SQLAlchemy installs on every connection expects text)."""
    return None if value is None else json.dumps(value)


_CONVERT: dict[str, Callable[[Any], Any]] = {"timestamp": _naive, "json": _json}


def _value(kind: str, value: Any) -> Any:
    convert = _CONVERT.get(kind)
    return value if convert is None else convert(value)


def _arrays(
    columns: Sequence[tuple[str, str]],
    items: Sequence[Any],
    computed: Mapping[str, Callable[[Any], Any]] | None = None,
) -> list[list[Any]]:
    """One array per column (``computed`` gives the columns that are not attributes)."""
    arrays: list[list[Any]] = []
    for name, kind in columns:
        get = computed[name] if computed is not None and name in computed else attrgetter(name)
        values = list(map(get, items))
        convert = _CONVERT.get(kind)
        arrays.append(values if convert is None else list(map(convert, values)))
    return arrays


@contextmanager
def _stale_when_checks_fail(message: str) -> Generator[None, None, None]:
    """A statement whose ``loom_check()`` failed (SQLSTATE 40001, nothing written) raises
    ``StaleDataError``, as a lost optimistic lock does everywhere else."""
    try:
        yield
    except Exception as exc:
        if getattr(exc, "sqlstate", None) == "40001":
            raise StaleDataError(f"{message}: {exc}") from exc
        raise


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


async def create(
    raw: Any,
    execution: ExecutionRow,
    definition: Mapping[str, Any],
    runs: Sequence[StepRow],
    events: Sequence[NewEvent],
    notifications: Iterable[str] = (),
    *,
    of_current_version: bool = False,
) -> None:
    """Insert an execution, its steps and events, and send wake-ups, in one statement.

    ``of_current_version``: only if the execution's pipeline version is still the pipeline's
    current one.

    Raises:
        StaleDataError: ``of_current_version`` and the pipeline has another version now (or
            is gone); nothing was written.
    """
    execution.row_version = 1
    for run in runs:
        run.row_version = 1
    params: list[Any] = [
        _value(kind, definition if name == "definition" else getattr(execution, name))
        for name, kind in _EXECUTION_INSERT
    ]
    params += _arrays(_STEP_COLUMNS, runs)
    params += _arrays(_EVENT_COLUMNS, events)
    params.append(notify.payload(notifications))
    if not of_current_version:
        await raw.execute(CREATE, *params)
    else:
        params += [execution.pipeline_id, execution.pipeline_version]
        with _stale_when_checks_fail(_PIPELINE_CHANGED):
            await raw.execute(CREATE_OF_VERSION, *params)
    execution.mark_saved()
    for run in runs:
        run.mark_saved()


def _execution(values: Sequence[Any]) -> ExecutionRow:
    x = dict(zip((name for name, _ in _EXECUTION_COLUMNS), values, strict=True))
    for name, kind in _EXECUTION_COLUMNS:
        if kind == "timestamp":
            x[name] = _aware(x[name])
    execution = ExecutionRow(**x)
    execution.mark_saved()
    return execution


async def load_execution(raw: Any, execution_id: str) -> ExecutionRow | None:
    """One execution without its definition (``None`` when it does not exist)."""
    found: Any = await raw.fetchrow(EXECUTION, execution_id)
    return None if found is None else _execution(tuple(found))


async def pipeline_version(raw: Any, pipeline_id: str) -> int | None:
    """The current version of a pipeline (``None`` when it does not exist)."""
    version: Any = await raw.fetchval(PIPELINE_VERSION, pipeline_id)
    return None if version is None else int(version)


async def lock(
    raw: Any, execution_ids: Iterable[str], *, for_update: bool = True
) -> tuple[dict[str, ExecutionRow], dict[str, list[StepRow]]]:
    """Executions and their steps, locked ``FOR UPDATE`` in the caller's transaction (or, with
    ``for_update=False``, as committed now, for an optimistic :func:`write`)."""
    return _with_steps(await raw.fetch(LOCK if for_update else READ, sorted(set(execution_ids))))


async def lock_runnable(
    raw: Any, *, now: datetime, limit: int
) -> tuple[list[str], dict[str, ExecutionRow], dict[str, list[StepRow]]]:
    """In the caller's transaction: the ids of up to ``limit`` runnable steps (oldest first)
    and their executions that are active, with all their steps, each row locked with
    ``SKIP LOCKED`` (a step or an execution another engine holds is left to it)."""
    runnable: list[Any] = await raw.fetch(RUNNABLE, _naive(now), limit)
    if not runnable:
        return [], {}, {}
    execution_ids = sorted({row[1] for row in runnable})
    executions, runs = _with_steps(await raw.fetch(LOCK_ACTIVE, execution_ids))
    return [row[0] for row in runnable], executions, runs


def _with_steps(result: Sequence[Any]) -> tuple[dict[str, ExecutionRow], dict[str, list[StepRow]]]:
    executions: dict[str, ExecutionRow] = {}
    runs: dict[str, list[StepRow]] = {}
    split = len(_EXECUTION_COLUMNS)
    for row in result:
        values = tuple(row)
        execution_id = values[0]
        if execution_id not in executions:
            executions[execution_id] = _execution(values[:split])
            runs[execution_id] = []
        s = dict(zip((name for name, _ in _STEP_COLUMNS), values[split:], strict=True))
        for name, kind in _STEP_COLUMNS:
            if kind == "timestamp":
                s[name] = _aware(s[name])
        run = StepRow(**s)
        run.mark_saved()
        runs[execution_id].append(run)
    return executions, runs


def _read_lease(run: StepRow) -> datetime | None:
    return run.stored("lease_expires_at")


async def write(
    raw: Any,
    executions: Iterable[ExecutionRow],
    runs: Iterable[StepRow],
    events: Sequence[NewEvent],
    notifications: Iterable[str] = (),
) -> None:
    """Write every given execution and the changed step rows (each checked against the version
    it was read at), the events and the wake-ups, all or nothing.

    Every execution given is written even when unchanged: its ``row_version`` is the token
    that orders all writers of its steps (see :func:`loom.engine.db.store.Database.commit`).

    Raises:
        StaleDataError: a row changed since it was read; nothing was written.
    """
    written = list(executions)
    changed_runs = [run for run in runs if run.changes()]
    params: list[Any] = [
        *_arrays(_EXECUTION_UPDATE, written),
        *_arrays(
            _STEP_UPDATE,
            changed_runs,
            {"read_lease_expires_at": _read_lease},
        ),
        *_arrays(_EVENT_COLUMNS, events),
        len(written),
        len(changed_runs),
        notify.payload(notifications),
    ]
    with _stale_when_checks_fail(_STALE):
        await raw.fetchrow(WRITE, *params)
    for row in (*changed_runs, *written):
        row.row_version += 1
        row.mark_saved()


@dataclass(slots=True)
class PostgresTx(TxBase):
    """:class:`loom.engine.db.tx.Tx` on PostgreSQL: each method one statement sent to asyncpg.

    ``raw`` is the asyncpg connection under ``conn``; ``locking`` is false for an optimistic
    unit of work (``Database.commit``), whose :meth:`lock` reads without locking.
    """

    raw: Any = None
    locking: bool = True

    async def pipeline_version(self, pipeline_id: str) -> int | None:
        """The current version of a stored pipeline (``None`` when it does not exist)."""
        return await pipeline_version(self.raw, pipeline_id)

    async def lock(self, execution_ids: Iterable[str]) -> Locked:
        """Executions and their steps, ``FOR UPDATE`` unless optimistic."""
        return await lock(self.raw, execution_ids, for_update=self.locking)

    async def lock_runnable(
        self, *, now: datetime, limit: int
    ) -> tuple[list[str], dict[str, ExecutionRow], dict[str, list[StepRow]]]:
        """Runnable steps and their active executions, locked with ``SKIP LOCKED``."""
        return await lock_runnable(self.raw, now=now, limit=limit)

    async def write(
        self,
        executions: Iterable[ExecutionRow],
        runs: Iterable[StepRow],
        events: Sequence[NewEvent],
        notifications: Iterable[str] = (),
    ) -> None:
        """One all-or-nothing statement (see :func:`write`)."""
        await write(self.raw, self.forget_written(executions), runs, events, notifications)

    async def create(
        self,
        execution: ExecutionRow,
        definition: Mapping[str, Any],
        runs: Sequence[StepRow],
        events: Sequence[NewEvent],
        notifications: Iterable[str] = (),
        *,
        of_current_version: bool = False,
    ) -> None:
        """One atomic statement (see :func:`create`); it needs no transaction around it."""
        await create(
            self.raw,
            execution,
            definition,
            runs,
            events,
            notifications,
            of_current_version=of_current_version,
        )
