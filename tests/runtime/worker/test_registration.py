"""Handlers are checked when they are registered: a wrong one is an error at start-up."""

from __future__ import annotations

import os
from typing import Any

import pydantic
import pytest

from loom.runtime.worker import JobContext, JobWorker, RegistrationError, Router
from loom.runtime.worker.camunda import CamundaAdapter
from tests.runtime.worker import process_handlers
from tests.runtime.worker.fake_camunda import FakeCamunda
from tests.runtime.worker.helpers import Control, running, states, wait_until


class Item(pydantic.BaseModel):
    name: str


async def two_required(a: dict[str, Any], b: int) -> None:
    return None


async def wrong_variables_type(a: int) -> None:
    return None


async def wrong_return(a: dict[str, Any]) -> int:
    return 1


async def two_contexts(a: JobContext, b: JobContext) -> None:
    return None


def positional_only(a: dict[str, Any], /) -> None:
    return None


def unresolvable(a: object) -> None:
    return None


unresolvable.__annotations__["a"] = "NoSuchModel"  # a forward reference that never resolves


def plain(a: dict[str, Any]) -> None:
    return None


async def coroutine(a: dict[str, Any]) -> None:
    return None


@pytest.mark.parametrize(
    ("func", "strategy", "message"),
    [
        (two_required, "auto", "parameter 'b' has no value to receive"),
        (wrong_variables_type, "auto", "variables arrive as a dict"),
        (wrong_return, "auto", "returns <class 'int'>"),
        (two_contexts, "auto", "two parameters take the JobContext"),
        (positional_only, "auto", "positional-only"),
        (unresolvable, "auto", "cannot read its annotations"),
        (plain, "async", "needs an `async def` handler"),
        (coroutine, "thread", "needs a plain `def` handler"),
        (lambda a: None, "process", "needs the handler to pickle"),  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType]
    ],
    ids=lambda v: v if isinstance(v, str) and " " not in v else None,
)
def test_registration_fails_at_start_up_when_handler_signature_is_wrong(
    func: Any, strategy: Any, message: str
) -> None:
    router = Router()
    with pytest.raises(RegistrationError, match=r"handler .* for job type 'x'") as info:
        router.job("x", strategy=strategy)(func)
    assert message in str(info.value)
    assert len(router) == 0


def test_registration_fails_when_a_process_handler_takes_the_context() -> None:
    def local(ctx: JobContext) -> None:
        return None

    with pytest.raises(RegistrationError, match="cannot take a JobContext"):
        Router().job("x", strategy="process")(local)


def test_routers_from_modules_merge_and_refuse_a_second_handler_for_one_type() -> None:
    billing, shipping = Router(), Router()
    billing.job("charge")(plain)
    shipping.job("ship")(coroutine)
    worker = JobWorker(CamundaAdapter("http://127.0.0.1:9/v2"))
    worker.include_router(billing)
    worker.include_router(shipping)
    assert sorted(s.job_type for s in worker.router) == ["charge", "ship"]
    assert [s.strategy for s in worker.router] == ["thread", "async"]
    with pytest.raises(RegistrationError, match="already has a handler"):
        worker.include_router(billing)


async def test_worker_refuses_to_run_when_no_handler_is_registered() -> None:
    with pytest.raises(RuntimeError, match="has no handlers"):
        await JobWorker(CamundaAdapter("http://127.0.0.1:9/v2")).run()


async def test_process_strategy_runs_handlers_in_another_process_when_asked(
    fake: FakeCamunda, control: Control
) -> None:
    worker = JobWorker(CamundaAdapter(fake.base_url), request_timeout_seconds=2.0)
    worker.job("sum", strategy="process")(process_handlers.total)
    worker.job("refuse", strategy="process")(process_handlers.refuse)
    [summed] = control.create("sum", variables={"values": [1, 2, 3]})
    [refused] = control.create("refuse")
    async with running(worker):
        await wait_until(
            lambda: states(control, [summed, refused]) == ["completed", "error"],
            timeout_seconds=30,
            what="both jobs",
        )
    result = control.events(summed, "complete")[0]["variables"]
    assert result["total"] == 6
    assert result["pid"] != os.getpid()
    assert control.events(refused, "error")[0]["code"] == "REFUSED"
