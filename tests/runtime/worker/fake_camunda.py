"""A loopback fake of Camunda 8's REST v2 job endpoints, following the published schemas.

Camunda cannot run here, so this Starlette app plays its job protocol from
``tests/fixtures/worker/camunda-job-schemas.json`` (copied from ``rest-api.bundle.json``):

- ``POST /v2/jobs/activation``: the body is validated against ``JobActivationRequest`` (400
  ProblemDetail otherwise); it long-polls until a job exists or ``requestTimeout`` ms pass (0:
  the server default, negative: answer at once), stops waiting when the client hangs up, and
  answers ``{"jobs": [...]}`` whose items carry every field of ``ActivatedJobResult``;
- leases: an activated job belongs to its worker until ``deadline``; then it is activatable
  again. With ``withLease`` the job carries a ``leaseToken`` that commands must send back;
- ``/completion``, ``/failure``, ``/error`` and ``PATCH /v2/jobs/{jobKey}`` answer 204, or 404
  (unknown job) / 409 (not activated, lease expired or foreign token) as ProblemDetail.

Test-only endpoints under ``/_fake``: create jobs, read every job with its history, and queue
faults (e.g. the next activations answer 503 with ``Retry-After``). The same app runs in a
thread (``FakeCamunda``, restartable on the same port with its state kept) or as its own process
(``python -m tests.runtime.worker.fake_camunda --port N``, for benchmarks and kill tests).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import json
import secrets
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, cast

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.runtime.worker.schemas import CAMUNDA_SCHEMAS, problems
from tests.runtime.worker.servers import ThreadedServer, Wakeup, long_poll, serve_forever

DEFAULT_REQUEST_TIMEOUT_MS = 10_000
FIRST_KEY = 2251799813685249


@dataclass
class FakeJob:
    """One job and what happened to it."""

    key: str
    type: str
    variables: dict[str, Any]
    retries: int
    custom_headers: dict[str, Any]
    state: str = "activatable"  # activated, completed, failed, error
    deadline_ms: int = 0
    not_before_ms: int = 0
    worker: str = ""
    lease_token: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])

    def wire(self) -> dict[str, Any]:
        """The job as ``ActivatedJobResult``."""
        return {
            "type": self.type,
            "processDefinitionId": "fake-process",
            "processDefinitionVersion": 1,
            "elementId": f"task-{self.type}",
            "customHeaders": self.custom_headers,
            "worker": self.worker,
            "retries": self.retries,
            "deadline": self.deadline_ms,
            "variables": self.variables,
            "tenantId": "<default>",
            "physicalTenantId": "<default>",
            "jobKey": self.key,
            "processInstanceKey": str(int(self.key) + 1_000_000),
            "processDefinitionKey": "2251799813680001",
            "elementInstanceKey": str(int(self.key) + 2_000_000),
            "kind": "BPMN_ELEMENT",
            "listenerEventType": "UNSPECIFIED",
            "userTask": None,
            "tags": [],
            "rootProcessInstanceKey": str(int(self.key) + 1_000_000),
            "businessId": None,
            "priority": 0,
            "leaseToken": self.lease_token,
        }


def _now_ms() -> int:
    return int(time.time() * 1000)


def _problem(status: int, title: str, detail: str, instance: str) -> JSONResponse:
    return JSONResponse(
        {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": instance,
        },
        status_code=status,
        media_type="application/problem+json",
    )


class FakeCamundaState:
    """Jobs, queued faults and a log of commands; survives a restart of the server."""

    def __init__(self) -> None:
        self.jobs: dict[str, FakeJob] = {}
        self.open: dict[str, dict[str, FakeJob]] = {}  # by type: activatable or activated
        self._keys = itertools.count(FIRST_KEY)
        self.faults: list[dict[str, Any]] = []
        self.activations: list[dict[str, Any]] = []
        self.wakeup = Wakeup()

    def add(
        self, job_type: str, variables: dict[str, Any], retries: int, headers: dict[str, Any]
    ) -> FakeJob:
        """A new activatable job."""
        job = FakeJob(str(next(self._keys)), job_type, variables, retries, headers)
        self.jobs[job.key] = job
        self.open.setdefault(job_type, {})[job.key] = job
        return job

    def expire(self, now_ms: int, job_type: str | None = None) -> None:
        """Activated jobs whose lease ended become activatable (retries unchanged)."""
        groups = [self.open.get(job_type, {})] if job_type is not None else self.open.values()
        for group in groups:
            for job in group.values():
                if job.state == "activated" and job.deadline_ms <= now_ms:
                    job.state = "activatable"
                    job.lease_token = None
                    job.history.append({"event": "timed_out", "worker": job.worker, "at": now_ms})

    def close(self, job: FakeJob) -> None:
        """A job that is completed, failed for good or errored is no longer open."""
        if job.state not in ("activated", "activatable"):
            self.open.get(job.type, {}).pop(job.key, None)

    def take(self, body: dict[str, Any], now_ms: int) -> list[FakeJob]:
        """Activate up to ``maxJobsToActivate`` jobs of the type."""
        job_type = str(body["type"])
        self.expire(now_ms, job_type)
        found: list[FakeJob] = []
        for job in self.open.get(job_type, {}).values():
            if len(found) >= int(body["maxJobsToActivate"]):
                break
            if job.state == "activatable" and job.not_before_ms <= now_ms:
                found.append(job)
        fetch = cast("list[str] | None", body.get("fetchVariable")) or None
        for job in found:
            job.state = "activated"
            job.worker = str(body.get("worker", ""))
            job.deadline_ms = now_ms + int(body["timeout"])
            job.lease_token = secrets.token_hex(8) if body.get("withLease") else None
            job.history.append({"event": "activated", "worker": job.worker, "at": now_ms})
        return [self._with_variables(job, fetch) for job in found]

    @staticmethod
    def _with_variables(job: FakeJob, fetch: list[str] | None) -> FakeJob:
        if fetch is None:
            return job
        copy = dataclasses.replace(job)
        copy.variables = {k: v for k, v in job.variables.items() if k in fetch}
        return copy

    def next_wake_seconds(self, job_type: str) -> float | None:
        """Seconds until a job of this type may become activatable by itself (lease, back-off)."""
        now_ms = _now_ms()
        times = [
            job.deadline_ms if job.state == "activated" else job.not_before_ms
            for job in self.open.get(job_type, {}).values()
            if job.state == "activated" or job.not_before_ms > now_ms
        ]
        return (min(times) - now_ms) / 1000 if times else None


def build_app(state: FakeCamundaState) -> Starlette:
    """The Starlette app of the fake."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncGenerator[None]:
        state.wakeup.reset()  # bound to this server's loop (a restart makes a new one)
        yield

    async def read_json(request: Request, schema: str) -> dict[str, Any] | Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ClientDisconnect:
            return Response(status_code=499)
        except ValueError:
            return _problem(400, "INVALID_ARGUMENT", "the body is not JSON", request.url.path)
        found = problems(CAMUNDA_SCHEMAS, schema, body)
        if found:
            return _problem(
                400, "INVALID_ARGUMENT", f"{schema}: " + "; ".join(found), request.url.path
            )
        return cast("dict[str, Any]", body)

    async def activation(request: Request) -> Response:
        body = await read_json(request, "JobActivationRequest")
        if isinstance(body, Response):
            return body
        state.activations.append({**body, "at": _now_ms()})
        if state.faults:
            fault = state.faults.pop(0)
            headers = {"Retry-After": str(fault["retryAfter"])} if "retryAfter" in fault else {}
            response = _problem(
                fault["status"], "RESOURCE_EXHAUSTED", "queued fault", request.url.path
            )
            response.headers.update(headers)
            return response
        asked = int(body.get("requestTimeout") or 0)
        timeout_ms = -1 if asked < 0 else asked or DEFAULT_REQUEST_TIMEOUT_MS
        jobs = await long_poll(
            request,
            state.wakeup,
            timeout_seconds=timeout_ms / 1000,
            take=lambda: state.take(body, _now_ms()),
            next_wake_seconds=lambda: state.next_wake_seconds(str(body["type"])),
        )
        if jobs is None:  # the worker gave up this poll
            return Response(status_code=499)
        return JSONResponse({"jobs": [j.wire() for j in jobs]})

    def job_or_problem(request: Request, body: dict[str, Any]) -> FakeJob | JSONResponse:
        key = request.path_params["key"]
        job = state.jobs.get(key)
        path = request.url.path
        if job is None:
            return _problem(404, "NOT_FOUND", f"job {key} does not exist", path)
        state.expire(_now_ms(), job.type)
        if job.state != "activated":
            return _problem(409, "INVALID_STATE", f"job {key} is {job.state}, not activated", path)
        if job.lease_token is not None and body.get("leaseToken") != job.lease_token:
            return _problem(409, "INVALID_STATE", f"job {key}: not the current lease", path)
        return job

    def command(schema: str, action: str) -> Any:
        async def endpoint(request: Request) -> Response:
            body = await read_json(request, schema)
            if isinstance(body, Response):
                return body
            job = job_or_problem(request, body)
            if isinstance(job, JSONResponse):
                return job
            apply(job, action, body)
            state.close(job)
            state.wakeup.notify()
            return Response(status_code=204)

        return endpoint

    async def create_jobs(request: Request) -> Response:
        body = await request.json()
        keys = [
            state.add(
                body["type"],
                dict(body.get("variables") or {}),
                int(body.get("retries", 3)),
                dict(body.get("customHeaders") or {}),
            ).key
            for _ in range(int(body.get("count", 1)))
        ]
        state.wakeup.notify()
        return JSONResponse({"keys": keys})

    async def list_jobs(request: Request) -> Response:
        state.expire(_now_ms())
        return JSONResponse(
            {
                "jobs": [{**j.__dict__} for j in state.jobs.values()],
                "activations": state.activations,
            }
        )

    async def add_faults(request: Request) -> Response:
        state.faults.extend(await request.json())
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route("/v2/jobs/activation", activation, methods=["POST"]),
            Route(
                "/v2/jobs/{key}/completion",
                command("JobCompletionRequest", "complete"),
                methods=["POST"],
            ),
            Route("/v2/jobs/{key}/failure", command("JobFailRequest", "fail"), methods=["POST"]),
            Route("/v2/jobs/{key}/error", command("JobErrorRequest", "error"), methods=["POST"]),
            Route("/v2/jobs/{key}", command("JobUpdateRequest", "update"), methods=["PATCH"]),
            Route("/_fake/jobs", create_jobs, methods=["POST"]),
            Route("/_fake/jobs", list_jobs, methods=["GET"]),
            Route("/_fake/faults", add_faults, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


def apply(job: FakeJob, action: str, body: dict[str, Any]) -> None:
    """What one accepted command does to the job."""
    now = _now_ms()
    entry: dict[str, Any] = {"event": action, "worker": job.worker, "at": now}
    if action == "complete":
        job.state = "completed"
        entry["variables"] = body.get("variables") or {}
    elif action == "fail":
        job.retries = int(body.get("retries", 0))
        backoff = int(body.get("retryBackOff", 0))
        job.state = "activatable" if job.retries > 0 else "failed"
        job.not_before_ms = now + backoff
        entry.update(retries=job.retries, backoff_ms=backoff, message=body.get("errorMessage"))
    elif action == "error":
        job.state = "error"
        entry.update(
            code=body["errorCode"],
            message=body.get("errorMessage"),
            variables=body.get("variables"),
        )
    else:
        changes = cast("dict[str, Any]", body["changeset"])
        if changes.get("timeout") is not None:
            job.deadline_ms = now + int(changes["timeout"])
        if changes.get("retries") is not None:
            job.retries = int(changes["retries"])
        entry["changeset"] = changes
    if action != "update":
        job.lease_token = None if job.state != "activated" else job.lease_token
    job.history.append(entry)


class FakeCamunda(ThreadedServer):
    """The fake in a uvicorn thread on 127.0.0.1; ``restart()`` keeps the port and the jobs."""

    def __init__(self, *, port: int = 0) -> None:
        self.state = FakeCamundaState()
        super().__init__(build_app(self.state), port=port)

    @property
    def base_url(self) -> str:
        """The REST address with ``/v2``."""
        return f"{self.url}/v2"


def main() -> None:
    """Serve the fake in this process (``--port``), until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve_forever(build_app(FakeCamundaState()), args.port)


if __name__ == "__main__":
    main()
