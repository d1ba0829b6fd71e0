"""The Camunda 8 REST v2 job protocol (checked against camunda-orchestration-sdk 10.0.1).

- ``POST /jobs/activation`` ``{type, timeout, maxJobsToActivate, worker, fetchVariable,
  requestTimeout, tenantIds?, withLease?}`` → ``200 {"jobs": [...]}``; durations in ms;
- ``POST /jobs/{jobKey}/completion`` ``{variables}``, ``/failure`` ``{retries, errorMessage,
  retryBackOff, variables?}``, ``/error`` ``{errorCode, errorMessage, variables?}`` → 204; 404
  and 409 mean the job is not this worker's any more;
- ``PATCH /jobs/{jobKey}`` ``{changeset: {timeout}}`` is the heartbeat: the new deadline is
  now + timeout;
- errors are RFC 9457 ProblemDetail bodies; 503 (``RESOURCE_EXHAUSTED``) and 429 are
  backpressure.

With ``with_lease=True`` (Camunda 8.10) activation asks for leases and every command carries
the job's ``leaseToken``, so the server can refuse a command from a superseded activation.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._http import HttpAdapterBase
from .job import ActivateRequest, AdapterError, Job

if TYPE_CHECKING:
    import httpx

__all__ = ["CamundaAdapter", "job_from_camunda"]


class CamundaAdapter(HttpAdapterBase):
    """Camunda 8's REST v2 job endpoints.

    Args:
        base_url: the REST address including ``/v2`` (e.g. ``http://localhost:8080/v2``).
        client: your own ``httpx.AsyncClient``.
        auth: an ``httpx.Auth`` for the client created here (OAuth, basic…).
        headers: extra headers on every request.
        with_lease: ask for job leases and send the lease token back (Camunda 8.10+).
        tenant_ids: tenants to activate jobs of (overrides the worker's).
    """

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.AsyncClient | None = None,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        with_lease: bool = False,
        tenant_ids: Iterable[str] | None = None,
    ) -> None:
        super().__init__(base_url, client=client, auth=auth, headers=headers)
        self.with_lease = with_lease
        self.tenant_ids = tuple(tenant_ids) if tenant_ids else None

    async def activate(self, request: ActivateRequest) -> Sequence[Job]:
        """``POST /jobs/activation``."""
        body: dict[str, Any] = {
            "type": request.job_type,
            "worker": request.worker_name,
            "timeout": _ms(request.lease_seconds),
            "maxJobsToActivate": request.max_jobs,
            "requestTimeout": _ms(request.request_timeout_seconds),
        }
        if request.fetch_variables is not None:
            body["fetchVariable"] = list(request.fetch_variables)
        tenants = self.tenant_ids or request.tenant_ids
        if tenants:
            body["tenantIds"] = list(tenants)
        if self.with_lease:
            body["withLease"] = True
        response = await self.request(
            "POST",
            "/jobs/activation",
            what=f"activate {request.job_type} jobs",
            json_body=body,
            read_timeout_seconds=request.request_timeout_seconds,
        )
        try:
            jobs: list[Any] = response.json()["jobs"]
            return [job_from_camunda(raw) for raw in jobs]
        except (ValueError, KeyError, TypeError) as exc:
            raise AdapterError(
                f"activate {request.job_type} jobs: unreadable answer ({exc})"
            ) from exc

    async def complete(self, job: Job, variables: Mapping[str, Any]) -> None:
        """``POST /jobs/{jobKey}/completion``."""
        await self._command(job, "completion", {"variables": dict(variables)}, "complete")

    async def fail(
        self,
        job: Job,
        *,
        message: str,
        retries: int,
        retry_backoff_seconds: float,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        """``POST /jobs/{jobKey}/failure``."""
        body: dict[str, Any] = {
            "retries": retries,
            "errorMessage": message,
            "retryBackOff": _ms(retry_backoff_seconds),
        }
        if variables:
            body["variables"] = dict(variables)
        await self._command(job, "failure", body, "fail")

    async def throw_error(
        self,
        job: Job,
        *,
        code: str,
        message: str,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        """``POST /jobs/{jobKey}/error``."""
        body: dict[str, Any] = {"errorCode": code, "errorMessage": message}
        if variables:
            body["variables"] = dict(variables)
        await self._command(job, "error", body, "throw an error for")

    async def heartbeat(self, job: Job, *, lease_seconds: float) -> float | None:
        """``PATCH /jobs/{jobKey}`` with a new timeout; returns the new deadline."""
        body: dict[str, Any] = {"changeset": {"timeout": _ms(lease_seconds)}}
        token = job.raw.get("leaseToken")
        if token:
            body["leaseToken"] = token
        sent = time.time()
        await self.request(
            "PATCH",
            f"/jobs/{job.key}",
            what=f"extend the lease of job {job.key}",
            json_body=body,
            job_command=True,
        )
        return sent + lease_seconds

    async def _command(self, job: Job, action: str, body: dict[str, Any], verb: str) -> None:
        token = job.raw.get("leaseToken")
        if token:
            body["leaseToken"] = token
        await self.request(
            "POST",
            f"/jobs/{job.key}/{action}",
            what=f"{verb} job {job.key}",
            json_body=body,
            job_command=True,
        )


def job_from_camunda(raw: Mapping[str, Any]) -> Job:
    """A ``Job`` from one ``ActivatedJobResult``."""
    deadline = raw.get("deadline")
    return Job(
        key=str(raw["jobKey"]),
        type=str(raw["type"]),
        variables=raw.get("variables") or {},
        retries=int(raw.get("retries", 0)),
        deadline=float(deadline) / 1000.0 if isinstance(deadline, int | float) else None,
        headers=raw.get("customHeaders") or {},
        raw=raw,
    )


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
