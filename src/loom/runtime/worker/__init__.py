"""Job workers: one core for every engine, with adapters for Camunda 8 REST v2 and Conductor.

::

    from loom.runtime.worker import JobContext, JobWorker, Router
    from loom.runtime.worker.camunda import CamundaAdapter

    router = Router()

    @router.job("charge-card", lease_seconds=60)
    async def charge(order: Order, ctx: JobContext) -> Receipt: ...

    worker = JobWorker(CamundaAdapter("http://localhost:8080/v2"))
    worker.include_router(router)
    asyncio.run(worker.run(handle_signals=True))

The adapters (``camunda``, ``conductor``) import httpx; this package and the core do not, and
pydantic is imported only when a handler's variables are validated into a model.
See docs/worker.md.
"""

from __future__ import annotations

from .context import JobContext
from .core import Backoff, JobWorker
from .errors import BusinessError, JobFailure, RegistrationError
from .job import (
    ActivateRequest,
    AdapterError,
    Backpressure,
    Job,
    JobAdapter,
    JobLost,
    ServerUnavailable,
)
from .metrics import CountingMetrics, NullMetrics, WorkerMetrics
from .registry import HandlerSpec, Router

__all__ = [
    "ActivateRequest",
    "AdapterError",
    "Backoff",
    "Backpressure",
    "BusinessError",
    "CountingMetrics",
    "HandlerSpec",
    "Job",
    "JobAdapter",
    "JobContext",
    "JobFailure",
    "JobLost",
    "JobWorker",
    "NullMetrics",
    "RegistrationError",
    "Router",
    "ServerUnavailable",
    "WorkerMetrics",
]
