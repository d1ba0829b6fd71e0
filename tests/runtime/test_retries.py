"""The retry policy: pure functions, then the sync and async loops against a scripted server."""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable

import pytest

from loom.runtime.errors import (
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    RateLimitError,
)
from loom.runtime.retries import (
    RetryPolicy,
    backoff_seconds,
    parse_retry_after,
    retry_delay_seconds,
    should_retry,
)

from .helpers import CREATE_THING, GET_THING, AsyncClient, Client
from .loopback import LoopbackServer, Received, Reply, Script

Serve = Callable[[Script], LoopbackServer]
OK = Reply(json={"id": 1, "name": "one"})


def scripted(*replies: Reply) -> Script:
    """Answer with the replies in order, then with the last one forever."""
    queue = list(replies)

    def script(_: Received) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return script


# -- pure functions --------------------------------------------------------------------------


def test_parse_retry_after_reads_seconds_when_integer() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0


def test_parse_retry_after_reads_http_date_when_date() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 10, usegmt=True)
    assert parse_retry_after({"Retry-After": date}, now=now) == pytest.approx(10.0)


def test_parse_retry_after_prefers_milliseconds_when_both_present() -> None:
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25


@pytest.mark.parametrize("value", ["soon", "-1", "nan"])
def test_parse_retry_after_ignores_value_when_invalid(value: str) -> None:
    assert parse_retry_after({"retry-after": value}) is None


def test_backoff_grows_exponentially_with_cap_when_retrying() -> None:
    policy = RetryPolicy(initial_delay_seconds=0.5, max_delay_seconds=4.0, jitter=0.0)
    assert [backoff_seconds(n, policy) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]


def test_backoff_jitter_stays_within_fraction_when_random() -> None:
    policy = RetryPolicy(initial_delay_seconds=1.0, jitter=0.25)
    rand = random.Random(1)
    delays = [backoff_seconds(0, policy, rand=rand) for _ in range(200)]
    assert all(0.75 <= d <= 1.0 for d in delays)
    assert len(set(delays)) > 100


def test_retry_after_is_capped_when_too_long() -> None:
    policy = RetryPolicy(max_retry_after_seconds=5.0)
    assert retry_delay_seconds(0, {"retry-after": "3600"}, policy) == (5.0, "retry-after (capped)")


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_should_retry_accepts_status_when_retryable(status: int) -> None:
    decision = should_retry(
        method="GET",
        status_code=status,
        headers={},
        request_headers={},
        retries_done=0,
        max_retries=2,
    )
    assert decision.retry
    assert str(status) in decision.reason


@pytest.mark.parametrize("status", [400, 401, 404, 409, 501])
def test_should_retry_refuses_status_when_not_retryable(status: int) -> None:
    decision = should_retry(
        method="GET",
        status_code=status,
        headers={},
        request_headers={},
        retries_done=0,
        max_retries=2,
    )
    assert not decision.retry


def test_should_retry_refuses_post_when_no_idempotency_key() -> None:
    decision = should_retry(
        method="POST",
        status_code=503,
        headers={},
        request_headers={},
        retries_done=0,
        max_retries=2,
    )
    assert not decision.retry
    assert "Idempotency-Key" in decision.reason


def test_should_retry_accepts_post_when_idempotency_key_present() -> None:
    decision = should_retry(
        method="POST",
        status_code=503,
        headers={},
        request_headers={"Idempotency-Key": "k"},
        retries_done=0,
        max_retries=2,
    )
    assert decision.retry


def test_should_retry_accepts_post_when_connection_never_opened() -> None:
    decision = should_retry(
        method="POST",
        status_code=None,
        headers=None,
        request_headers={},
        retries_done=0,
        max_retries=2,
        connect_failed=True,
    )
    assert decision.retry


def test_should_retry_stops_when_no_retries_left() -> None:
    decision = should_retry(
        method="GET",
        status_code=503,
        headers={},
        request_headers={},
        retries_done=2,
        max_retries=2,
    )
    assert not decision.retry
    assert "no retries left" in decision.reason


# -- through the client ----------------------------------------------------------------------


def test_retries_429_then_succeeds_when_retry_after_ms_given(serve: Serve) -> None:
    server = serve(scripted(Reply(429, headers={"retry-after-ms": "150"}), OK))
    with Client(base_url=server.url) as client:
        started = time.monotonic()
        thing = client.request(GET_THING, {"id": 1})
        elapsed = time.monotonic() - started
    assert thing.id == 1
    assert server.count() == 2
    assert elapsed >= 0.15


def test_retries_503_honouring_retry_after_seconds_when_given(serve: Serve) -> None:
    server = serve(scripted(Reply(503, headers={"Retry-After": "1"}), OK))
    with Client(base_url=server.url) as client:
        started = time.monotonic()
        client.request(GET_THING, {"id": 1})
        assert time.monotonic() - started >= 0.95
    assert server.count() == 2


