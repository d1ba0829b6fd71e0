"""A loopback fake of Conductor's task-polling endpoints, following ``orkes-conductor-api.json``.

``tests/fixtures/worker/conductor-tasks-api.json`` holds the two operations and their schemas,
copied from ``orkes-conductor-api.json``:

- ``GET /api/tasks/poll/batch/{tasktype}?count=&timeout=&workerid=&domain=`` long-polls up to
  ``timeout`` ms and answers a list of ``Task``s, now ``IN_PROGRESS`` for ``workerid``;
- ``POST /api/tasks`` takes a ``TaskResult`` (validated; 400 otherwise) and answers the task id
  as text/plain. ``COMPLETED`` and ``FAILED_WITH_TERMINAL_ERROR`` end the task; ``FAILED``
  schedules a retry (a new task id, after ``retryDelaySeconds``) while the definition's
  ``retryCount`` allows; ``IN_PROGRESS`` with ``callbackAfterSeconds`` keeps the task out of the
  queue for that long (a heartbeat with ``extendLease``, or a task given back);
- a task whose ``responseTimeoutSeconds`` pass without an update is handed out again.

Unknown task ids are 404 and updates of finished tasks 409, with Conductor's error body.
``/_fake/tasks`` creates tasks and lists them with their history.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, cast

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.runtime.worker.schemas import CONDUCTOR_API, problems
from tests.runtime.worker.servers import ThreadedServer, Wakeup, long_poll

FINISHED = ("COMPLETED", "FAILED", "FAILED_WITH_TERMINAL_ERROR")


@dataclass
class FakeTask:
    """One task attempt and what happened to it."""

    task_id: str
    task_type: str
    workflow_id: str
    input: dict[str, Any]
    retry_count: int  # attempts before this one
    max_retries: int
    retry_delay_seconds: int
    response_timeout_seconds: int
    status: str = "SCHEDULED"
    visible_at: float = 0.0
    worker: str = ""
    poll_count: int = 0
    output: dict[str, Any] = field(default_factory=dict[str, Any])
    reason: str = ""
    retried_from: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])

    def wire(self) -> dict[str, Any]:
        """The task as Conductor's ``Task``."""
        return {
            "taskId": self.task_id,
            "taskType": self.task_type,
            "taskDefName": self.task_type,
            "referenceTaskName": f"{self.task_type}_ref",
            "workflowInstanceId": self.workflow_id,
            "workflowType": "fake_workflow",
            "status": self.status,
            "inputData": self.input,
            "outputData": self.output,
            "retryCount": self.retry_count,
            "pollCount": self.poll_count,
            "workerId": self.worker,
            "responseTimeoutSeconds": self.response_timeout_seconds,
            "callbackAfterSeconds": 0,
            "scheduledTime": int(self.history[0]["at"] * 1000) if self.history else 0,
            "startTime": int(time.time() * 1000),
            "seq": 1,
            "retried": self.retried_from is not None,
            "retriedTaskId": self.retried_from or "",
            "executed": False,
            "taskDefinition": {
                "name": self.task_type,
                "retryCount": self.max_retries,
                "retryDelaySeconds": self.retry_delay_seconds,
                "responseTimeoutSeconds": self.response_timeout_seconds,
                "timeoutSeconds": 3600,
                "totalTimeoutSeconds": 3600,
            },
        }


