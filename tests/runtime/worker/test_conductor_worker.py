"""The same worker core with the Conductor adapter, against the loopback fake Conductor.

Handlers here are closures (they would not pickle): the Conductor adapter needs no pickling,
unlike conductor-python's process per worker.
"""

from __future__ import annotations

import asyncio
import pickle
import time
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest

from loom.runtime.worker import BusinessError, JobContext, JobFailure, JobWorker
from loom.runtime.worker.conductor import ConductorAdapter
from tests.runtime.worker.fake_conductor import FakeConductor
from tests.runtime.worker.helpers import running, wait_until
from tests.runtime.worker.schemas import CONDUCTOR_API, problems


class Tasks:
    """The fake Conductor's ``/_fake/tasks``."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=10)

    def create(self, task_type: str, *, count: int = 1, **settings: Any) -> list[str]:
        body = {"type": task_type, "count": count, **settings}
        return cast("list[str]", self.http.post("/_fake/tasks", json=body).json()["ids"])

    def dump(self) -> dict[str, Any]:
        return cast("dict[str, Any]", self.http.get("/_fake/tasks").json())

    def of_type(self, task_type: str) -> list[dict[str, Any]]:
        return [t for t in self.dump()["tasks"] if t["task_type"] == task_type]

    def statuses(self, task_type: str) -> list[str]:
        return [t["status"] for t in self.of_type(task_type)]


@pytest.fixture
def conductor() -> Iterator[FakeConductor]:
    server = FakeConductor()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def tasks(conductor: FakeConductor) -> Iterator[Tasks]:
    t = Tasks(conductor.url)
    yield t
    t.http.close()


def make_worker(conductor: FakeConductor, **kwargs: Any) -> JobWorker:
    kwargs.setdefault("request_timeout_seconds", 1.0)
    return JobWorker(
        ConductorAdapter(conductor.api_url, domain="blue"), name="conductor-worker", **kwargs
    )


async def test_task_completes_with_output_data_when_handler_returns(
    conductor: FakeConductor, tasks: Tasks
) -> None:
    worker = make_worker(conductor, max_in_flight=3)
    closure_state: list[str] = []

    @worker.job("greet")
    async def greet(variables: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
        closure_state.append(ctx.key)
        return {"greeting": f"hello {variables['name']}", "workflow": ctx.headers["workflowType"]}

    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(greet)
    tasks.create("greet", input={"name": "ada"})
    async with running(worker):
        await wait_until(lambda: tasks.statuses("greet") == ["COMPLETED"], what="completion")
    [task] = tasks.of_type("greet")
    assert task["output"] == {"greeting": "hello ada", "workflow": "fake_workflow"}
    poll = tasks.dump()["polls"][0]
    assert (poll["count"], poll["timeout"], poll["workerid"], poll["domain"]) == (
        3,
        1000,
        "conductor-worker",
        "blue",
    )


async def test_failed_task_is_retried_as_a_new_attempt_when_handler_raises(
    conductor: FakeConductor, tasks: Tasks
) -> None:
    worker = make_worker(conductor)
    seen: list[int] = []

    @worker.job("flaky")
    async def flaky(ctx: JobContext) -> dict[str, Any]:
        seen.append(ctx.retries)
        if len(seen) == 1:
            raise TimeoutError("upstream slow")
        return {"ok": True}

    tasks.create("flaky", retryCount=2)
    async with running(worker):
        await wait_until(
            lambda: tasks.statuses("flaky") == ["FAILED", "COMPLETED"], what="the retry"
        )
    first, second = tasks.of_type("flaky")
    assert first["reason"] == "TimeoutError: upstream slow"
    assert second["retried_from"] == first["task_id"]
    assert seen == [2, 1]


async def test_business_error_and_final_failure_are_terminal_when_handler_says_so(
    conductor: FakeConductor, tasks: Tasks
) -> None:
    worker = make_worker(conductor)

    @worker.job("refuse")
    async def refuse() -> None:
        raise BusinessError("CARD_DECLINED", "insufficient funds", {"limit": 10})

    @worker.job("give-up")
    async def give_up() -> None:
        raise JobFailure("no point retrying", retries=0)

    tasks.create("refuse", retryCount=3)
    tasks.create("give-up", retryCount=3)
    async with running(worker):
        await wait_until(
            lambda: (
                tasks.statuses("refuse") == ["FAILED_WITH_TERMINAL_ERROR"]
                and tasks.statuses("give-up") == ["FAILED_WITH_TERMINAL_ERROR"]
            ),
            what="two terminal failures",
        )
    [refused] = tasks.of_type("refuse")
    assert refused["reason"] == "CARD_DECLINED: insufficient funds"
    assert refused["output"] == {"limit": 10, "errorCode": "CARD_DECLINED"}
    assert tasks.of_type("give-up")[0]["reason"] == "no point retrying"


async def test_heartbeat_keeps_a_long_task_past_its_response_timeout(
    conductor: FakeConductor, tasks: Tasks
) -> None:
    worker = make_worker(conductor)
    rival = make_worker(conductor)

    @worker.job("long", lease_seconds=1.0)
    async def long(ctx: JobContext) -> dict[str, Any]:
        for _ in range(5):
            await asyncio.sleep(0.5)
            await ctx.heartbeat()
        return {"done": True}

    @rival.job("long")
    async def stolen() -> None:
        raise AssertionError("a task kept alive by heartbeats must not be handed out again")

    tasks.create("long", responseTimeoutSeconds=1)
    async with running(worker):
        await wait_until(lambda: tasks.statuses("long") == ["IN_PROGRESS"], what="the poll")
        async with running(rival):
            await wait_until(lambda: tasks.statuses("long") == ["COMPLETED"], what="the completion")
    [task] = tasks.of_type("long")
    events = [h["event"] for h in task["history"]]
    assert events == ["scheduled", "polled", *["IN_PROGRESS"] * 5, "COMPLETED"]
    beat = task["history"][2]
    assert (beat["extendLease"], beat["callbackAfterSeconds"]) == (True, 1)


async def test_shutdown_gives_unfinished_tasks_back_without_using_a_retry(
    conductor: FakeConductor, tasks: Tasks
) -> None:
    worker = make_worker(conductor, drain_timeout_seconds=0.2, shutdown_retry_backoff_seconds=1)
    started = asyncio.Event()

    @worker.job("stuck")
    async def stuck() -> None:
        started.set()
        await asyncio.sleep(30)

    tasks.create("stuck", retryCount=1, responseTimeoutSeconds=60)
    task = asyncio.create_task(worker.run())
    await started.wait()
    await worker.stop()
    await task
    stopped = time.time()
    next_worker = make_worker(conductor)

    @next_worker.job("stuck")
    async def finish() -> None:
        return None

    async with running(next_worker):
        await wait_until(lambda: tasks.statuses("stuck") == ["COMPLETED"], what="the hand-over")
    [only] = tasks.of_type("stuck")
    assert only["retry_count"] == 0  # the same attempt: no retry used
    given_back = only["history"][2]
    assert given_back["event"] == "IN_PROGRESS"
    assert given_back["callbackAfterSeconds"] == 1
    assert "drain timeout of 0.2 s" in given_back["reason"]
    assert only["history"][3]["event"] == "redelivered"
    assert only["history"][3]["at"] >= stopped + 0.5


async def test_fake_tasks_and_adapter_updates_follow_the_published_schema(
    conductor: FakeConductor, tasks: Tasks
) -> None:
    worker = make_worker(conductor)

    @worker.job("shape")
    async def shape() -> dict[str, Any]:
        return {"n": 1}

    tasks.create("shape")
    async with httpx.AsyncClient() as http:
        tasks.create("peek")
        polled = (
            await http.get(
                f"{conductor.api_url}/tasks/poll/batch/peek", params={"count": 1, "timeout": 10}
            )
        ).json()
    assert polled
    for task in polled:
        assert problems(CONDUCTOR_API, "Task", task) == []
    async with running(worker):
        await wait_until(lambda: tasks.statuses("shape") == ["COMPLETED"], what="completion")
    for update in tasks.dump()["updates"]:
        assert problems(CONDUCTOR_API, "TaskResult", update) == []
