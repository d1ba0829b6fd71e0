"""The steps this process is running: one task per claimed step, and a done-callback that
always frees its slot (the pyzeebe/Temporal worker shape)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from typing import Any

from loom.engine import metrics
from loom.engine.scheduler.claims import Claim


class Slots:
    """Running step tasks by step-run id, bounded by ``capacity``.

    Args:
        capacity: how many steps may run at once in this process.
        on_freed: called when a slot frees up (the poller looks again if it was starved).
    """

    def __init__(self, capacity: int, *, on_freed: Callable[[], None]) -> None:
        self.capacity = capacity
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._execution_of: dict[str, str] = {}
        self._on_freed = on_freed

    def __len__(self) -> int:
        return len(self._tasks)

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._tasks

    @property
    def free(self) -> int:
        """Slots left (may be negative while claims made in a transaction start)."""
        return self.capacity - len(self._tasks)

    def run_ids(self) -> list[str]:
        """The step runs running here, sorted (the heartbeat locks them in this order)."""
        return sorted(self._tasks)

    def executions_of(self, run_ids: Iterable[str]) -> set[str]:
        """The executions the given running steps belong to."""
        return {self._execution_of[run_id] for run_id in run_ids if run_id in self._execution_of}

    def spawn(
        self,
        claims: Iterable[Claim],
        now: datetime,
        run: Callable[[Claim], Coroutine[Any, Any, None]],
    ) -> None:
        """Start one task per claim."""
        for claim in claims:
            if claim.runnable_since is not None:
                metrics.STEP_START_LATENCY.observe(
                    max((now - claim.runnable_since).total_seconds(), 0.0)
                )
            task = asyncio.create_task(run(claim), name=f"loom-step-{claim.run_id}")
            self._tasks[claim.run_id] = task
            self._execution_of[claim.run_id] = claim.execution_id
            task.add_done_callback(lambda _t, rid=claim.run_id: self._release(rid))
        metrics.RUNNING_STEPS.set(len(self._tasks))

    def _release(self, run_id: str) -> None:
        self._tasks.pop(run_id, None)
        self._execution_of.pop(run_id, None)
        metrics.RUNNING_STEPS.set(len(self._tasks))
        self._on_freed()

    def cancel(self, run_id: str) -> None:
        """Cancel one running step (its lease is left to expire or to be taken over)."""
        task = self._tasks.get(run_id)
        if task is not None:
            task.cancel()

    def cancel_execution(self, execution_id: str) -> None:
        """Cancel this process's running steps of an execution."""
        for run_id, owner in list(self._execution_of.items()):
            if owner == execution_id:
                self.cancel(run_id)

    async def drain(self, timeout_seconds: float) -> int:
        """Wait for running steps up to the timeout, then cancel the rest; how many were."""
        pending = list(self._tasks.values())
        if not pending:
            return 0
        _done, still = await asyncio.wait(pending, timeout=timeout_seconds)
        for task in still:
            task.cancel()
        if still:
            await asyncio.wait(still, timeout=1.0)
        return len(still)
