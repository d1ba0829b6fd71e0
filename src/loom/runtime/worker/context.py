"""``JobContext``: what a handler may know about its job, and its heartbeat."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from .job import Job

__all__ = ["JobContext"]

Heartbeat = Callable[[float | None], Awaitable[float | None]]


class JobContext:
    """The job's key, retries, deadline and headers, and a heartbeat that extends its lease.

    ``await ctx.heartbeat()`` from ``async`` handlers; ``ctx.heartbeat_blocking()`` from
    handlers in the thread pool (it runs the heartbeat on the worker's event loop and waits).
    """

    __slots__ = ("_beat", "_deadline", "_loop", "job", "logger", "worker_name")

    def __init__(
        self,
        job: Job,
        *,
        worker_name: str,
        beat: Heartbeat,
        loop: asyncio.AbstractEventLoop,
        logger: logging.Logger,
    ) -> None:
        self.job = job
        self.worker_name = worker_name
        self.logger = logger
        self._beat = beat
        self._loop = loop
        self._deadline = job.deadline

    @property
    def key(self) -> str:
        """The job's key."""
        return self.job.key

    @property
    def job_type(self) -> str:
        """The job's type."""
        return self.job.type

    @property
    def retries(self) -> int:
        """Retries left, as the server counts them."""
        return self.job.retries

    @property
    def headers(self) -> Mapping[str, Any]:
        """The job's custom headers."""
        return self.job.headers

    @property
    def deadline(self) -> datetime | None:
        """When the lease ends (UTC), moved by every heartbeat; ``None`` if unknown."""
        if self._deadline is None:
            return None
        return datetime.fromtimestamp(self._deadline, UTC)

    def seconds_left(self) -> float | None:
        """Seconds until the lease ends, or ``None`` if unknown."""
        return None if self._deadline is None else self._deadline - time.time()

    async def heartbeat(self, lease_seconds: float | None = None) -> None:
        """Extend the lease to ``lease_seconds`` from now (default: the handler's lease).

        Raises:
            JobLost: the server no longer holds the job for this worker; stop working on it.
        """
        deadline = await self._beat(lease_seconds)
        self._deadline = deadline if deadline is not None else self._deadline

    def heartbeat_blocking(self, lease_seconds: float | None = None) -> None:
        """``heartbeat`` for a handler running in the thread pool (blocks until it is sent)."""
        asyncio.run_coroutine_threadsafe(self.heartbeat(lease_seconds), self._loop).result()

    def __repr__(self) -> str:
        return f"JobContext(key={self.key!r}, type={self.job_type!r}, retries={self.retries})"
