"""Waiting for eventually consistent reads (operations marked ``x-eventually-consistent``).

``client.request(op, ..., consistency=Consistency(wait_up_to_seconds=10))`` calls the operation
until the predicate holds, sleeping ``poll_interval_seconds`` between calls, then raises
``ConsistencyTimeoutError``. Like Camunda's ``ConsistencyOptions``: the default predicate
accepts any result of a GET and a non-empty ``items`` list for searches; a 404 on a GET means
"not visible yet" and is polled again; 429 is polled again after a longer pause; other errors
stop polling at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import APIStatusError, ConsistencyTimeoutError


async def _asleep(seconds: float) -> None:
    # asyncio is imported here, not at module level: it imports ssl, which `Client()` must not.
    import asyncio

    await asyncio.sleep(seconds)


__all__ = ["Consistency", "default_predicate", "poll_async", "poll_sync"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Consistency:
    """How long to wait for a consistent result.

    Attributes:
        wait_up_to_seconds: the longest wait; ``0`` returns the first result.
        predicate: ``result -> bool``; ``None`` uses ``default_predicate``.
        poll_interval_seconds: the pause between calls (at least 0.01 s).
    """

    wait_up_to_seconds: float
    predicate: Callable[[Any], bool] | None = None
    poll_interval_seconds: float = 0.5


def default_predicate(result: object, *, method: str) -> bool:
    """Any result of a GET; for other methods (searches) a non-empty ``items`` list.

    Args:
        result: the parsed result.
        method: the operation's HTTP method.
    """
    if method.upper() == "GET":
        return result is not None
    items: object
    if isinstance(result, Mapping):
        mapping: Mapping[str, object] = result  # pyright: ignore[reportUnknownVariableType]
        items = mapping.get("items")
    else:
        items = getattr(result, "items", None)
    if isinstance(items, list):
        return len(items) > 0  # pyright: ignore[reportUnknownArgumentType]
    return result is not None


def _retry_pause(exc: Exception, method: str, interval: float) -> float | None:
    """The pause before polling again after an error, or ``None`` to re-raise it."""
    if isinstance(exc, APIStatusError):
        if exc.status_code == 404 and method.upper() == "GET":
            return interval
        if exc.status_code == 429:
            return min(interval * 2.0, 2.0)
    return None


class _Poll:
    """The bookkeeping shared by the sync and async loops (no I/O)."""

    def __init__(self, operation_id: str, method: str, options: Consistency) -> None:
        self.operation_id = operation_id
        self.method = method
        self.options = options
        self.interval = max(0.01, options.poll_interval_seconds)
        self.started = time.monotonic()
        self.attempts = 0
        self.last_result: object = None
        self.last_status: int | None = None

    def accepted(self, result: object) -> bool:
        self.attempts += 1
        self.last_result = result
        self.last_status = 200
        predicate = self.options.predicate
        if predicate is not None:
            return bool(predicate(result))
        return default_predicate(result, method=self.method)

    def failed(self, exc: Exception) -> float:
        """Record a failed attempt; the pause before the next, or re-raise."""
        self.attempts += 1
        self.last_result = None
        self.last_status = getattr(exc, "status_code", None)
        pause = _retry_pause(exc, self.method, self.interval)
        if pause is None:
            raise exc
        return pause

    def pause_or_timeout(self, pause: float) -> float:
        remaining = self.options.wait_up_to_seconds - (time.monotonic() - self.started)
        if remaining <= 0:
            raise ConsistencyTimeoutError(
                operation_id=self.operation_id,
                attempts=self.attempts,
                elapsed_seconds=time.monotonic() - self.started,
                last_result=self.last_result,
                last_status=self.last_status,
            )
        return min(pause, remaining)


def poll_sync(
    operation_id: str,
    method: str,
    call: Callable[[], T],
    options: Consistency,
    logger: logging.Logger,
) -> T:
    """Call until the result is consistent (sync).

    Raises:
        ConsistencyTimeoutError: ``wait_up_to_seconds`` passed first.
    """
    if options.wait_up_to_seconds <= 0:
        return call()
    poll = _Poll(operation_id, method, options)
    while True:
        try:
            result = call()
        except APIStatusError as exc:
            pause = poll.failed(exc)
        else:
            if poll.accepted(result):
                return result
            pause = poll.interval
        pause = poll.pause_or_timeout(pause)
        logger.debug(
            "%s: not consistent yet (attempt %d), polling again", operation_id, poll.attempts
        )
        time.sleep(pause)


async def poll_async(
    operation_id: str,
    method: str,
    call: Callable[[], Awaitable[T]],
    options: Consistency,
    logger: logging.Logger,
) -> T:
    """Call until the result is consistent (async).

    Raises:
        ConsistencyTimeoutError: ``wait_up_to_seconds`` passed first.
    """
    if options.wait_up_to_seconds <= 0:
        return await call()
    poll = _Poll(operation_id, method, options)
    while True:
        try:
            result = await call()
        except APIStatusError as exc:
            pause = poll.failed(exc)
        else:
            if poll.accepted(result):
                return result
            pause = poll.interval
        pause = poll.pause_or_timeout(pause)
        logger.debug(
            "%s: not consistent yet (attempt %d), polling again", operation_id, poll.attempts
        )
        await _asleep(pause)
