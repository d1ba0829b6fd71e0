"""What the worker core and its adapters exchange: jobs, activation requests, the adapter protocol.

An adapter speaks one engine's job protocol (Camunda 8 REST v2, Conductor, loom's engine); the
core (``core.JobWorker``) knows only this module. Durations are ``*_seconds`` floats here and
converted to the wire's units (often milliseconds) inside each adapter.

Exceptions an adapter raises, and what the core does with them::

    AdapterError                 unexpected answer: logged, the poller backs off
     ├── Backpressure            429 / 503: back off, at least ``retry_after_seconds``
     ├── ServerUnavailable       connection refused, reset or timed out: back off and reconnect
     └── JobLost                 404 / 409 on a job command: the lease is gone, the job is dropped
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "ActivateRequest",
    "AdapterError",
    "Backpressure",
    "Job",
    "JobAdapter",
    "JobLost",
    "ServerUnavailable",
]


@dataclass(frozen=True, slots=True)
class Job:
    """One activated job, in the core's terms.

    Attributes:
        key: the job's key on the server (a string, even where the server uses numbers).
        type: the job type it was activated for.
        variables: the job's input variables.
        retries: retries left, as the server counts them.
        deadline: when the lease ends, Unix time in seconds, or ``None`` if the server gave none.
        headers: custom headers of the job (Camunda) or task metadata (Conductor).
        raw: the job as the server sent it; adapters keep what they need to answer (lease
            tokens, workflow ids).
    """

    key: str
    type: str
    variables: Mapping[str, Any]
    retries: int
    deadline: float | None = None
    headers: Mapping[str, Any] = field(default_factory=dict[str, Any])
    raw: Mapping[str, Any] = field(default_factory=dict[str, Any], repr=False)


@dataclass(frozen=True, slots=True)
class ActivateRequest:
    """One activation (poll) request.

    Attributes:
        job_type: the job type to activate.
        max_jobs: at most this many jobs (the poller's free capacity, never more).
        lease_seconds: how long the server keeps the jobs for this worker.
        worker_name: the worker's name, for the server's bookkeeping.
        request_timeout_seconds: how long the server may hold the request open (long-poll).
        fetch_variables: only these variables, or ``None`` for all.
        tenant_ids: the tenants to activate jobs of, or ``None`` for the server's default.
    """

    job_type: str
    max_jobs: int
    lease_seconds: float
    worker_name: str
    request_timeout_seconds: float
    fetch_variables: tuple[str, ...] | None = None
    tenant_ids: tuple[str, ...] | None = None


class AdapterError(Exception):
    """The server answered something the adapter did not expect (the message says what)."""


class Backpressure(AdapterError):
    """The server asked the worker to slow down (429 or 503).

    Attributes:
        retry_after_seconds: the delay the server asked for (``Retry-After``), if any.
    """

    def __init__(self, message: str, *, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ServerUnavailable(AdapterError):
    """The server could not be reached (refused, reset, timed out, 502/504)."""


class JobLost(AdapterError):
    """The server no longer knows the job under this lease (404 or 409): drop it, do not retry."""


class JobAdapter(Protocol):
    """One engine's job protocol. Every method is a coroutine run on the worker's event loop."""

    async def activate(self, request: ActivateRequest) -> Sequence[Job]:
        """Activate up to ``request.max_jobs`` jobs, long-polling up to the request timeout."""
        ...

    async def complete(self, job: Job, variables: Mapping[str, Any]) -> None:
        """Complete ``job`` with these output variables."""
        ...

    async def fail(
        self,
        job: Job,
        *,
        message: str,
        retries: int,
        retry_backoff_seconds: float,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        """Fail ``job``: ``retries`` left, retryable after ``retry_backoff_seconds``."""
        ...

    async def throw_error(
        self,
        job: Job,
        *,
        code: str,
        message: str,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        """Raise a business error with ``code`` for ``job`` (the process/workflow routes it)."""
        ...

    async def heartbeat(self, job: Job, *, lease_seconds: float) -> float | None:
        """Extend ``job``'s lease by ``lease_seconds`` from now; returns the new deadline."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
