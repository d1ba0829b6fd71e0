"""The core against an in-memory engine behind the adapter protocol: what no HTTP fake shows."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence
from typing import Any

from loom.runtime.worker import ActivateRequest, Backoff, CountingMetrics, Job, JobWorker


class FlakyEngine:
    """Hands out queued jobs; the first activation raises a bug (TypeError), not an AdapterError."""

    def __init__(self, jobs: list[Job]) -> None:
        self.jobs = jobs
        self.completed: list[str] = []
        self.calls = 0

    async def activate(self, request: ActivateRequest) -> Sequence[Job]:
        self.calls += 1
        if self.calls == 1:
            raise TypeError("adapter bug")
        batch, self.jobs = self.jobs[: request.max_jobs], self.jobs[request.max_jobs :]
        if not batch:
            await asyncio.sleep(request.request_timeout_seconds)
        return batch

    async def complete(self, job: Job, variables: Mapping[str, Any]) -> None:
        self.completed.append(job.key)

    async def fail(self, job: Job, **kwargs: Any) -> None:
        raise AssertionError("no job fails here")

    async def throw_error(self, job: Job, **kwargs: Any) -> None:
        raise AssertionError("no job throws here")

    async def heartbeat(self, job: Job, *, lease_seconds: float) -> float | None:
        return None

    async def aclose(self) -> None:
        return None


async def test_polling_goes_on_when_an_adapter_raises_an_unexpected_exception() -> None:
    engine = FlakyEngine([Job(key=str(n), type="t", variables={}, retries=1) for n in range(5)])
    worker = JobWorker(engine, request_timeout_seconds=0.2, metrics=(metrics := CountingMetrics()))

    @worker.job("t")
    async def handle() -> None:
        return None

    task = asyncio.create_task(worker.run())
    for _ in range(200):
        if len(engine.completed) == 5:
            break
        await asyncio.sleep(0.01)
    await worker.stop()
    await task
    assert sorted(engine.completed) == ["0", "1", "2", "3", "4"]
    assert metrics.poll_errors[("t", "error")] == 1


def test_backoff_grows_with_jitter_up_to_its_cap_and_honours_retry_after() -> None:
    backoff = Backoff(initial_seconds=0.1, max_seconds=1.0, jitter=0.5)
    rand = random.Random(7)
    delays = [backoff.delay(n, rand=rand) for n in range(1, 8)]
    assert all(0.05 <= d <= 0.1 for d in delays[:1])
    assert all(0.5 <= d <= 1.0 for d in delays[4:])  # capped at 1 s, at most half removed
    assert len(set(delays)) == len(delays)  # jittered
    assert backoff.delay(1, retry_after_seconds=3.0, rand=rand) == 3.0
    assert backoff.delay(1, retry_after_seconds=600.0, rand=rand) == 60.0  # a server's ask, capped
