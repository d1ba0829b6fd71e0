"""One retry loop for every request the runtime sends: a pure judge and two thin drivers.

An attempt returns its outcome: the response, or a ``Failed`` (the SDK's error for a transport
failure, its ``__cause__`` the transport exception). The judge, a pure function of the retries
done and the outcome, says stop (``None``: the outcome stands) or ``Retry`` after a delay. The
drivers only do the I/O: attempt, close the response they drop, sleep, and raise a ``Failed``
that is not retried. As with httpx's ``Auth.auth_flow``, one piece of logic serves the sync and
the asyncio client; API calls (``client``) and the OAuth token request (``auth``) both use it::

    response = run_sync(attempt, judge, on_retry)          # or: await run_async(...)
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["Failed", "Retry", "run_async", "run_sync"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Failed:
    """An attempt that got no response.

    Attributes:
        error: what the caller gets when it is not retried (an ``APIConnectionError``).
        connect_failed: the connection never opened, so the request was never sent.
        tls_error: the reason of a failed TLS handshake, if that was the failure.
    """

    error: Exception
    connect_failed: bool = False
    tls_error: str | None = None


@dataclass(frozen=True, slots=True)
class Retry:
    """Try again after ``delay_seconds``; ``reason`` says where the delay came from."""

    delay_seconds: float
    reason: str


def _close(outcome: object) -> None:
    close = getattr(outcome, "close", None)
    if callable(close):
        close()


def run_sync(
    attempt: Callable[[], T | Failed],
    judge: Callable[[int, T | Failed], Retry | None],
    on_retry: Callable[[Retry], None],
) -> T:
    """Attempt until the judge stops; return the last response or raise its error."""
    retries = 0
    while True:
        outcome = attempt()
        step = judge(retries, outcome)
        if step is None:
            if isinstance(outcome, Failed):
                raise outcome.error
            return outcome
        on_retry(step)
        _close(outcome)
        time.sleep(step.delay_seconds)
        retries += 1


async def run_async(
    attempt: Callable[[], Awaitable[T | Failed]],
    judge: Callable[[int, T | Failed], Retry | None],
    on_retry: Callable[[Retry], None],
) -> T:
    """The asyncio driver of the same loop (``run_sync``)."""
    # asyncio is imported here, not at module level: it imports ssl, which `Client()` must not.
    import asyncio

    retries = 0
    while True:
        outcome = await attempt()
        step = judge(retries, outcome)
        if step is None:
            if isinstance(outcome, Failed):
                raise outcome.error
            return outcome
        on_retry(step)
        aclose = getattr(outcome, "aclose", None)
        if callable(aclose):
            await aclose()  # pyright: ignore[reportUnknownVariableType, reportGeneralTypeIssues]
        await asyncio.sleep(step.delay_seconds)
        retries += 1
