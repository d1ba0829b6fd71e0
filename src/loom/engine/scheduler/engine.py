"""The scheduler of one engine process, assembled from parts with one job each.

- the poller (here): claims runnable steps in rounds while there is capacity, and runs the
  maintenance round every third of a lease;
- :class:`~loom.engine.scheduler.slots.Slots`: one task per claimed step, bounded, and a
  done-callback that always frees the slot (the pyzeebe/Temporal worker shape);
- :class:`~loom.engine.scheduler.executor.StepExecutor`: one attempt of a step → an outcome;
- :class:`~loom.engine.scheduler.committer.Committer`: outcomes committed in batches, each
  batch advancing its executions and claiming the steps that became runnable;
- :class:`~loom.engine.scheduler.maintenance.Maintenance`: lease renewal, recovery of expired
  leases (re-run when the action is idempotent, failed with a clear error otherwise),
  executions past their deadline.

The API's units of work end in :meth:`Scheduler.after_commit`, the one entry point for what
they started, made runnable or ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime

from loom.engine import metrics
from loom.engine.actions.base import ActionRegistry, ActionSettings
from loom.engine.db.models import utcnow
from loom.engine.db.rows import ExecutionRow, NewEvent, StepRow
from loom.engine.db.store import TRANSIENT_ERRORS, Database
from loom.engine.logging import correlation_id
from loom.engine.scheduler.claims import Claim, claim_in_transaction, claim_runnable
from loom.engine.scheduler.committer import BatchResult, Committer
from loom.engine.scheduler.executor import StepExecutor
from loom.engine.scheduler.maintenance import Maintenance
from loom.engine.scheduler.outcomes import Failed, Outcome
from loom.engine.scheduler.slots import Slots
from loom.engine.services.executions import Committed
from loom.engine.settings import EngineSettings

logger = logging.getLogger(__name__)


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
        self._settings = settings
        self._owner = settings.engine_id
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._last_maintenance = 0.0
        self._starved = False
        self._on_finished = on_execution_finished
        self._slots = Slots(settings.max_concurrent_steps, on_freed=self._slot_freed)
        self._executor = StepExecutor(
            database,
            registry,
            ActionSettings(
                allow_private_networks=settings.allow_private_networks,
                http_timeout_seconds=settings.http_timeout_seconds,
            ),
        )
        self._committer = Committer(
            database,
            registry,
            owner=self._owner,
            claim_ready=self._claim_ready,
            on_committed=self._committed,
        )
        self._maintenance = Maintenance(
            database,
            self._slots,
            owner=self._owner,
            lease_seconds=settings.lease_seconds,
            submit=self._committer.submit,
            on_timed_out=self._ended,
        )

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
        still = await self._slots.drain(drain_timeout_seconds)
        if still:
            logger.warning("stopped with %s step(s) still running", still)
        await self._committer.stop(drain_timeout_seconds)

    def wake(self) -> None:
        """Look for runnable steps now instead of at the next poll."""
        self._wake.set()

    def keeps(self, execution_id: str) -> bool:
        """Whether the committer holds the rows of this execution (and will not read them)."""
        return execution_id in self._database.kept

    def cancel_local(self, execution_id: str) -> None:
        """Cancel this process's running steps of an execution."""
        self._slots.cancel_execution(execution_id)

    def claim_new(
        self,
        execution: ExecutionRow,
        runs: list[StepRow],
        ready: list[StepRow],
        now: datetime,
        events: list[NewEvent],
    ) -> list[Claim]:
        """Claim the first steps of an execution in the statement that creates it.

        The claims exist only once committed: :meth:`after_commit` starts them (a claim that
        is never committed never existed in the database either).
        """
        if not self.running:
            return []
        return self._claim_ready(execution, runs, ready, now, events, 0)

    def after_commit(self, committed: Committed) -> None:
        """What an API unit of work did, once committed: start the steps it claimed here
        (the committer starts from the rows as written instead of reading them back), wake
        the poller for runnable steps nobody claimed, stop the steps of an ended execution."""
        if committed.claims:
            self._database.kept.keep(committed.execution, committed.runs)
            self._slots.spawn(committed.claims, utcnow(), self._run_step)
        if committed.runnable:
            self._wake.set()
        if committed.ended:
            self._slots.cancel_execution(committed.execution.id)

    def _slot_freed(self) -> None:
        if self._starved and not self._stopping:
            # A slot is free again and the last round could not claim anything for lack of one.
            self._wake.set()

    def _claim_ready(
        self,
        execution: ExecutionRow,
        runs: list[StepRow],
        ready: list[StepRow],
        now: datetime,
        events: list[NewEvent],
        reserved: int,
    ) -> list[Claim]:
        """Claim steps that just became runnable, in the unit of work that made them so."""
        if self._stopping:
            return []
        return claim_in_transaction(
            execution,
            runs,
            ready,
            now,
            events,
            owner=self._owner,
            lease_seconds=self._settings.lease_seconds,
            capacity=self._slots.free - reserved,
        )

    async def _run_forever(self) -> None:
        settings = self._settings
        maintenance_every = max(min(settings.lease_seconds / 3.0, 1.0), 0.05)
        while not self._stopping:
            claimed = 0
            limit = 0
            try:
                limit = min(self._slots.free, settings.claim_batch_size)
                self._wake.clear()
                self._starved = limit <= 0
                if limit > 0:
                    claimed = await self._claim(limit)
                if time.monotonic() - self._last_maintenance >= maintenance_every:
                    self._last_maintenance = time.monotonic()
                    await self._maintenance.run()
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
        self._slots.spawn(claims, now, self._run_step)
        return len(claims)

    async def _run_step(self, claim: Claim) -> None:
        """One claimed step: the attempt, then its outcome committed."""
        token = correlation_id.set(claim.correlation_id or claim.execution_id)
        started = time.perf_counter()
        action_name = "unknown"
        try:
            defn = await self._executor.definition(claim.execution_id)
            resolved = self._executor.resolve(defn, claim)
            if isinstance(resolved, str):
                outcome: Outcome = Failed(resolved, retryable=False)
            else:
                step, action = resolved
                action_name = action.name
                outcome = await self._executor.attempt(claim, step, action)
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
            await self._committer.submit(claim.execution_id, claim.run_id, claim.attempt, outcome)
        finally:
            correlation_id.reset(token)

    def _committed(self, result: BatchResult) -> None:
        if result.claims:
            self._slots.spawn(result.claims, result.now, self._run_step)
        if result.woke:
            self._wake.set()
        for when in result.suspended_until:
            self._wake_at(when)
        for execution in result.finished:
            self._ended(execution)  # fail_fast cancelled its other running steps

    def _ended(self, execution: ExecutionRow) -> None:
        self._slots.cancel_execution(execution.id)
        metrics.EXECUTIONS_FINISHED.labels(execution.status).inc()
        if self._on_finished is not None:
            self._on_finished(execution)

    def _wake_at(self, when: datetime) -> None:
        """Look for runnable steps again when a suspended step is due (not at the next poll)."""
        delay = (when - utcnow()).total_seconds()
        if 0 < delay < 3600:
            asyncio.get_running_loop().call_later(delay + 0.001, self._wake.set)
