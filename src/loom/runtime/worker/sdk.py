"""Job workers on a generated SDK's ``AsyncClient``: ``create_job_worker``,
``@client.job_worker``, ``run_workers()``.

A generated SDK whose configuration names a worker adapter (``[worker] adapter = "camunda"``
or ``"conductor"``) bases its ``AsyncClient`` on ``WorkerAsyncAPIClient``. Workers then share
the client's connection pool, auth (the OAuth token included), TLS settings and base URL.
The decorator is ``job_worker``, not ``job``: Camunda's schema has a ``Job`` tag, so
``client.job`` is its resource::

    client = AsyncClient()                      # CAMUNDA_REST_ADDRESS, credentials, ...

    @client.job_worker("charge-card", max_in_flight=8)
    async def charge(order: Order, ctx: JobContext) -> Receipt: ...

    await client.run_workers()                  # until SIGTERM/SIGINT, then drain
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Literal

from ..client import AsyncAPIClient
from .core import JobWorker
from .job import JobAdapter
from .metrics import WorkerMetrics
from .registry import Handler, Strategy

__all__ = ["WorkerAsyncAPIClient"]


class WorkerAsyncAPIClient(AsyncAPIClient):
    """``AsyncAPIClient`` plus job workers for the SDK's engine (``worker_adapter``)."""

    worker_adapter: ClassVar[Literal["camunda", "conductor"]] = "camunda"

    def create_job_worker(
        self,
        job_type: str,
        handler: Handler,
        *,
        name: str | None = None,
        strategy: Strategy = "auto",
        max_in_flight: int = 16,
        lease_seconds: float = 30.0,
        fetch_variables: Iterable[str] | None = None,
        retry_backoff_seconds: float = 1.0,
        request_timeout_seconds: float = 20.0,
        drain_timeout_seconds: float = 30.0,
        tenant_ids: Iterable[str] | None = None,
        metrics: WorkerMetrics | None = None,
    ) -> JobWorker:
        """A worker running ``handler`` for ``job_type`` (started by ``run_workers()``).

        Raises:
            RegistrationError: the handler's signature or strategy is not usable.
        """
        worker = JobWorker(
            self._job_adapter(),
            name=name or f"{self.sdk_info.name}-worker",
            max_in_flight=max_in_flight,
            request_timeout_seconds=request_timeout_seconds,
            drain_timeout_seconds=drain_timeout_seconds,
            tenant_ids=tenant_ids,
            metrics=metrics,
        )
        worker.job(
            job_type,
            strategy=strategy,
            lease_seconds=lease_seconds,
            fetch_variables=list(fetch_variables) if fetch_variables is not None else None,
            retry_backoff_seconds=retry_backoff_seconds,
        )(handler)
        self._job_workers().append(worker)
        return worker

    def job_worker(self, job_type: str, **options: Any) -> Callable[[Handler], Handler]:
        """Decorator form of ``create_job_worker`` (same keyword options)."""

        def register(handler: Handler) -> Handler:
            self.create_job_worker(job_type, handler, **options)
            return handler

        return register

    async def run_workers(self, *, handle_signals: bool = True) -> None:
        """Run every worker of this client until ``stop_workers()`` or SIGTERM/SIGINT.

        Each stops in stages (see ``JobWorker``): polling ends, running jobs get the drain
        timeout, what is left is failed back. A second signal skips the drain.

        Raises:
            RuntimeError: no worker was created.
        """
        workers = list(self._job_workers())
        if not workers:
            raise RuntimeError("no job workers: create one with client.create_job_worker()")
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, self._on_worker_signal)
                    installed.append(sig)
        self._signals_seen = 0
        try:
            await asyncio.gather(*(w.run() for w in workers))
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    async def stop_workers(self, *, drain: bool = True) -> None:
        """Stop every worker of this client in stages and wait for them."""
        await asyncio.gather(*(w.stop(drain=drain) for w in self._job_workers()))

    def _on_worker_signal(self) -> None:
        self._signals_seen = getattr(self, "_signals_seen", 0) + 1
        for worker in self._job_workers():
            worker.request_stop(drain=self._signals_seen == 1)

    def _job_workers(self) -> list[JobWorker]:
        workers: list[JobWorker] | None = getattr(self, "_workers_created", None)
        if workers is None:
            workers = []
            self._workers_created = workers
        return workers

    def _job_adapter(self) -> JobAdapter:
        # The SDK's own httpx client: its auth, TLS and pool (the adapter does not close it).
        http = self._http()
        if self.worker_adapter == "conductor":
            from .conductor import ConductorAdapter

            return ConductorAdapter(f"{self.base_url.rstrip('/')}/api", client=http)
        from .camunda import CamundaAdapter

        return CamundaAdapter(self.base_url, client=http)
