"""The scheduler's maintenance round: renew this process's leases (and stop the steps it no
longer owns), recover steps whose lease expired, fail executions past their deadline."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from loom.engine import metrics
from loom.engine.db.models import utcnow
from loom.engine.db.rows import EXECUTIONS, STEP_RUNS, ExecutionRow
from loom.engine.db.store import TRANSIENT_ERRORS, Database
from loom.engine.domain import ACTIVE_EXECUTION, StepStatus
from loom.engine.scheduler.claims import count_runnable
from loom.engine.scheduler.outcomes import LeaseExpired, Outcome
from loom.engine.scheduler.slots import Slots
from loom.engine.scheduler.transitions import time_out_execution

logger = logging.getLogger(__name__)

# Queues an outcome for the committer and waits for it: (execution, step run, attempt, outcome).
Submit = Callable[[str, str, int | None, Outcome], Awaitable[None]]


class Maintenance:
    """One round at a time, from the poller (see :meth:`run`)."""

    def __init__(
        self,
        database: Database,
        slots: Slots,
        *,
        owner: str,
        lease_seconds: float,
        submit: Submit,
        on_timed_out: Callable[[ExecutionRow], None],
    ) -> None:
        self._database = database
        self._slots = slots
        self._owner = owner
        self._lease_seconds = lease_seconds
        self._submit = submit
        self._on_timed_out = on_timed_out

    async def run(self) -> None:
        """Heartbeat, lease recovery, time-outs, and the runnable-steps gauge."""
        now = utcnow()
        await self.heartbeat(now)
        await self.recover_expired(now)
        await self.expire_executions(now)
        async with self._database.read() as conn:
            metrics.RUNNABLE_STEPS.set(await count_runnable(conn, now=now))

    async def heartbeat(self, now: datetime) -> None:
        """Renew this process's leases; cancel the steps it no longer owns.

        Renewing a lease is not a state transition (it leaves ``row_version`` alone), so the
        committer's kept rows of these executions would hold the old lease: they are dropped
        before and after the renewal (rows read while it ran are not kept either).
        """
        mine = self._slots.run_ids()
        if not mine:
            return
        renewing = self._slots.executions_of(mine)
        kept = self._database.kept
        kept.renewing(renewing)
        try:
            await self._renew(mine, now)
        finally:
            kept.renewing(renewing)
        sr = STEP_RUNS.c
        async with self._database.read() as conn:
            lost = (
                await conn.execute(
                    sa.select(sr.id).where(
                        sr.id.in_(mine),
                        sa.or_(sr.status != StepStatus.RUNNING, sr.lease_owner != self._owner),
                    )
                )
            ).scalars()
            for run_id in lost:  # cancelled, timed out or recovered elsewhere: stop working
                self._slots.cancel(run_id)

    async def _renew(self, run_ids: list[str], now: datetime) -> None:
        """Rows are locked in id order with SKIP LOCKED: a row another transaction is writing
        (its outcome being committed, a cancel) is simply renewed next time, and two
        multi-row writers never wait for each other in opposite orders."""
        sr = STEP_RUNS.c
        async with self._database.transaction() as tx:
            lockable = list(
                (
                    await tx.conn.execute(
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
                await tx.conn.execute(
                    sa.update(STEP_RUNS)
                    .where(sr.id.in_(lockable))
                    .values(lease_expires_at=now + timedelta(seconds=self._lease_seconds))
                )

    async def recover_expired(self, now: datetime) -> None:
        """Commit a lease expiry for steps whose owner stopped renewing (not ours)."""
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
            if row.id in self._slots:
                continue
            logger.warning(
                "step run %s of execution %s: lease of %s expired",
                row.id,
                row.execution_id,
                row.lease_owner,
            )
            await self._submit(row.execution_id, row.id, None, LeaseExpired(row.lease_owner))

    async def expire_executions(self, now: datetime) -> None:
        """Fail the active executions past their deadline."""
        ex = EXECUTIONS.c
        async with self._database.read() as conn:
            late = (
                (
                    await conn.execute(
                        sa.select(ex.id).where(
                            ex.status.in_(sorted(ACTIVE_EXECUTION)), ex.deadline_at < now
                        )
                    )
                )
                .scalars()
                .all()
            )
        for execution_id in late:
            try:
                async with self._database.transaction() as tx:
                    execution = await time_out_execution(tx, execution_id, now)
            except TRANSIENT_ERRORS as exc:
                logger.warning("timing out %s failed: %s", execution_id, type(exc).__name__)
                continue
            if execution is not None:
                self._on_timed_out(execution)