def test_retry_after_http_date_is_honoured_with_cap_when_far_away(serve: Serve) -> None:
    far = email.utils.formatdate(time.time() + 3600, usegmt=True)
    server = serve(scripted(Reply(503, headers={"Retry-After": far}), OK))
    with Client(base_url=server.url) as client:
        copy = client.with_options()
        copy._retry_policy = RetryPolicy(max_retry_after_seconds=0.2)  # pyright: ignore[reportPrivateUsage]
        started = time.monotonic()
        copy.request(GET_THING, {"id": 1})
        elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 30.0  # capped: the server asked for an hour


def test_gives_up_with_status_error_when_retries_exhausted(serve: Serve) -> None:
    server = serve(scripted(Reply(503, json={"title": "busy"})))
    with Client(base_url=server.url, max_retries=2) as client, pytest.raises(InternalServerError):
        client.request(GET_THING, {"id": 1})
    assert server.count() == 3


def test_retries_connection_reset_when_get(serve: Serve) -> None:
    server = serve(scripted(Reply(reset=True), Reply(reset=True), OK))
    with Client(base_url=server.url) as client:
        assert client.request(GET_THING, {"id": 1}).id == 1
    assert server.count() == 3


def test_raises_connection_error_when_reset_persists(serve: Serve) -> None:
    server = serve(scripted(Reply(reset=True)))
    with Client(base_url=server.url, max_retries=1) as client, pytest.raises(APIConnectionError):
        client.request(GET_THING, {"id": 1})
    assert server.count() == 2


def test_raises_timeout_error_after_retries_when_server_is_slow(serve: Serve) -> None:
    server = serve(scripted(Reply(delay_seconds=0.5, json={"id": 1, "name": "x"})))
    with Client(base_url=server.url, timeout=0.1, max_retries=1) as client:
        with pytest.raises(APITimeoutError):
            client.request(GET_THING, {"id": 1})
        assert server.count() == 2
        # A per-call timeout overrides the client's.
        assert client.request(GET_THING, {"id": 1}, timeout=5.0).id == 1
        # timeout=None disables it for one call.
        assert client.request(GET_THING, {"id": 1}, timeout=None).id == 1


def test_post_is_not_retried_when_no_idempotency_key(serve: Serve) -> None:
    server = serve(scripted(Reply(503), OK))
    with Client(base_url=server.url) as client, pytest.raises(InternalServerError):
        client.request(CREATE_THING, {})
    assert server.count() == 1


def test_post_is_retried_with_the_same_key_when_idempotency_key_sent(serve: Serve) -> None:
    received: list[Received] = []
    inner = scripted(Reply(503), Reply(429), OK)

    def script(req: Received) -> Reply:
        received.append(req)
        return inner(req)

    server = serve(script)
    with Client(base_url=server.url) as client:
        client.request(CREATE_THING, {}, extra_headers={"Idempotency-Key": "key-42"})
    assert server.count() == 3
    assert [r.headers["idempotency-key"] for r in received] == ["key-42"] * 3


def test_every_retry_decision_is_logged_with_reason_when_debug(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    server = serve(scripted(Reply(503), Reply(429, headers={"retry-after-ms": "10"}), OK))
    logger = logging.getLogger("test.runtime.retries")
    with (
        caplog.at_level(logging.DEBUG, logger="test.runtime.retries"),
        Client(base_url=server.url, logger=logger) as client,
    ):
        client.request(GET_THING, {"id": 1})
    assert "status 503, GET is idempotent (retry 1/2)" in caplog.text
    assert "status 429, GET is idempotent (retry 2/2)" in caplog.text
    assert "(retry-after)" in caplog.text
    assert "(backoff)" in caplog.text


def test_max_retries_zero_disables_retries_when_set_per_copy(serve: Serve) -> None:
    server = serve(scripted(Reply(429), OK))
    with Client(base_url=server.url) as client, pytest.raises(RateLimitError):
        client.with_options(max_retries=0).request(GET_THING, {"id": 1})
    assert server.count() == 1


async def test_async_client_retries_429_and_reset_when_get(serve: Serve) -> None:
    server = serve(scripted(Reply(429, headers={"retry-after-ms": "20"}), Reply(reset=True), OK))
    async with AsyncClient(base_url=server.url) as client:
        thing = await client.request(GET_THING, {"id": 1})
    assert thing.id == 1
    assert server.count() == 3


async def test_async_client_raises_timeout_when_server_is_slow(serve: Serve) -> None:
    server = serve(scripted(Reply(delay_seconds=0.5, json={"id": 1, "name": "x"})))
    async with AsyncClient(base_url=server.url, timeout=0.1, max_retries=0) as client:
        with pytest.raises(APITimeoutError):
            await client.request(GET_THING, {"id": 1})


async def test_async_post_is_not_retried_when_no_idempotency_key(serve: Serve) -> None:
    server = serve(scripted(Reply(503), OK))
    async with AsyncClient(base_url=server.url) as client:
        with pytest.raises(InternalServerError):
            await client.request(CREATE_THING, {})
    assert server.count() == 1
