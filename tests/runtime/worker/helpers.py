"""Driving the fake servers from tests: create jobs, read them, wait for a condition."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any, cast

import httpx

from loom.runtime.worker import JobWorker


class Control:
    """The fake Camunda's ``/_fake`` endpoints."""

    def __init__(self, url: str) -> None:
        self._http = httpx.Client(base_url=url, timeout=10)

    def create(
        self,
        job_type: str,
        *,
        variables: dict[str, Any] | None = None,
        retries: int = 3,
        headers: dict[str, Any] | None = None,
        count: int = 1,
    ) -> list[str]:
        """Create ``count`` jobs; their keys."""
        body = {
            "type": job_type,
            "variables": variables or {},
            "retries": retries,
            "customHeaders": headers or {},
            "count": count,
        }
        return cast("list[str]", self._http.post("/_fake/jobs", json=body).json()["keys"])

    def state(self) -> dict[str, Any]:
        """Every job (with its history) and every activation request."""
        return cast("dict[str, Any]", self._http.get("/_fake/jobs").json())

    def jobs(self) -> dict[str, dict[str, Any]]:
        """Jobs by key."""
        return {j["key"]: j for j in self.state()["jobs"]}

    def fault(self, *faults: dict[str, Any]) -> None:
        """Queue answers for the next activations (``{"status": 503, "retryAfter": 1}``)."""
        self._http.post("/_fake/faults", json=list(faults)).raise_for_status()

    def events(self, key: str, event: str) -> list[dict[str, Any]]:
        """The history entries of one kind for one job."""
        return [h for h in self.jobs()[key]["history"] if h["event"] == event]

    def close(self) -> None:
        """Close the client."""
        self._http.close()

    def __enter__(self) -> Control:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def wait_until(
    condition: Callable[[], bool], *, timeout_seconds: float = 10.0, what: str = "condition"
) -> None:
    """Poll ``condition`` (in a thread, it may do blocking HTTP) until true or fail the test."""
    deadline = time.monotonic() + timeout_seconds
    while not await asyncio.to_thread(condition):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_seconds} s waiting for {what}")
        await asyncio.sleep(0.02)


def states(control: Control, keys: list[str]) -> list[str]:
    """The state of each job."""
    jobs = control.jobs()
    return [jobs[k]["state"] for k in keys]


@contextlib.asynccontextmanager
async def running(worker: JobWorker) -> AsyncGenerator[JobWorker]:
    """Run ``worker`` in a task for the block; stop it (staged shutdown) afterwards."""
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        await worker.stop()
        await task
