"""``JobWorker``: one poller per job type → bounded capacity → one task per job.

- **Capacity.** Each job type has ``max_in_flight`` slots. Activation asks only for the free
  slots and, since the server long-polls, polls again at once whenever a slot is free (a full
  batch is followed by the next request immediately, not by a fixed sleep). A done-callback on
  every job task frees its slot, whatever happened to the task.
- **Back-off.** A failed activation backs off exponentially with jitter (``Backoff``), at least
  as long as a 429/503's ``Retry-After``; a refused connection is retried the same way, so the
  worker reconnects when the server comes back.
- **Reports.** complete / fail / throw error are retried on backpressure and lost connections
  until the job's lease ends; a 404/409 (``JobLost``) means another worker owns the job now.
- **Shutdown in stages** (``stop()``, or SIGTERM/SIGINT with ``run(handle_signals=True)``):
  stop polling; let running jobs finish within ``drain_timeout_seconds``; then cancel what is
  left and fail those jobs with their retries unchanged, a short back-off and a message saying
  why, so no job waits for its lease to expire. A second signal skips the drain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..retries import parse_retry_after
from .context import JobContext
from .execution import Complete, Executors, Fail, Outcome, ThrowError, run_handler
from .job import (
    ActivateRequest,
    AdapterError,
    Backpressure,
    Job,
    JobAdapter,
    JobLost,
    ServerUnavailable,
)
from .metrics import NullMetrics, WorkerMetrics
from .registry import Handler, HandlerSpec, Router, Strategy

__all__ = ["Backoff", "JobWorker", "parse_retry_after"]

logger = logging.getLogger("loom.worker")

#: An empty answer faster than this means the server does not long-poll: pause before the next.
EAGER_EMPTY_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential back-off with jitter for failed activations and reports.

    Attributes:
        initial_seconds: the first delay before jitter.
        max_seconds: the cap.
        jitter: the fraction of each delay that is randomly removed.
    """

    initial_seconds: float = 0.1
    max_seconds: float = 10.0
    jitter: float = 0.5

    def delay(
        self, failures: int, *, retry_after_seconds: float | None = None, rand: random.Random
    ) -> float:
        """The delay after ``failures`` consecutive failures (1 for the first)."""
        base = min(self.max_seconds, self.initial_seconds * 2 ** max(failures - 1, 0))
        delay = base * (1 - self.jitter * rand.random())
        return max(delay, min(retry_after_seconds or 0.0, 60.0))


@dataclass(eq=False)
class _Running:
    job: Job
    spec: HandlerSpec
    started: float
    task: asyncio.Task[None] | None = None
    reporting: bool = False


