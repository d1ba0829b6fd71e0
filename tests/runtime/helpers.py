"""Hand-written clients and operations for runtime tests: what generated code declares."""

from __future__ import annotations

from typing import ClassVar

from loom.runtime.client import AsyncAPIClient, SyncAPIClient
from loom.runtime.models import BaseModel
from loom.runtime.operation import Operation, Param, SdkInfo, SecurityScheme
from loom.runtime.retries import RetryPolicy

from .loopback import Received, Reply, Script

FAST_RETRIES = RetryPolicy(
    initial_delay_seconds=0.01, max_delay_seconds=0.05, max_retry_after_seconds=2.0
)

TEST_SDK = SdkInfo(
    name="test-sdk",
    version="1.2.3",
    env_prefix="TESTSDK",
    default_base_url="http://127.0.0.1:9/v1",
    security_schemes={
        "bearerAuth": SecurityScheme(kind="http", scheme="bearer"),
        "apiKey": SecurityScheme(kind="apiKey", name="X-Api-Key", location="header"),
    },
)


class Client(SyncAPIClient):
    """A test SDK's sync client."""

    sdk_info: ClassVar[SdkInfo] = TEST_SDK
    retry_policy: ClassVar[RetryPolicy] = FAST_RETRIES


class AsyncClient(AsyncAPIClient):
    """A test SDK's async client."""

    sdk_info: ClassVar[SdkInfo] = TEST_SDK
    retry_policy: ClassVar[RetryPolicy] = FAST_RETRIES


class Thing(BaseModel):
    """A small response model."""

    id: int
    name: str


class Problem(BaseModel):
    """An RFC 9457 problem body."""

    title: str
    detail: str | None = None


GET_THING = Operation[Thing](
    operation_id="getThing",
    method="GET",
    path="/things/{id}",
    params=(Param("id", "path", "simple", False, required=True),),
    response=Thing,
    errors={"404": Problem, "default": Problem},
)

CREATE_THING = Operation[Thing](
    operation_id="createThing",
    method="POST",
    path="/things",
    response=Thing,
)


def thing_server(received: list[Received] | None = None) -> Script:
    """A script answering every request with a Thing."""

    def script(req: Received) -> Reply:
        if received is not None:
            received.append(req)
        return Reply(json={"id": 7, "name": "seven"})

    return script
