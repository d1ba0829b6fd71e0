"""The worker core with the Camunda 8 REST v2 adapter, against the loopback fake Camunda."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pydantic

from loom.runtime.worker import (
    BusinessError,
    CountingMetrics,
    JobContext,
    JobFailure,
    JobWorker,
)
from loom.runtime.worker.camunda import CamundaAdapter
from tests.runtime.worker.fake_camunda import FakeCamunda
from tests.runtime.worker.helpers import Control, running, states, wait_until
from tests.runtime.worker.schemas import CAMUNDA_SCHEMAS, problems


class Order(pydantic.BaseModel):
    order_id: str
    amount: float


class Receipt(pydantic.BaseModel):
    receipt_id: str
    charged: float


def make_worker(fake: FakeCamunda, **kwargs: Any) -> JobWorker:
    kwargs.setdefault("request_timeout_seconds", 2.0)
    kwargs.setdefault("drain_timeout_seconds", 2.0)
    return JobWorker(CamundaAdapter(fake.base_url), name="test-worker", **kwargs)


async def test_job_completes_with_model_variables_when_handler_takes_and_returns_models(
    fake: FakeCamunda, control: Control
) -> None:
    worker = make_worker(fake)
    seen: list[tuple[Order, str, int, dict[str, Any]]] = []

    @worker.job("charge")
    async def charge(order: Order, ctx: JobContext) -> Receipt:
        seen.append((order, ctx.key, ctx.retries, dict(ctx.headers)))
        assert ctx.deadline is not None
        return Receipt(receipt_id=f"r-{order.order_id}", charged=order.amount)

    [key] = control.create(
        "charge", variables={"order_id": "o1", "amount": 9.5}, retries=5, headers={"h": "v"}
    )
    async with running(worker):
        await wait_until(lambda: states(control, [key]) == ["completed"], what="completion")
    [done] = control.events(key, "complete")
    assert done["variables"] == {"receipt_id": "r-o1", "charged": 9.5}
    assert seen == [(Order(order_id="o1", amount=9.5), key, 5, {"h": "v"})]


async def test_dict_variables_in_and_out_when_handler_is_unannotated(
    fake: FakeCamunda, control: Control
) -> None:
    worker = make_worker(fake)

    @worker.job("echo")
    async def echo(variables):  # type: ignore[no-untyped-def]  # pyright: ignore[reportMissingParameterType, reportUnknownParameterType]
        return {"echo": variables["x"]}  # pyright: ignore[reportUnknownVariableType]

    [key] = control.create("echo", variables={"x": [1, 2]})
    async with running(worker):
        await wait_until(lambda: states(control, [key]) == ["completed"], what="completion")
    assert control.events(key, "complete")[0]["variables"] == {"echo": [1, 2]}


async def test_failure_is_retried_after_its_backoff_when_handler_raises(
    fake: FakeCamunda, control: Control
) -> None:
    worker = make_worker(fake, metrics=(metrics := CountingMetrics()))
    attempts: list[float] = []

    @worker.job("flaky", retry_backoff_seconds=0.4)
    async def flaky(ctx: JobContext) -> dict[str, Any]:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise ConnectionError("payment service said no")
        return {"attempts": len(attempts)}

    [key] = control.create("flaky", retries=3)
    async with running(worker):
        await wait_until(lambda: states(control, [key]) == ["completed"], what="the retry")
    [failure] = control.events(key, "fail")
    assert failure["retries"] == 2
    assert failure["backoff_ms"] == 400
    assert failure["message"] == "ConnectionError: payment service said no"
    assert attempts[1] - attempts[0] >= 0.35
    assert metrics.outcomes[("flaky", "failed")] == 1
    assert metrics.outcomes[("flaky", "completed")] == 1


async def test_job_failure_sets_retries_and_backoff_when_handler_decides(
    fake: FakeCamunda, control: Control
) -> None:
    worker = make_worker(fake)

    @worker.job("decides")
    async def decides() -> None:
        raise JobFailure("gave up", retries=0, retry_backoff_seconds=2.5, variables={"why": 1})

    [key] = control.create("decides", retries=7)
    async with running(worker):
        await wait_until(lambda: states(control, [key]) == ["failed"], what="the failure")
    [failure] = control.events(key, "fail")
    assert (failure["retries"], failure["backoff_ms"], failure["message"]) == (0, 2500, "gave up")


async def test_business_error_is_thrown_with_code_when_handler_raises_it(
    fake: FakeCamunda, control: Control
) -> None:
    worker = make_worker(fake)

    @worker.job("check-stock")
    async def check(variables: dict[str, Any]) -> None:
        raise BusinessError("OUT_OF_STOCK", "no widgets left", {"sku": variables["sku"]})

    [key] = control.create("check-stock", variables={"sku": "w-1"})
    async with running(worker):
        await wait_until(lambda: states(control, [key]) == ["error"], what="the business error")
    [error] = control.events(key, "error")
    assert (error["code"], error["message"], error["variables"]) == (
        "OUT_OF_STOCK",
        "no widgets left",
        {"sku": "w-1"},
    )


async def test_variables_that_do_not_match_the_model_fail_the_job_without_echoing_values(
    fake: FakeCamunda, control: Control
) -> None:
    worker = make_worker(fake)

    @worker.job("typed")
    async def typed(order: Order) -> None:
        raise AssertionError("not reached")

    [key] = control.create("typed", variables={"order_id": "o", "amount": "secret-token-123"})
    async with running(worker):
        await wait_until(
            lambda: states(control, [key]) == ["activatable"] and bool(control.events(key, "fail")),
            what="the failure",
        )
    message = control.events(key, "fail")[0]["message"]
    assert message.startswith("variables do not match Order: amount:")
    assert "secret-token-123" not in message


async def test_heartbeat_keeps_a_job_past_its_lease_when_handler_beats(
    fake: FakeCamunda, control: Control
) -> None:
    worker = make_worker(fake)
    rival = make_worker(fake)

    @worker.job("long", lease_seconds=0.5)
    async def long(ctx: JobContext) -> dict[str, Any]:
        first = ctx.deadline
        for _ in range(8):
            await asyncio.sleep(0.2)
            await ctx.heartbeat()
        assert ctx.deadline is not None
        assert first is not None
        assert ctx.deadline > first
        return {"done": True}

    @rival.job("long", lease_seconds=0.5)
    async def stolen() -> None:
        raise AssertionError("the rival must not get a job whose lease is kept alive")

    [key] = control.create("long")
    async with running(worker):
        await wait_until(lambda: states(control, [key]) == ["activated"], what="activation")
        async with running(rival):
            await wait_until(lambda: states(control, [key]) == ["completed"], what="completion")
    events = [h["event"] for h in control.jobs()[key]["history"]]
    assert events.count("activated") == 1
    assert "timed_out" not in events
    assert events.count("update") == 8


async def test_heartbeat_from_a_thread_keeps_a_blocking_job_alive(
    fake: FakeCamunda, control: Control
) -> None:
    worker = make_worker(fake)

    @worker.job("blocking", lease_seconds=0.4)
    def blocking(ctx: JobContext) -> dict[str, Any]:
        for _ in range(4):
            time.sleep(0.2)
            ctx.heartbeat_blocking()
        return {"thread": threading.current_thread().name}

    [key] = control.create("blocking")
    async with running(worker):
        await wait_until(lambda: states(control, [key]) == ["completed"], what="completion")
    assert control.events(key, "complete")[0]["variables"]["thread"].startswith("test-worker-job")
    assert not control.events(key, "timed_out")


async def test_stop_drains_running_jobs_when_they_finish_within_the_timeout(
    fake: FakeCamunda, control: Control
) -> None:
    worker = make_worker(fake, drain_timeout_seconds=5.0)
    started = asyncio.Event()

    @worker.job("short")
    async def short() -> dict[str, Any]:
        started.set()
        await asyncio.sleep(0.5)
        return {"ok": True}

    keys = control.create("short", count=3)
    task = asyncio.create_task(worker.run())
    await started.wait()
    await worker.stop()
    await task
    assert states(control, keys) == ["completed"] * 3


async def test_stop_fails_back_unfinished_jobs_when_drain_times_out_so_none_stays_locked(
    fake: FakeCamunda, control: Control
) -> None:
    worker = make_worker(
        fake,
        drain_timeout_seconds=0.3,
        shutdown_retry_backoff_seconds=0.2,
        metrics=(metrics := CountingMetrics()),
    )
    started = 0

    @worker.job("slow", lease_seconds=60)
    async def slow() -> None:
        nonlocal started
        started += 1
        await asyncio.sleep(30)

    keys = control.create("slow", count=4, retries=2)
    task = asyncio.create_task(worker.run())
    await wait_until(lambda: started == 4, what="4 running jobs")
    began = time.monotonic()
    await worker.stop()
    await task
    assert time.monotonic() - began < 3
    jobs = control.jobs()
    assert [jobs[k]["state"] for k in keys] == ["activatable"] * 4
    for key in keys:
        [failure] = control.events(key, "fail")
        assert failure["retries"] == 2  # not the handler's fault: retries are not used up
        assert failure["backoff_ms"] == 200
        assert "drain timeout of 0.3 s" in failure["message"]
    assert metrics.outcomes[("slow", "abandoned")] == 4


async def test_activation_asks_only_for_free_capacity_and_polls_again_at_once_when_full(
    fake: FakeCamunda, control: Control
) -> None:
    worker = make_worker(fake, max_in_flight=4, metrics=(metrics := CountingMetrics()))
    gate = threading.Event()

    @worker.job("capped")
    async def capped() -> None:
        await asyncio.to_thread(gate.wait, 10)

    keys = control.create("capped", count=10)
    async with running(worker):
        await wait_until(lambda: metrics.current.get("capped") == 4, what="4 in flight")
        await asyncio.sleep(0.3)
        assert metrics.current["capped"] == 4  # no poll while full
        gate.set()
        await wait_until(lambda: states(control, keys) == ["completed"] * 10, what="all done")
    asked = [a["maxJobsToActivate"] for a in control.state()["activations"]]
    assert asked[0] == 4
    assert max(asked) <= 4
    assert metrics.peak["capped"] == 4


async def test_activation_backs_off_for_retry_after_when_server_answers_503(
    fake: FakeCamunda, control: Control
) -> None:
    worker = make_worker(fake, metrics=(metrics := CountingMetrics()))

    @worker.job("pressure")
    async def pressure() -> None:
        return None

    control.fault({"status": 503, "retryAfter": 1}, {"status": 429})
    [key] = control.create("pressure")
    async with running(worker):
        await wait_until(lambda: states(control, [key]) == ["completed"], what="completion")
    times = [a["at"] for a in control.state()["activations"]]
    assert times[1] - times[0] >= 950  # Retry-After: 1 honoured
    assert metrics.poll_errors[("pressure", "backpressure")] == 2


async def test_worker_reconnects_and_completes_jobs_when_the_server_restarts(
    fake: FakeCamunda, control: Control
) -> None:
    worker = make_worker(fake, metrics=(metrics := CountingMetrics()))

    @worker.job("survivor")
    async def survivor() -> None:
        return None

    [first] = control.create("survivor")
    async with running(worker):
        await wait_until(lambda: states(control, [first]) == ["completed"], what="first job")
        await asyncio.to_thread(fake.restart, down_seconds=1.0)
        [second] = control.create("survivor")
        await wait_until(lambda: states(control, [second]) == ["completed"], what="after restart")
    assert metrics.poll_errors[("survivor", "unavailable")] >= 1


async def test_fake_answers_with_every_published_job_field_when_activating(
    fake: FakeCamunda, control: Control
) -> None:
    control.create("shape", variables={"a": 1})
    async with httpx.AsyncClient(base_url=fake.base_url) as http:
        response = await http.post(
            "/jobs/activation",
            json={
                "type": "shape",
                "timeout": 1000,
                "maxJobsToActivate": 1,
                "worker": "w",
                "requestTimeout": -1,
                "withLease": True,
            },
        )
        bad = await http.post("/jobs/activation", json={"type": "shape"})
    body = response.json()
    assert problems(CAMUNDA_SCHEMAS, "JobActivationResult", body) == []
    assert len(body["jobs"][0]) == 23  # the 22 fields camunda-orchestration-sdk needs + leaseToken
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert problems(CAMUNDA_SCHEMAS, "ProblemDetail", bad.json()) == []
