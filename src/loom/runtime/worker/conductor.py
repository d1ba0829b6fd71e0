"""Conductor's task protocol (``orkes-conductor-api.json``: ``batchPoll`` and ``updateTask``).

- activation is ``GET /tasks/poll/batch/{tasktype}?count=&timeout=&workerid=&domain=``
  (``timeout`` in ms, long-poll) → a list of ``Task``;
- every outcome is ``POST /tasks`` with a ``TaskResult``:

  ========================  ================================================================
  worker outcome            ``TaskResult``
  ========================  ================================================================
  complete                  ``COMPLETED`` with ``outputData``
  fail (retries left)       ``FAILED`` with ``reasonForIncompletion``; Conductor retries by the
                            task definition (``retryCount``, ``retryDelaySeconds``)
  fail (``retries=0``)      ``FAILED_WITH_TERMINAL_ERROR`` (no retry)
  fail back at shutdown     ``IN_PROGRESS`` with ``callbackAfterSeconds`` = the back-off: the
                            task returns to the queue without using a retry
  business error            ``FAILED_WITH_TERMINAL_ERROR``, ``reasonForIncompletion`` =
                            ``CODE: message``, ``outputData.errorCode`` = ``CODE``
  heartbeat (long tasks)    ``IN_PROGRESS``, ``extendLease: true``, ``callbackAfterSeconds`` =
                            the lease: Conductor hands the task out again only if no update
                            comes within that time
  ========================  ================================================================

The base URL ends in ``/api``, as ``CONDUCTOR_SERVER_URL`` does for conductor-python. The task's
``retries`` are those left by its definition (``retryCount`` minus the attempts so far), its
lease its ``responseTimeoutSeconds``. Nothing is pickled: handlers run in this process unless a
handler asks for the process pool.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._http import HttpAdapterBase
from .job import ActivateRequest, AdapterError, Job

if TYPE_CHECKING:
    import httpx

__all__ = ["ConductorAdapter", "job_from_task"]

#: Task fields copied into ``Job.headers`` (what a handler may want besides the input).
HEADER_FIELDS = (
    "workflowInstanceId",
    "workflowType",
    "referenceTaskName",
    "correlationId",
    "pollCount",
    "retryCount",
    "domain",
)


class ConductorAdapter(HttpAdapterBase):
    """Conductor's ``/api/tasks`` endpoints.

    Args:
        base_url: the server's API root (``http://localhost:8080/api``).
        client: your own ``httpx.AsyncClient``.
        auth: an ``httpx.Auth`` for the client created here.
        headers: extra headers (``X-Authorization`` for Orkes).
        domain: the task domain to poll.
    """

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.AsyncClient | None = None,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        domain: str | None = None,
    ) -> None:
        super().__init__(base_url, client=client, auth=auth, headers=headers)
        self.domain = domain
        self._worker_ids: dict[str, str] = {}

    async def activate(self, request: ActivateRequest) -> Sequence[Job]:
        """``GET /tasks/poll/batch/{tasktype}``."""
        params: dict[str, Any] = {
            "count": request.max_jobs,
            "timeout": round(request.request_timeout_seconds * 1000),
            "workerid": request.worker_name,
        }
        if self.domain:
            params["domain"] = self.domain
        response = await self.request(
            "GET",
            f"/tasks/poll/batch/{request.job_type}",
            what=f"poll {request.job_type} tasks",
            params=params,
            read_timeout_seconds=request.request_timeout_seconds,
        )
        if response.status_code == 204 or not response.content:
            return []
        try:
            tasks: list[Any] = response.json()
            jobs = [job_from_task(task) for task in tasks]
        except (ValueError, KeyError, TypeError) as exc:
            raise AdapterError(f"poll {request.job_type} tasks: unreadable answer ({exc})") from exc
        for job in jobs:
            self._worker_ids[job.key] = request.worker_name
        return jobs

    async def complete(self, job: Job, variables: Mapping[str, Any]) -> None:
        """``COMPLETED`` with the output data."""
        await self._update(job, "COMPLETED", output=variables, verb="complete")

    async def fail(
        self,
        job: Job,
        *,
        message: str,
        retries: int,
        retry_backoff_seconds: float,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        """``FAILED``, ``FAILED_WITH_TERMINAL_ERROR`` at 0 retries, or back to the queue."""
        if retries >= job.retries > 0:  # not the task's fault (shutdown): give it back
            await self._update(
                job,
                "IN_PROGRESS",
                output=variables,
                verb="give back",
                callback_after_seconds=max(1, round(retry_backoff_seconds)),
                reason=message,
            )
            return
        status = "FAILED" if retries > 0 else "FAILED_WITH_TERMINAL_ERROR"
        await self._update(job, status, output=variables, verb="fail", reason=message)

    async def throw_error(
        self,
        job: Job,
        *,
        code: str,
        message: str,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        """``FAILED_WITH_TERMINAL_ERROR`` carrying the code."""
        output = {**(variables or {}), "errorCode": code}
        reason = f"{code}: {message}" if message else code
        await self._update(
            job,
            "FAILED_WITH_TERMINAL_ERROR",
            output=output,
            verb="throw an error for",
            reason=reason,
        )

    async def heartbeat(self, job: Job, *, lease_seconds: float) -> float | None:
        """``IN_PROGRESS`` with ``extendLease`` and ``callbackAfterSeconds`` = the lease."""
        seconds = max(1, round(lease_seconds))
        sent = time.time()
        await self._update(
            job,
            "IN_PROGRESS",
            output=None,
            verb="extend the lease of",
            callback_after_seconds=seconds,
            extend_lease=True,
        )
        return sent + seconds

    async def _update(
        self,
        job: Job,
        status: str,
        *,
        output: Mapping[str, Any] | None,
        verb: str,
        reason: str | None = None,
        callback_after_seconds: int | None = None,
        extend_lease: bool = False,
    ) -> None:
        body: dict[str, Any] = {
            "taskId": job.key,
            "workflowInstanceId": str(job.raw.get("workflowInstanceId", "")),
            "workerId": self._worker_ids.get(job.key, ""),
            "status": status,
        }
        if output is not None:
            body["outputData"] = dict(output)
        if reason is not None:
            body["reasonForIncompletion"] = reason
        if callback_after_seconds is not None:
            body["callbackAfterSeconds"] = callback_after_seconds
        if extend_lease:
            body["extendLease"] = True
        try:
            await self.request(
                "POST",
                "/tasks",
                what=f"{verb} task {job.key}",
                json_body=body,
                job_command=True,
                accept="text/plain",  # updateTask answers the task id as text
            )
        finally:
            if status != "IN_PROGRESS":
                self._worker_ids.pop(job.key, None)


def job_from_task(task: Mapping[str, Any]) -> Job:
    """A ``Job`` from one Conductor ``Task``."""
    definition: Mapping[str, Any] = task.get("taskDefinition") or {}
    allowed = definition.get("retryCount")
    done = int(task.get("retryCount") or 0)
    retries = max(int(allowed) - done, 0) if isinstance(allowed, int) else 1
    timeout = task.get("responseTimeoutSeconds")
    deadline = (
        time.time() + float(timeout) if isinstance(timeout, int | float) and timeout else None
    )
    return Job(
        key=str(task["taskId"]),
        type=str(task.get("taskDefName") or task.get("taskType") or ""),
        variables=task.get("inputData") or {},
        retries=retries,
        deadline=deadline,
        headers={k: task[k] for k in HEADER_FIELDS if k in task},
        raw=task,
    )
