"""Committing the outcomes of attempts: one unit of work for every outcome that arrived while
the previous one was being written (sibling steps usually finish together), which also
advances their executions and claims the steps that became runnable.

The rows the committer wrote last are taken from memory instead of being read
(:mod:`loom.engine.db.committed`); a write that finds them changed is redone at once from a
fresh read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm.exc import StaleDataError

from loom.engine.actions.base import ActionRegistry
from loom.engine.db import notify
from loom.engine.db.models import utcnow
from loom.engine.db.rows import ExecutionRow, NewEvent, StepRow
from loom.engine.db.storable import storable_text
from loom.engine.db.store import TRANSIENT_ERRORS, Database, is_unstorable
from loom.engine.domain import TERMINAL_EXECUTION, StepStatus
from loom.engine.scheduler.claims import Claim
from loom.engine.scheduler.dag import advance
from loom.engine.scheduler.outcomes import Failed, LeaseExpired, Outcome, Suspended
from loom.engine.scheduler.transitions import apply_outcome

logger = logging.getLogger(__name__)

_MAX_BATCH = 128

# Claims the steps an outcome made runnable, in the same unit of work: (execution, its steps,
# the ready ones, now, events, slots already reserved by this batch) -> the claims made.
ClaimReady = Callable[
    [ExecutionRow, list[StepRow], list[StepRow], datetime, list[NewEvent], int], list[Claim]
]


class _StaleRowsError(Exception):
    """The committer decided on rows it had kept, and another writer had changed them."""


@dataclass(slots=True)
class _Pending:
    """An outcome waiting for the committer."""

    execution_id: str
    run_id: str
    attempt: int | None
    outcome: Outcome
    future: asyncio.Future[None]


@dataclass(slots=True)
class BatchResult:
    """What one committed batch did."""

    finished: list[ExecutionRow] = field(default_factory=list[ExecutionRow])
    claims: list[Claim] = field(default_factory=list[Claim])
    woke: bool = False  # steps became runnable that this batch did not claim
    suspended_until: list[datetime] = field(default_factory=list[datetime])
    now: datetime = field(default_factory=utcnow)


class Committer:
    """Queues outcomes and commits them in batches, one batch at a time.

    Args:
        database: where to commit.
        registry: the actions (lease recovery asks whether an action is idempotent).
        owner: this process's lease owner name.
        claim_ready: claims steps made runnable (see :data:`ClaimReady`).
        on_committed: told what each committed batch did (spawn the claims, wake, finish).
    """

    def __init__(
        self,
        database: Database,
        registry: ActionRegistry,
        *,
        owner: str,
        claim_ready: ClaimReady,
        on_committed: Callable[[BatchResult], None],
    ) -> None:
        self._database = database
        self._registry = registry
        self._owner = owner
        self._claim_ready = claim_ready
        self._on_committed = on_committed
        self._outcomes: list[_Pending] = []
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._held = database.held()  # the connection kept while outcomes keep coming

    async def submit(
        self, execution_id: str, run_id: str, attempt: int | None, outcome: Outcome
    ) -> None:
        """Queue an outcome and wait until it is committed (or given up)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outcomes.append(_Pending(execution_id, run_id, attempt, outcome, future))
        self._ready.set()
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._commit_forever(), name="loom-committer")
        await asyncio.shield(future)

    async def stop(self, timeout_seconds: float) -> None:
        """Commit what is queued (within the timeout), then end."""
        self._stopping = True
        if self._task is None:
            return
        self._ready.set()
        try:
            await asyncio.wait_for(self._task, timeout=timeout_seconds)
        except TimeoutError:
            logger.warning("the committer did not finish in time")
        self._task = None

    async def _commit_forever(self) -> None:
        try:
            while self._outcomes or not self._stopping:
                if not self._outcomes:
                    self._ready.clear()
                    try:
                        async with asyncio.timeout(1.0):
                            await self._ready.wait()
                    except TimeoutError:
                        if self._held is not None:
                            await self._held.release()  # idle: give the connection back
                        if self._stopping:
                            return
                        continue
                if not self._outcomes:
                    continue  # woken by stop()
                batch = self._outcomes[:_MAX_BATCH]
                del self._outcomes[:_MAX_BATCH]
                await self._commit_batch(batch)
        finally:
            if self._held is not None:
                await self._held.release()

    async def _commit_batch(self, batch: list[_Pending], *, last_resort: bool = False) -> None:
        unstorable: Exception | None = None
        for attempt_no in range(5):
            try:
                result = await self._apply_batch(batch)
            except _StaleRowsError:
                continue  # another writer came between: redo at once from a fresh read
            except StaleDataError:
                # A writer came between this read and this write (a lease renewal, another
                # replica's commit): redo from fresh rows, at once the first time.
                logger.debug(
                    "committing %s outcome(s): rows changed, try %s", len(batch), attempt_no + 1
                )
                if attempt_no > 0:
                    await asyncio.sleep(0.01 * attempt_no)
                continue
            except Exception as exc:
                if is_unstorable(exc) and not last_resort:
                    unstorable = exc  # trying again cannot help
                    break
                if not isinstance(exc, TRANSIENT_ERRORS):
                    logger.exception(
                        "committing %s outcome(s) failed; leases will expire", len(batch)
                    )
                    break
                logger.warning(
                    "committing %s outcome(s) failed (%s), try %s",
                    len(batch),
                    type(exc).__name__,
                    attempt_no + 1,
                )
                await asyncio.sleep(0.05 * (attempt_no + 1))
                continue
            self._on_committed(result)
            break
        else:
            logger.error("gave up committing %s outcome(s); their leases will expire", len(batch))
        if unstorable is not None:
            await self._commit_unstorable(batch, unstorable)
        for item in batch:
            if not item.future.done():
                item.future.set_result(None)

    async def _commit_unstorable(self, batch: list[_Pending], exc: Exception) -> None:
        """The database refused what a batch would write: find the outcome (each one alone)
        and fail its step with a clear error instead (a lease left to expire would run the
        step again, forever)."""
        if len(batch) > 1:
            for item in batch:
                await self._commit_batch([item])
            return
        [item] = batch
        if isinstance(item.outcome, LeaseExpired):
            logger.error("a lease expiry of %s could not be stored: %s", item.run_id, exc)
            return
        logger.warning("the outcome of step run %s could not be stored: %s", item.run_id, exc)
        failed = Failed(
            storable_text(
                f"the step's outcome could not be stored ({type(exc).__name__}: {exc}); "
                "its outputs or error hold a value the database refuses"
            ),
            retryable=False,
        )
        await self._commit_batch(
            [_Pending(item.execution_id, item.run_id, item.attempt, failed, item.future)],
            last_resort=True,
        )

    async def _apply_batch(self, batch: list[_Pending]) -> BatchResult:
        """Commit outcomes and advance their executions in one unit of work.

        ``Database.commit``: on PostgreSQL one read and one all-or-nothing write checked
        against the versions read (a concurrent writer makes it raise ``StaleDataError`` and
        the batch is redone from fresh rows); on SQLite one ``BEGIN IMMEDIATE`` transaction.
        Every execution of the batch is written, so its version orders all writers. Rows
        decided on from memory that turn out changed raise ``_StaleRowsError``.
        """
        ids = {item.execution_id for item in batch}
        kept = self._database.kept
        epoch = kept.epoch
        executions, runs_of = kept.get(ids)
        decided_on_kept = bool(executions)
        try:
            result = await self._decide_and_write(batch, ids, executions, runs_of)
        except BaseException as exc:
            kept.forget(ids)  # changed in memory and not written
            if decided_on_kept and isinstance(exc, StaleDataError):
                raise _StaleRowsError from exc
            raise
        if kept.epoch != epoch:  # leases renewed meanwhile: the rows in memory may hold old ones
            kept.forget(ids)
            return result
        for execution in executions.values():
            runs = runs_of[execution.id]
            if execution.status not in TERMINAL_EXECUTION and any(
                run.status == StepStatus.RUNNING and run.lease_owner == self._owner for run in runs
            ):
                kept.keep(execution, runs)
            else:  # ended, waiting (a delay) or running elsewhere: its next writer reads it
                kept.forget((execution.id,))
        return result

    def _applicable(self, item: _Pending, run: StepRow | None, now: datetime) -> bool:
        """Whether an outcome still applies to its step as read (not cancelled, not taken
        over, and for a lease expiry: still expired)."""
        if run is None or run.status != StepStatus.RUNNING:
            return False
        if isinstance(item.outcome, LeaseExpired):
            return run.lease_expires_at is not None and run.lease_expires_at <= now
        return run.lease_owner == self._owner and run.attempt == item.attempt

    async def _decide_and_write(
        self,
        batch: list[_Pending],
        ids: set[str],
        executions: dict[str, ExecutionRow],
        runs_of: dict[str, list[StepRow]],
    ) -> BatchResult:
        """The unit of work of :meth:`_apply_batch`; ``executions`` and ``runs_of`` hold the
        rows already known (the others are read here and added to them)."""
        result = BatchResult()
        now = result.now
        async with self._database.commit(self._held) as tx:
            if missing := ids - executions.keys():
                read, read_runs = await tx.lock(missing)
                executions.update(read)
                runs_of.update(read_runs)
            touched: dict[str, bool] = {}
            events: list[NewEvent] = []
            for item in batch:
                execution = executions.get(item.execution_id)
                if execution is None:
                    continue
                runs = runs_of[execution.id]
                run = next((r for r in runs if r.id == item.run_id), None)
                if run is None or not self._applicable(item, run, now):
                    continue
                touched.setdefault(execution.id, execution.status in TERMINAL_EXECUTION)
                defn = await tx.definition(execution.id)
                apply_outcome(run, runs, defn, item.outcome, now, events, registry=self._registry)
                if isinstance(item.outcome, Suspended):
                    result.suspended_until.append(item.outcome.resume_at)
            for execution_id, was_terminal in touched.items():
                execution = executions[execution_id]
                runs = runs_of[execution_id]
                defn = await tx.definition(execution_id)
                ready = advance(execution, defn, runs, now=now, events=events)
                if ready:
                    fused = self._claim_ready(
                        execution, runs, ready, now, events, len(result.claims)
                    )
                    result.claims.extend(fused)
                    result.woke = result.woke or len(fused) < len(ready)
                if execution.status in TERMINAL_EXECUTION and not was_terminal:
                    result.finished.append(execution)
            payloads = [notify.finished(e.id, e.status) for e in result.finished]
            if result.woke:
                payloads.append(notify.RUNNABLE)
            await tx.write(
                [executions[eid] for eid in touched],
                [run for eid in touched for run in runs_of[eid]],
                events,
                payloads,
            )
        return result
