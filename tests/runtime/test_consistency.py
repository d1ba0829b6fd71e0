"""``consistency=``: poll until the predicate holds, then a clear timeout error."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from loom.runtime.consistency import Consistency, default_predicate
from loom.runtime.errors import BadRequestError, ConsistencyTimeoutError
from loom.runtime.operation import Body, Operation

from .helpers import GET_THING, AsyncClient, Client
from .loopback import LoopbackServer, Received, Reply, Script

Serve = Callable[[Script], LoopbackServer]

SEARCH = Operation[dict[str, Any]](
    operation_id="searchThings",
    method="POST",
    path="/things/search",
    body=Body("application/json"),
    response=dict[str, Any],
    eventually_consistent=True,
)


def visible_after(n: int, *, status: int = 200) -> Script:
    """Empty results (or ``status``) for the first ``n`` calls, then one item."""
    calls = {"n": 0}

    def script(_: Received) -> Reply:
        calls["n"] += 1
        if calls["n"] <= n:
            return Reply(status, json={"items": []} if status == 200 else {"title": "not yet"})
        return Reply(json={"items": [{"id": 1}], "id": 1, "name": "one"})

    return script


def test_search_polls_until_items_appear_when_waiting(serve: Serve) -> None:
    server = serve(visible_after(3))
    with Client(base_url=server.url) as client:
        result = client.request(
            SEARCH,
            {},
            {},
            consistency=Consistency(wait_up_to_seconds=5, poll_interval_seconds=0.02),
        )
    assert result["items"] == [{"id": 1}]
    assert server.count() == 4


def test_get_polls_through_404_when_entity_not_visible_yet(serve: Serve) -> None:
    server = serve(visible_after(2, status=404))
    with Client(base_url=server.url) as client:
        thing = client.request(
            GET_THING,
            {"id": 1},
            consistency=Consistency(wait_up_to_seconds=5, poll_interval_seconds=0.02),
        )
    assert thing.name == "one"
    assert server.count() == 3


def test_custom_predicate_decides_when_given(serve: Serve) -> None:
    server = serve(visible_after(0))
    seen: list[object] = []

    def predicate(result: Any) -> bool:
        seen.append(result)
        return len(seen) >= 2

    with Client(base_url=server.url) as client:
        client.request(
            SEARCH,
            {},
            {},
            consistency=Consistency(
                wait_up_to_seconds=5, predicate=predicate, poll_interval_seconds=0.01
            ),
        )
    assert len(seen) == 2


def test_timeout_error_names_operation_and_attempts_when_never_consistent(serve: Serve) -> None:
    server = serve(visible_after(10_000))
    with Client(base_url=server.url) as client:
        started = time.monotonic()
        with pytest.raises(ConsistencyTimeoutError) as info:
            client.request(
                SEARCH,
                {},
                {},
                consistency=Consistency(wait_up_to_seconds=0.3, poll_interval_seconds=0.05),
            )
        elapsed = time.monotonic() - started
    error = info.value
    assert elapsed >= 0.3
    assert error.operation_id == "searchThings"
    assert error.attempts >= 2
    assert error.last_result == {"items": []}
    assert "searchThings" in str(error)
    assert "wait_up_to_seconds" in str(error)


def test_other_errors_stop_polling_at_once_when_not_retryable(serve: Serve) -> None:
    server = serve(visible_after(5, status=400))
    with Client(base_url=server.url) as client, pytest.raises(BadRequestError):
        client.request(SEARCH, {}, {}, consistency=Consistency(wait_up_to_seconds=5))
    assert server.count() == 1


async def test_async_search_polls_until_items_appear_when_waiting(serve: Serve) -> None:
    server = serve(visible_after(2))
    async with AsyncClient(base_url=server.url) as client:
        result = await client.request(
            SEARCH,
            {},
            {},
            consistency=Consistency(wait_up_to_seconds=5, poll_interval_seconds=0.02),
        )
    assert result["items"] == [{"id": 1}]


async def test_async_timeout_error_when_never_consistent(serve: Serve) -> None:
    server = serve(visible_after(10_000))
    async with AsyncClient(base_url=server.url) as client:
        with pytest.raises(ConsistencyTimeoutError):
            await client.request(
                SEARCH,
                {},
                {},
                consistency=Consistency(wait_up_to_seconds=0.2, poll_interval_seconds=0.05),
            )


@pytest.mark.parametrize(
    ("result", "method", "expected"),
    [
        ({"items": []}, "POST", False),
        ({"items": [1]}, "POST", True),
        (None, "GET", False),
        ({"x": 1}, "GET", True),
    ],
)
def test_default_predicate_matches_camunda_rules_when_evaluated(
    result: object, method: str, expected: bool
) -> None:
    assert default_predicate(result, method=method) is expected