@dataclass(eq=False)
class _Poller:
    spec: HandlerSpec
    capacity: int
    running: dict[str, _Running] = field(default_factory=dict[str, _Running])
    slot_freed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class JobWorker:
    """Runs the handlers of a ``Router`` against one adapter (one engine).

    Example::

        worker = JobWorker(CamundaAdapter("http://localhost:8080/v2"), name="billing")

        @worker.job("charge-card")
        async def charge(order: Order, ctx: JobContext) -> Receipt: ...

        await worker.run(handle_signals=True)

    Args:
        adapter: the engine's job protocol.
        name: the worker name sent at activation.
        max_in_flight: jobs of one type running at once (a handler's own value wins).
        request_timeout_seconds: how long one activation may long-poll.
        drain_timeout_seconds: how long ``stop()`` lets running jobs finish.
        shutdown_retry_backoff_seconds: the back-off of jobs failed back at shutdown.
        tenant_ids: tenants to activate jobs of.
        metrics: the metrics hook.
        backoff: back-off of failed activations and reports.
        thread_pool_size: threads of the ``thread`` strategy (default: the largest capacity).
        process_pool_size: processes of the ``process`` strategy (default: the CPU count).
    """

    def __init__(
        self,
        adapter: JobAdapter,
        *,
        name: str = "loom-worker",
        max_in_flight: int = 16,
        request_timeout_seconds: float = 20.0,
        drain_timeout_seconds: float = 30.0,
        shutdown_retry_backoff_seconds: float = 1.0,
        tenant_ids: Iterable[str] | None = None,
        metrics: WorkerMetrics | None = None,
        backoff: Backoff | None = None,
        thread_pool_size: int | None = None,
        process_pool_size: int | None = None,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.adapter = adapter
        self.name = name
        self.max_in_flight = max_in_flight
        self.request_timeout_seconds = request_timeout_seconds
        self.drain_timeout_seconds = drain_timeout_seconds
        self.shutdown_retry_backoff_seconds = shutdown_retry_backoff_seconds
        self.tenant_ids = tuple(tenant_ids) if tenant_ids else None
        self.metrics: WorkerMetrics = metrics or NullMetrics()
        self.backoff = backoff or Backoff()
        self.router = Router()
        self._thread_pool_size = thread_pool_size
        self._process_pool_size = process_pool_size
        self._rand = random.Random()
        self._pollers: list[_Poller] = []
        self._executors = Executors(None, None)
        self._stop = asyncio.Event()
        self._skip_drain = False
        self._finished = asyncio.Event()
        self._started = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- registration -------------------------------------------------------------------------

    def job(
        self,
        job_type: str,
        *,
        strategy: Strategy = "auto",
        lease_seconds: float = 30.0,
        max_in_flight: int | None = None,
        fetch_variables: tuple[str, ...] | list[str] | None = None,
        retry_backoff_seconds: float = 1.0,
    ) -> Callable[[Handler], Handler]:
        """Register a handler on this worker's router (see ``Router.job``)."""
        return self.router.job(
            job_type,
            strategy=strategy,
            lease_seconds=lease_seconds,
            max_in_flight=max_in_flight,
            fetch_variables=fetch_variables,
            retry_backoff_seconds=retry_backoff_seconds,
        )

    def include_router(self, router: Router) -> None:
        """Add every handler of ``router``."""
        self.router.include(router)

    # -- life cycle ---------------------------------------------------------------------------

    async def run(self, *, handle_signals: bool = False) -> None:
        """Poll and run jobs until ``stop()`` (or SIGTERM/SIGINT), then shut down in stages.

        Raises:
            RuntimeError: no handler is registered, or the worker already ran.
        """
        if self._started:
            raise RuntimeError("a JobWorker runs once; create a new one")
        if not len(self.router):
            raise RuntimeError(f"worker {self.name!r} has no handlers: register one with @job")
        self._started = True
        self._loop = asyncio.get_running_loop()
        self._executors = self._make_executors()
        installed = self._install_signals() if handle_signals else []
        try:
            for spec in self.router:
                capacity = spec.max_in_flight or self.max_in_flight
                poller = _Poller(spec, capacity)
                poller.task = asyncio.create_task(
                    self._poll(poller), name=f"loom-worker-poll-{spec.job_type}"
                )
                self._pollers.append(poller)
            types = ", ".join(f"{p.spec.job_type} x{p.capacity}" for p in self._pollers)
            logger.info("worker %s polling %s", self.name, types)
            await self._stop.wait()
            await self._shutdown()
        finally:
            for sig in installed:
                self._loop.remove_signal_handler(sig)
            self._finished.set()

    def request_stop(self, *, drain: bool = True) -> None:
        """Ask ``run()`` to shut down; safe from signal handlers and other threads."""
        loop = self._loop
        if loop is None:
            self._skip_drain = self._skip_drain or not drain
            self._stop.set()
            return

        def stop() -> None:
            if self._stop.is_set() and drain is False:
                logger.warning("worker %s: second signal, failing running jobs back now", self.name)
            self._skip_drain = self._skip_drain or not drain
            self._stop.set()

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            stop()
        else:
            loop.call_soon_threadsafe(stop)

    async def stop(self, *, drain: bool = True) -> None:
        """Shut down in stages and wait until ``run()`` has returned."""
        self.request_stop(drain=drain)
        if self._started:
            await self._finished.wait()

    @property
    def in_flight(self) -> int:
        """Jobs running now, over all types."""
        return sum(len(p.running) for p in self._pollers)

    def _install_signals(self) -> list[int]:
        assert self._loop is not None
        installed: list[int] = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._loop.add_signal_handler(sig, self._on_signal, sig)
            except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
                continue
            installed.append(sig)
        return installed

    def _on_signal(self, sig: int) -> None:
        name = signal.Signals(sig).name
        if self._stop.is_set():
            self.request_stop(drain=False)
            return
        logger.info(
            "worker %s: %s, stopping (drain up to %.1f s)",
            self.name,
            name,
            self.drain_timeout_seconds,
        )
        self.request_stop()

    def _make_executors(self) -> Executors:
        strategies = {spec.strategy for spec in self.router}
        largest = max((s.max_in_flight or self.max_in_flight) for s in self.router)
        threads: Executor | None = None
        processes: Executor | None = None
        if "thread" in strategies:
            threads = ThreadPoolExecutor(
                self._thread_pool_size or largest, thread_name_prefix=f"{self.name}-job"
            )
        if "process" in strategies:
            import multiprocessing

            # spawn: forking a process that runs an event loop and threads is unsafe.
            processes = ProcessPoolExecutor(
                self._process_pool_size, mp_context=multiprocessing.get_context("spawn")
            )
        return Executors(threads, processes)

    # -- polling ------------------------------------------------------------------------------

    async def _poll(self, poller: _Poller) -> None:
        spec = poller.spec
        failures = 0
        while not self._stop.is_set():
            free = poller.capacity - len(poller.running)
            if free <= 0:
                poller.slot_freed.clear()
                await poller.slot_freed.wait()
                continue
            request = ActivateRequest(
                job_type=spec.job_type,
                max_jobs=free,
                lease_seconds=spec.lease_seconds,
                worker_name=self.name,
                request_timeout_seconds=self.request_timeout_seconds,
                fetch_variables=spec.fetch_variables,
                tenant_ids=self.tenant_ids,
            )
            asked = time.monotonic()
            try:
                jobs = await self.adapter.activate(request)
            except (AdapterError, OSError) as exc:
                failures += 1
                await self._sleep(self._poll_delay(spec, exc, failures))
                continue
            if failures:
                logger.info("worker %s: %s activation works again", self.name, spec.job_type)
            failures = 0
            if jobs:
                self.metrics.activated(spec.job_type, len(jobs))
            for job in jobs:
                self._start_job(poller, job)
            if not jobs and time.monotonic() - asked < EAGER_EMPTY_SECONDS:
                await self._sleep(min(self.request_timeout_seconds, 0.5))

    def _poll_delay(self, spec: HandlerSpec, exc: BaseException, failures: int) -> float:
        retry_after = exc.retry_after_seconds if isinstance(exc, Backpressure) else None
        reason = (
            "backpressure"
            if isinstance(exc, Backpressure)
            else "unavailable"
            if isinstance(exc, (ServerUnavailable, OSError))
            else "error"
        )
        self.metrics.poll_error(spec.job_type, reason)
        delay = self.backoff.delay(failures, retry_after_seconds=retry_after, rand=self._rand)
        log = logger.warning if failures in (1, 10) or failures % 100 == 0 else logger.debug
        log(
            "worker %s: activating %s failed (%s, %d in a row): %s; next try in %.2f s",
            self.name,
            spec.job_type,
            reason,
            failures,
            exc,
            delay,
        )
        return delay

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    # -- one job ------------------------------------------------------------------------------

    def _start_job(self, poller: _Poller, job: Job) -> None:
        if job.key in poller.running:  # the server handed out a job this worker still runs
            logger.warning("worker %s: job %s activated twice; ignored", self.name, job.key)
            return
        running = _Running(job, poller.spec, time.perf_counter())
        poller.running[job.key] = running
        task = asyncio.create_task(self._execute(running), name=f"loom-job-{job.key}")
        running.task = task
        task.add_done_callback(lambda t: self._release(poller, running, t))
        self.metrics.in_flight(poller.spec.job_type, len(poller.running))

    def _release(self, poller: _Poller, running: _Running, task: asyncio.Task[None]) -> None:
        # The one place a slot is freed: runs for every job task, however it ended.
        if poller.running.get(running.job.key) is running:
            del poller.running[running.job.key]
        poller.slot_freed.set()
        self.metrics.in_flight(poller.spec.job_type, len(poller.running))
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error(
                "worker %s: job %s crashed the worker's task",
                self.name,
                running.job.key,
                exc_info=exc,
            )

    async def _execute(self, running: _Running) -> None:
        job, spec = running.job, running.spec
        if self._stop.is_set():  # activated while the worker stopped: give it back at once
            await self._abandon(running, "the worker was stopping when the job arrived", 0.0)
            return
        context = JobContext(
            job,
            worker_name=self.name,
            beat=lambda lease: self._heartbeat(job, lease or spec.lease_seconds),
            loop=asyncio.get_running_loop(),
            logger=logger,
        )
        outcome = await run_handler(spec, job, context, self._executors)
        running.reporting = True
        duration = time.perf_counter() - running.started
        kind = await self._report(job, outcome)
        self.metrics.finished(spec.job_type, kind, duration)

    async def _heartbeat(self, job: Job, lease_seconds: float) -> float | None:
        return await self.adapter.heartbeat(job, lease_seconds=lease_seconds)

    async def _report(self, job: Job, outcome: Outcome) -> Any:
        if isinstance(outcome, Complete):
            kind, send = "completed", lambda: self.adapter.complete(job, outcome.variables)
        elif isinstance(outcome, Fail):
            kind = "failed"

            def send() -> Any:
                return self.adapter.fail(
                    job,
                    message=outcome.message,
                    retries=outcome.retries,
                    retry_backoff_seconds=outcome.retry_backoff_seconds,
                    variables=outcome.variables,
                )
        else:
            assert isinstance(outcome, ThrowError)
            kind = "error"

            def send() -> Any:
                return self.adapter.throw_error(
                    job, code=outcome.code, message=outcome.message, variables=outcome.variables
                )

        return kind if await self._send(job, kind, send) else "lost"

    async def _send(self, job: Job, what: str, send: Callable[[], Any]) -> bool:
        """Send one report, retrying transient errors until the lease ends; False if lost."""
        failures = 0
        until = job.deadline if job.deadline is not None else time.time() + 60.0
        while True:
            try:
                await send()
            except JobLost as exc:
                logger.warning("worker %s: job %s not %s: %s", self.name, job.key, what, exc)
                return False
            except (Backpressure, ServerUnavailable, OSError) as exc:
                failures += 1
                retry_after = exc.retry_after_seconds if isinstance(exc, Backpressure) else None
                delay = self.backoff.delay(
                    failures, retry_after_seconds=retry_after, rand=self._rand
                )
                logger.debug(
                    "worker %s: job %s not %s yet (%s); retry in %.2f s",
                    self.name,
                    job.key,
                    what,
                    exc,
                    delay,
                )
                if time.time() + delay > until:
                    logger.error(
                        "worker %s: job %s could not be %s before its lease ended: %s",
                        self.name,
                        job.key,
                        what,
                        exc,
                    )
                    return False
                await asyncio.sleep(delay)
                continue
            except AdapterError as exc:
                logger.error("worker %s: job %s not %s: %s", self.name, job.key, what, exc)
                return False
            return True

    async def _abandon(self, running: _Running, why: str, backoff_seconds: float) -> None:
        job = running.job
        message = f"worker {self.name} stopped before the job finished ({why}); it will be retried"
        sent = await self._send(
            job,
            "failed back",
            lambda: self.adapter.fail(
                job, message=message, retries=job.retries, retry_backoff_seconds=backoff_seconds
            ),
        )
        duration = time.perf_counter() - running.started
        self.metrics.finished(job.type, "abandoned" if sent else "lost", duration)

    # -- shutdown -----------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        pollers = [p.task for p in self._pollers if p.task is not None]
        for task in pollers:
            task.cancel()
        await asyncio.gather(*pollers, return_exceptions=True)
        running = self._all_running()
        if running and not self._skip_drain:
            logger.info(
                "worker %s: draining %d jobs (up to %.1f s)",
                self.name,
                len(running),
                self.drain_timeout_seconds,
            )
            tasks = [r.task for r in running if r.task is not None]
            await asyncio.wait(tasks, timeout=self.drain_timeout_seconds)
        left = [r for r in self._all_running() if not r.reporting]
        if left:
            why = (
                f"not finished within the drain timeout of {self.drain_timeout_seconds:g} s"
                if not self._skip_drain
                else "stopped without draining"
            )
            logger.warning("worker %s: failing back %d running jobs: %s", self.name, len(left), why)
            for r in left:
                if r.task is not None:
                    r.task.cancel()
            await asyncio.gather(
                *(self._abandon(r, why, self.shutdown_retry_backoff_seconds) for r in left)
            )
        reporting = [r.task for r in self._all_running() if r.task is not None]
        if reporting:  # reports already on the wire: give them a moment, then give up
            await asyncio.wait(reporting, timeout=5.0)
        for executor in (self._executors.threads, self._executors.processes):
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)
        await self.adapter.aclose()
        logger.info("worker %s stopped", self.name)

    def _all_running(self) -> list[_Running]:
        return [r for p in self._pollers for r in p.running.values()]