class FakeConductorState:
    """Tasks by id; survives a restart of the server."""

    def __init__(self) -> None:
        self.tasks: dict[str, FakeTask] = {}
        self._ids = itertools.count(1)
        self.polls: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.wakeup = Wakeup()

    def new_id(self) -> str:
        """A task id shaped like Conductor's (a UUID)."""
        return f"00000000-0000-4000-8000-{next(self._ids):012d}"

    def take(self, task_type: str, count: int, worker: str) -> list[FakeTask]:
        """Hand out up to ``count`` tasks that are visible now."""
        now = time.time()
        found: list[FakeTask] = []
        for task in self.tasks.values():
            if len(found) >= count:
                break
            if task.task_type != task_type or task.visible_at > now:
                continue
            if task.status in {"SCHEDULED", "IN_PROGRESS"}:
                found.append(task)
        for task in found:
            event = "polled" if task.status == "SCHEDULED" else "redelivered"
            task.status = "IN_PROGRESS"
            task.worker = worker
            task.poll_count += 1
            task.visible_at = now + task.response_timeout_seconds
            task.history.append({"event": event, "worker": worker, "at": now})
        return found

    def next_wake_seconds(self, task_type: str) -> float | None:
        """Seconds until a task of this type becomes visible by itself."""
        now = time.time()
        times = [
            t.visible_at
            for t in self.tasks.values()
            if t.task_type == task_type and t.status not in FINISHED and t.visible_at > now
        ]
        return min(times) - now if times else None

    def update(self, task: FakeTask, body: dict[str, Any]) -> None:
        """Apply one accepted ``TaskResult``."""
        now = time.time()
        status = str(body["status"])
        entry = {
            "event": status,
            "worker": body.get("workerId", ""),
            "at": now,
            "output": body.get("outputData"),
            "reason": body.get("reasonForIncompletion"),
            "callbackAfterSeconds": body.get("callbackAfterSeconds"),
            "extendLease": body.get("extendLease"),
        }
        task.history.append(entry)
        task.output.update(cast("dict[str, Any]", body.get("outputData") or {}))
        if status == "IN_PROGRESS":
            task.visible_at = now + int(body.get("callbackAfterSeconds") or 0)
            return
        task.status = status
        task.reason = str(body.get("reasonForIncompletion") or "")
        if status == "FAILED" and task.retry_count < task.max_retries:
            retry = FakeTask(
                self.new_id(),
                task.task_type,
                task.workflow_id,
                task.input,
                task.retry_count + 1,
                task.max_retries,
                task.retry_delay_seconds,
                task.response_timeout_seconds,
                visible_at=now + task.retry_delay_seconds,
                retried_from=task.task_id,
            )
            retry.history.append({"event": "scheduled", "worker": "", "at": now})
            self.tasks[retry.task_id] = retry


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"status": status, "message": message, "retryable": False}, status_code=status
    )


def build_app(state: FakeConductorState) -> Starlette:
    """The Starlette app of the fake."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncGenerator[None]:
        state.wakeup.reset()
        yield

    async def batch_poll(request: Request) -> Response:
        query = request.query_params
        try:
            count = int(query.get("count", "1"))
            timeout_ms = int(query.get("timeout", "100"))
        except ValueError:
            return _error(400, "count and timeout must be integers")
        task_type = request.path_params["tasktype"]
        worker = query.get("workerid", "")
        state.polls.append(
            {
                "type": task_type,
                "count": count,
                "timeout": timeout_ms,
                "workerid": worker,
                "domain": query.get("domain"),
            }
        )
        tasks = await long_poll(
            request,
            state.wakeup,
            timeout_seconds=timeout_ms / 1000,
            take=lambda: state.take(task_type, count, worker),
            next_wake_seconds=lambda: state.next_wake_seconds(task_type),
        )
        if tasks is None:
            return Response(status_code=499)
        return JSONResponse([t.wire() for t in tasks])

    async def update_task(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(400, "the body is not JSON")
        found = problems(CONDUCTOR_API, "TaskResult", body)
        if found:
            return _error(400, "TaskResult: " + "; ".join(found))
        state.updates.append(body)
        task = state.tasks.get(str(body["taskId"]))
        if task is None:
            return _error(404, f"task {body['taskId']} not found")
        if task.status in FINISHED:
            return _error(409, f"task {task.task_id} is already {task.status}")
        state.update(task, body)
        state.wakeup.notify()
        return PlainTextResponse(task.task_id)

    async def create_tasks(request: Request) -> Response:
        body = await request.json()
        ids: list[str] = []
        for _ in range(int(body.get("count", 1))):
            task = FakeTask(
                state.new_id(),
                body["type"],
                f"wf-{len(state.tasks)}",
                dict(body.get("input") or {}),
                0,
                int(body.get("retryCount", 2)),
                int(body.get("retryDelaySeconds", 0)),
                int(body.get("responseTimeoutSeconds", 30)),
            )
            task.history.append({"event": "scheduled", "worker": "", "at": time.time()})
            state.tasks[task.task_id] = task
            ids.append(task.task_id)
        state.wakeup.notify()
        return JSONResponse({"ids": ids})

    async def list_tasks(request: Request) -> Response:
        return JSONResponse(
            {
                "tasks": [dict(t.__dict__) for t in state.tasks.values()],
                "polls": state.polls,
                "updates": state.updates,
            }
        )

    return Starlette(
        routes=[
            Route("/api/tasks/poll/batch/{tasktype}", batch_poll, methods=["GET"]),
            Route("/api/tasks", update_task, methods=["POST"]),
            Route("/_fake/tasks", create_tasks, methods=["POST"]),
            Route("/_fake/tasks", list_tasks, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


class FakeConductor(ThreadedServer):
    """The fake in a uvicorn thread on 127.0.0.1."""

    def __init__(self, *, port: int = 0) -> None:
        self.state = FakeConductorState()
        super().__init__(build_app(self.state), port=port)

    @property
    def api_url(self) -> str:
        """The server URL as ``CONDUCTOR_SERVER_URL`` gives it (ending in ``/api``)."""
        return f"{self.url}/api"
