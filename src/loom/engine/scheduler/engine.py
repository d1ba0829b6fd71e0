"""The scheduler loop of one engine process.

Poller → bounded capacity → one task per claimed step, and a done-callback that always frees
the slot (the pyzeebe/Temporal worker shape). Each finished attempt is committed in one
transaction that also advances the execution (the execution row is locked first, so two
processes finishing sibling steps never both miss the join). A maintenance round renews this
process's leases, recovers steps whose lease expired (re-run when the action is idempotent,
failed with a clear error otherwise) and fails executions past their deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from loom.engine import metrics
from loom.engine.actions.base import (
    ActionContext,
    ActionError,
    ActionRegistry,
    ActionResult,
    ActionSettings,
    Suspend,
)
from loom.engine.db import notify
from loom.engine.db.models import utcnow
from loom.engine.db.rows import (
    EXECUTIONS,
    STEP_RUNS,
    ExecutionRow,
    NewEvent,
    StepRow,
)
from loom.engine.db.store import TRANSIENT_ERRORS, Database
from loom.engine.domain import ACTIVE_EXECUTION, TERMINAL_EXECUTION, ExecutionStatus, StepStatus
from loom.engine.logging import correlation_id
from loom.engine.scheduler.claims import (
    Claim,
    claim_in_transaction,
    claim_runnable,
    count_runnable,
)
from loom.engine.scheduler.committed import CommittedRows
from loom.engine.scheduler.dag import advance
from loom.engine.scheduler.outcomes import Completed, Failed, LeaseExpired, Outcome, Suspended
from loom.engine.scheduler.transitions import apply_outcome, time_out_execution
from loom.engine.services.executions import cached_definition, execution_definition
from loom.engine.settings import EngineSettings
from loom.engine.templates import TemplateError, render

logger = logging.getLogger(__name__)


_MAX_BATCH = 128


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


class Scheduler:
    """Claims runnable steps, runs them, commits their outcome, keeps leases alive."""

    def __init__(
        self,
        database: Database,
        registry: ActionRegistry,
        settings: EngineSettings,
        *,
        on_execution_finished: Callable[[ExecutionRow], None] | None = None,
    ) -> None:
        self._database = database
        self._registry = registry
        self._settings = settings
        self._owner = settings.engine_id
        self._action_settings = ActionSettings(
            allow_private_networks=settings.allow_private_networks,
            http_timeout_seconds=settings.http_timeout_seconds,
        )
        self._wake = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._task_execution: dict[str, str] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._last_maintenance = 0.0
        self._starved = False
        self._outcomes: list[_Pending] = []
        self._outcome_ready = asyncio.Event()
        self._committer: asyncio.Task[None] | None = None
        self._on_finished = on_execution_finished
        self._committed = CommittedRows()  # what the committer wrote last (committed.py)
        self._held = database.held()  # the committer's connection while outcomes keep coming

    @property
    def engine_id(self) -> str:
        """The owner name this process writes into leases."""
        return self._owner

    @property
    def running(self) -> bool:
        """Whether the loop is running."""
        return self._loop_task is not None and not self._loop_task.done()

    def start(self) -> None:
        """Start the loop in the current event loop."""
        if self._loop_task is None:
            self._stopping = False
            self._loop_task = asyncio.create_task(self._run_forever(), name="loom-scheduler")

    async def stop(self, *, drain_timeout_seconds: float = 5.0) -> None:
        """Stop claiming, let running steps finish within the timeout, then cancel the rest.

        Cancelled steps keep their lease; another engine (or this one after a restart) recovers
        them when it expires, by the same rules as after a crash.
        """
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        pending = list(self._tasks.values())
        if pending:
            _done, still = await asyncio.wait(pending, timeout=drain_timeout_seconds)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still, timeout=1.0)
                logger.warning("stopped with %s step(s) still running", len(still))
        if self._committer is not None:
            self._outcome_ready.set()
            try:
                await asyncio.wait_for(self._committer, timeout=drain_timeout_seconds)
            except TimeoutError:
                logger.warning("the committer did not finish in time")
            self._committer = None

    def wake(self) -> None:
        """Look for runnable steps now instead of at the next poll."""
        self._wake.set()

    def keeps(self, execution_id: str) -> bool:
        """Whether the committer holds the rows of this execution (and will not read them)."""
        return execution_id in self._committed

    def forget(self, execution_id: str) -> None:
        """Someone else in this process wrote the execution (a cancel, a retry): the
        committer reads it again instead of deciding on the rows it last wrote."""
        self._committed.forget((execution_id,))

    def cancel_local(self, execution_id: str) -> None:
        """Cancel this process's running steps of an execution (after an API cancel)."""
        for run_id, owner_execution in list(self._task_execution.items()):
            if owner_execution == execution_id:
                task = self._tasks.get(run_id)
                if task is not None:
                    task.cancel()

    async def _run_forever(self) -> None:
        settings = self._settings
        maintenance_every = max(min(settings.lease_seconds / 3.0, 1.0), 0.05)
        while not self._stopping:
            claimed = 0
            limit = 0
            try:
                capacity = settings.max_concurrent_steps - len(self._tasks)
                limit = min(capacity, settings.claim_batch_size)
                self._wake.clear()
                self._starved = limit <= 0
                if limit > 0:
                    claimed = await self._claim(limit)
                if time.monotonic() - self._last_maintenance >= maintenance_every:
                    self._last_maintenance = time.monotonic()
                    await self._maintenance()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("scheduler round failed; retrying")
                await asyncio.sleep(settings.poll_interval_seconds)
                continue
            if claimed and claimed >= limit:
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(settings.poll_interval_seconds):
                    await self._wake.wait()

    async def _claim(self, limit: int) -> int:
        now = utcnow()
        try:
            async with self._database.transaction() as tx:
                claims = await claim_runnable(
                    tx,
                    owner=self._owner,
                    limit=limit,
                    lease_seconds=self._settings.lease_seconds,
                    now=now,
                )
        except TRANSIENT_ERRORS as exc:
            logger.warning("claim round failed (%s); retrying", type(exc).__name__)
            return 0
        self._committed.forget(claim.execution_id for claim in claims)
        self._spawn(claims, now)
        return len(claims)

    def _spawn(self, claims: list[Claim], now: datetime) -> None:
        for claim in claims:
            if claim.runnable_since is not None:
                metrics.STEP_START_LATENCY.observe(
                    max((now - claim.runnable_since).total_seconds(), 0.0)
                )
            task = asyncio.create_task(self._run_step(claim), name=f"loom-step-{claim.run_id}")
            self._tasks[claim.run_id] = task
            self._task_execution[claim.run_id] = claim.execution_id
            task.add_done_callback(lambda _t, rid=claim.run_id: self._release(rid))
        metrics.RUNNING_STEPS.set(len(self._tasks))

    def _release(self, run_id: str) -> None:
        self._tasks.pop(run_id, None)
        self._task_execution.pop(run_id, None)
        metrics.RUNNING_STEPS.set(len(self._tasks))
        if self._starved and not self._stopping:
            # A slot is free again and the last round could not claim anything for lack of one.
            self._wake.set()

    async def _definition(self, execution_id: str) -> Any:
        cached = cached_definition(execution_id)
        if cached is not None:
            return cached
        async with self._database.read() as conn:
            return await execution_definition(conn, execution_id)

    async def _run_step(self, claim: Claim) -> None:
        token = correlation_id.set(claim.correlation_id or claim.execution_id)
        started = time.perf_counter()
        action_name = "unknown"
        try:
            defn = await self._definition(claim.execution_id)
            step = defn.step(claim.step_id)
            action = self._registry.get(step.action) if step is not None else None
            if step is None or action is None:
                what = step.action if step is not None else claim.step_id
                outcome: Outcome = Failed(f"unknown action {what!r}", retryable=False)
            else:
                action_name = action.name
                outcome = await self._attempt(claim, step.params, action, step.timeout_seconds)
        except asyncio.CancelledError:
            logger.info("step %s of %s cancelled", claim.step_id, claim.execution_id)
            correlation_id.reset(token)
            return
        except Exception as exc:  # an engine bug must not leave the step running forever
            logger.exception("step %s could not be prepared", claim.step_id)
            outcome = Failed(f"internal error preparing the step: {exc}", retryable=False)
        kind = type(outcome).__name__.lower()
        metrics.STEP_DURATION.labels(action_name, kind).observe(time.perf_counter() - started)
        try:
            await self._commit_outcome(claim.execution_id, claim.run_id, claim.attempt, outcome)
        finally:
            correlation_id.reset(token)

    async def _attempt(
        self, claim: Claim, raw_params: Any, action: Any, timeout_seconds: float | None
    ) -> Outcome:
        try:
            params = render(raw_params, claim.context)
        except TemplateError as exc:
            return Failed(f"the step parameters could not be rendered: {exc}", retryable=False)
        now = utcnow()
        timeout = timeout_seconds
        if claim.deadline_at is not None:
            left = max((claim.deadline_at - now).total_seconds(), 0.001)
            timeout = left if timeout is None else min(timeout, left)
        ctx = ActionContext(
            execution_id=claim.execution_id,
            step_id=claim.step_id,
            attempt=claim.attempt,
            params=cast("dict[str, Any]", params) if isinstance(params, dict) else {},
            logger=logging.getLogger(f"loom.engine.step.{action.name}"),
            settings=self._action_settings,
            resume_state=claim.resume_state,
            now=now,
        )
        try:
            result = await asyncio.wait_for(action.run(ctx), timeout=timeout)
        except TimeoutError:
            return Failed(f"the step timed out after {timeout:.3f} s")
        except ActionError as exc:
            return Failed(exc.message, retryable=exc.retryable)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("action %s raised %s", action.name, type(exc).__name__, exc_info=True)
            return Failed(f"action {action.name!r} raised {type(exc).__name__}: {exc}")
        if isinstance(result, Suspend):
            return Suspended(result.resume_at, dict(result.state))
        if isinstance(result, ActionResult):
            return Completed(dict(result.outputs), frozenset(result.skip_steps))
        return Failed(f"action {action.name!r} returned {type(result).__name__}", retryable=False)

    async def _commit_outcome(
        self, execution_id: str, run_id: str, attempt: int | None, outcome: Outcome
    ) -> None:
        """Queue an outcome for the committer and wait until it is committed (or given up)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outcomes.append(_Pending(execution_id, run_id, attempt, outcome, future))
        self._outcome_ready.set()
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_forever(), name="loom-committer")
        await asyncio.shield(future)

    async def _commit_forever(self) -> None:
        """Commit queued outcomes in batches: one transaction for everything that finished
        while the previous batch was being written (sibling steps usually finish together)."""
        try:
            while self._outcomes or not self._stopping:
                if not self._outcomes:
                    self._outcome_ready.clear()
                    try:
                        async with asyncio.timeout(1.0):
                            await self._outcome_ready.wait()
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

    async def _commit_batch(self, batch: list[_Pending]) -> None:
        for attempt_no in range(5):
            try:
                finished, claims, woke, now = await self._apply_batch(batch)
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
            except TRANSIENT_ERRORS as exc:
                logger.warning(
                    "committing %s outcome(s) failed (%s), try %s",
                    len(batch),
                    type(exc).__name__,
                    attempt_no + 1,
                )
                await asyncio.sleep(0.05 * (attempt_no + 1))
                continue
            except Exception:
                logger.exception("committing %s outcome(s) failed; leases will expire", len(batch))
                break
            if claims:
                self._spawn(claims, now)
            if woke:
                self._wake.set()
            for execution in finished:
                self.cancel_local(execution.id)  # fail_fast cancelled its other running steps
                metrics.EXECUTIONS_FINISHED.labels(execution.status).inc()
                if self._on_finished is not None:
                    self._on_finished(execution)
            break
        else:
            logger.error("gave up committing %s outcome(s); their leases will expire", len(batch))
        for item in batch:
            if not item.future.done():
                item.future.set_result(None)

    async def _apply_batch(
        self, batch: list[_Pending]
    ) -> tuple[list[ExecutionRow], list[Claim], bool, datetime]:
        """Commit outcomes and advance their executions in one unit of work.

        ``Database.commit``: on PostgreSQL one read and one all-or-nothing write checked
        against the versions read (a concurrent writer makes it raise ``StaleDataError`` and
        the batch is redone from fresh rows); on SQLite one ``BEGIN IMMEDIATE`` transaction.
        Every execution of the batch is written, so its version orders all writers. On
        The rows this process committed last are taken from memory instead of being read
        (:mod:`loom.engine.scheduler.committed`); a write that finds them changed raises
        ``_StaleRowsError`` and the batch is redone at once from a fresh read.
        """
        now = utcnow()
        ids = {item.execution_id for item in batch}
        kept = self._committed
        epoch = kept.epoch
        executions, runs_of = kept.get(ids)
        decided_on_kept = bool(executions)
        try:
            result = await self._decide_and_write(batch, ids, now, executions, runs_of)
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

    async def _decide_and_write(
        self,
        batch: list[_Pending],
        ids: set[str],
        now: datetime,
        executions: dict[str, ExecutionRow],
        runs_of: dict[str, list[StepRow]],
    ) -> tuple[list[ExecutionRow], list[Claim], bool, datetime]:
        """The unit of work of :meth:`_apply_batch`; ``executions`` and ``runs_of`` hold the
        rows already known (the others are read here and added to them)."""
        claims: list[Claim] = []
        woke = False
        finished: list[ExecutionRow] = []
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
                if run is None or run.status != StepStatus.RUNNING:
                    continue
                if isinstance(item.outcome, LeaseExpired):
                    if run.lease_expires_at is None or run.lease_expires_at > now:
                        continue
                elif run.lease_owner != self._owner or run.attempt != item.attempt:
                    continue
                touched.setdefault(execution.id, execution.status in TERMINAL_EXECUTION)
                defn = await execution_definition(tx.conn, execution.id)
                apply_outcome(run, runs, defn, item.outcome, now, events, registry=self._registry)
                if isinstance(item.outcome, Suspended):
                    self._wake_at(item.outcome.resume_at)
            for execution_id, was_terminal in touched.items():
                execution = executions[execution_id]
                runs = runs_of[execution_id]
                defn = await execution_definition(tx.conn, execution_id)
                ready = advance(execution, defn, runs, now=now, events=events)
                if ready and not self._stopping:
                    fused = self._claim_ready(execution, runs, ready, now, events, len(claims))
                    claims.extend(fused)
                    woke = woke or len(fused) < len(ready)
                elif ready:
                    woke = True
                if execution.status in TERMINAL_EXECUTION and not was_terminal:
                    finished.append(execution)
            payloads = [notify.finished(e.id, e.status) for e in finished]
            if woke:
                payloads.append(notify.RUNNABLE)
            await tx.write(
                [executions[eid] for eid in touched],
                [run for eid in touched for run in runs_of[eid]],
                events,
                payloads,
            )
        return finished, claims, woke, now

    def _wake_at(self, when: datetime) -> None:
        """Look for runnable steps again when a suspended step is due (not at the next poll)."""
        delay = (when - utcnow()).total_seconds()
        if 0 < delay < 3600:
            asyncio.get_running_loop().call_later(delay + 0.001, self._wake.set)

    def claim_new(
        self,
        execution: ExecutionRow,
        runs: list[StepRow],
        ready: list[StepRow],
        now: datetime,
        events: list[NewEvent],
    ) -> list[Claim]:
        """Claim the first steps of an execution in the transaction that creates it.

        The caller runs :meth:`spawn` with the result after the commit (a claim that is never
        spawned, because the commit failed, never existed in the database either).
        """
        if self._stopping or not self.running:
            return []
        return self._claim_ready(execution, runs, ready, now, events)

    def spawn(
        self, claims: list[Claim], created: tuple[ExecutionRow, list[StepRow]] | None = None
    ) -> None:
        """Start the tasks of claims made by :meth:`claim_new`, once they are committed.

        ``created`` is the new execution and its steps as the create statement wrote them: the
        committer starts from them instead of reading them back.
        """
        if claims:
            if created is not None:
                self._committed.keep(*created)
            self._spawn(claims, utcnow())

    def _claim_ready(
        self,
        execution: ExecutionRow,
        runs: list[StepRow],
        ready: list[StepRow],
        now: datetime,
        events: list[NewEvent],
        reserved: int = 0,
    ) -> list[Claim]:
        """Claim steps that just became runnable, in the transaction that made them so."""
        return claim_in_transaction(
            execution,
            runs,
            ready,
            now,
            events,
            owner=self._owner,
            lease_seconds=self._settings.lease_seconds,
            capacity=self._settings.max_concurrent_steps - len(self._tasks) - reserved,
        )

    async def _maintenance(self) -> None:
        now = utcnow()
        await self._heartbeat(now)
        await self._recover_expired(now)
        await self._expire_executions(now)
        async with self._database.read() as conn:
            metrics.RUNNABLE_STEPS.set(await count_runnable(conn, now=now))

    async def _heartbeat(self, now: datetime) -> None:
        """Renew this process's leases; cancel the steps it no longer owns.

        Rows are locked in id order with SKIP LOCKED: a row another transaction is writing
        (its outcome being committed, a cancel) is simply renewed next time, and two
        multi-row writers never wait for each other in opposite orders. Renewing a lease is
        not a state transition: it leaves ``row_version`` alone.
        """
        mine = sorted(self._tasks)
        if not mine:
            return
        renewing = {self._task_execution[run_id] for run_id in mine}
        self._renewing(renewing)
        try:
            await self._renew(mine, now)
        finally:
            self._renewing(renewing)  # rows read while renewing are not kept either
        sr = STEP_RUNS.c
        async with self._database.read() as conn:
            lost = set(
                (
                    await conn.execute(
                        sa.select(sr.id).where(
                            sr.id.in_(mine),
                            sa.or_(sr.status != StepStatus.RUNNING, sr.lease_owner != self._owner),
                        )
                    )
                ).scalars()
            )
        for run_id in lost:
            task = self._tasks.get(run_id)
            if task is not None:
                # Cancelled, timed out or recovered elsewhere: stop working on it.
                task.cancel()

    def _renewing(self, execution_ids: set[str]) -> None:
        """Leases of these executions' steps are being renewed: the rows the committer kept
        hold the old ones (see committed.py)."""
        self._committed.epoch += 1
        self._committed.forget(execution_ids)

    async def _renew(self, run_ids: list[str], now: datetime) -> None:
        sr = STEP_RUNS.c
        async with self._database.transaction() as tx:
            conn = tx.conn
            lockable = list(
                (
                    await conn.execute(
                        sa.select(sr.id)
                        .where(
                            sr.id.in_(run_ids),
                            sr.status == StepStatus.RUNNING,
                            sr.lease_owner == self._owner,
                        )
                        .order_by(sr.id)
                        .with_for_update(skip_locked=True)
                    )
                ).scalars()
            )
            if lockable:
                await conn.execute(
                    sa.update(STEP_RUNS)
                    .where(sr.id.in_(lockable))
                    .values(lease_expires_at=now + timedelta(seconds=self._settings.lease_seconds))
                )

    async def _recover_expired(self, now: datetime) -> None:
        sr = STEP_RUNS.c
        async with self._database.read() as conn:
            expired = (
                await conn.execute(
                    sa.select(sr.id, sr.execution_id, sr.lease_owner)
                    .where(sr.status == StepStatus.RUNNING, sr.lease_expires_at < now)
                    .limit(100)
                )
            ).all()
        for row in expired:
            if row.id in self._tasks:
                continue
            logger.warning(
                "step run %s of execution %s: lease of %s expired",
                row.id,
                row.execution_id,
                row.lease_owner,
            )
            await self._commit_outcome(
                row.execution_id, row.id, None, LeaseExpired(row.lease_owner)
            )

    async def _expire_executions(self, now: datetime) -> None:
        ex = EXECUTIONS.c
        async with self._database.read() as conn:
            late = (
                (
                    await conn.execute(
                        sa.select(ex.id).where(
                            ex.status.in_(ACTIVE_EXECUTION), ex.deadline_at < now
                        )
                    )
                )
                .scalars()
                .all()
            )
        for execution_id in late:
            try:
                await self._time_out(execution_id, now)
            except TRANSIENT_ERRORS as exc:
                logger.warning("timing out %s failed: %s", execution_id, type(exc).__name__)

    async def _time_out(self, execution_id: str, now: datetime) -> None:
        try:
            async with self._database.transaction() as tx:
                execution = await time_out_execution(tx, execution_id, now)
        finally:
            self.forget(execution_id)
        if execution is not None:
            metrics.EXECUTIONS_FINISHED.labels(ExecutionStatus.FAILED).inc()
            self.cancel_local(execution_id)
            if self._on_finished is not None:
                self._on_finished(execution)
