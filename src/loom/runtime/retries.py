"""The retry policy as small pure functions, shared by the sync and async request loops.

A request is retried when all of these hold (``should_retry``):

* attempts are left (``max_retries``, default 2, so at most 3 attempts);
* the failure is retryable: a connection error or timeout, or status 408, 429, 500, 502, 503,
  504 (a server may also force the answer with ``x-should-retry: true|false``);
* the method is idempotent (RFC 9110 §9.2.2: GET, HEAD, OPTIONS, PUT, DELETE, TRACE), or the
  request carries an ``Idempotency-Key`` header (sent unchanged on every attempt), or the
  operation is declared idempotent, or the connection could not even be opened (the request was
  never sent, so retrying cannot repeat it).

The delay (``retry_delay_seconds``) honours the server first: ``retry-after-ms``, then
``Retry-After`` as seconds or an HTTP date (RFC 9110 §10.2.3), capped at
``RetryPolicy.max_retry_after_seconds``; otherwise exponential back-off
``initial * 2**attempt`` capped at ``max_delay_seconds`` with up to 25 % jitter removed.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRYABLE_STATUSES",
    "RetryDecision",
    "RetryPolicy",
    "backoff_seconds",
    "parse_retry_after",
    "retry_delay_seconds",
    "should_retry",
]

RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
IDEMPOTENCY_HEADER: Final = "idempotency-key"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Back-off parameters; the number of retries is the client's ``max_retries``.

    Attributes:
        initial_delay_seconds: the first back-off delay before jitter.
        max_delay_seconds: the cap of the exponential back-off.
        max_retry_after_seconds: the cap applied to a server's ``Retry-After``.
        jitter: the fraction of the delay that is randomly removed (0 disables jitter).
    """

    initial_delay_seconds: float = 0.5
    max_delay_seconds: float = 8.0
    max_retry_after_seconds: float = 60.0
    jitter: float = 0.25


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """Whether to retry, and the reason, for the debug log."""

    retry: bool
    reason: str


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The delay a server asked for, in seconds, or ``None`` if it asked for none.

    ``retry-after-ms`` (milliseconds, used by several APIs) wins over ``Retry-After``, which is
    either delta-seconds or an HTTP date (RFC 9110 §10.2.3). Negative or unparseable values
    count as absent.

    Args:
        headers: response headers (case-insensitive mapping or lower-case keys).
        now: the current Unix time, for HTTP dates; defaults to ``time.time()``.

    Returns:
        Seconds to wait, or ``None``.
    """
    ms = _header(headers, "retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0 and not math.isnan(value):
            return value
    raw = _header(headers, "retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        import email.utils  # lazily: it imports socket, which a client's import does not need

        parsed = email.utils.parsedate_tz(raw)
        if parsed is None:
            return None
        seconds = email.utils.mktime_tz(parsed) - (time.time() if now is None else now)
        return max(0.0, seconds)
    if seconds < 0 or math.isnan(seconds):
        return None
    return seconds


def backoff_seconds(
    retries_done: int, policy: RetryPolicy, *, rand: random.Random | None = None
) -> float:
    """Exponential back-off with jitter for the next attempt.

    Args:
        retries_done: how many retries already happened (0 before the first retry).
        policy: the back-off parameters.
        rand: a random source (tests pass a seeded one).

    Returns:
        ``min(initial * 2**retries_done, max) * (1 - jitter * U[0,1))``.
    """
    delay = min(policy.initial_delay_seconds * (2.0**retries_done), policy.max_delay_seconds)
    r = (rand or _RANDOM).random()
    return max(0.0, delay * (1.0 - policy.jitter * r))


def retry_delay_seconds(
    retries_done: int,
    headers: Mapping[str, str] | None,
    policy: RetryPolicy,
    *,
    rand: random.Random | None = None,
) -> tuple[float, str]:
    """The delay before the next attempt and where it came from.

    Args:
        retries_done: how many retries already happened.
        headers: the failed response's headers, or ``None`` after a connection error.
        policy: the back-off parameters.
        rand: a random source.

    Returns:
        ``(seconds, source)`` with source ``"retry-after"``, ``"retry-after (capped)"`` or
        ``"backoff"``.
    """
    if headers is not None:
        asked = parse_retry_after(headers)
        if asked is not None:
            if asked > policy.max_retry_after_seconds:
                return policy.max_retry_after_seconds, "retry-after (capped)"
            return asked, "retry-after"
    return backoff_seconds(retries_done, policy, rand=rand), "backoff"


def should_retry(
    *,
    method: str,
    status_code: int | None,
    headers: Mapping[str, str] | None,
    request_headers: Mapping[str, str],
    retries_done: int,
    max_retries: int,
    connect_failed: bool = False,
    idempotent: bool | None = None,
    tls_error: str | None = None,
) -> RetryDecision:
    """Decide whether a failed attempt is retried.

    Args:
        method: the request method.
        status_code: the response status, or ``None`` when no response arrived.
        headers: the response headers, or ``None``.
        request_headers: the request headers (for ``Idempotency-Key``).
        retries_done: retries already made.
        max_retries: the client's or call's limit.
        connect_failed: the connection could not be opened, so the request was never sent.
        idempotent: the operation's declared idempotency (``None``: decide by method).
        tls_error: the reason of a failed TLS handshake (a bad certificate does not heal).

    Returns:
        The decision with a reason for the log.
    """
    if tls_error is not None:
        return RetryDecision(False, f"TLS handshake failed ({tls_error}), retrying cannot help")
    if status_code is not None:
        forced = _header(headers or {}, "x-should-retry")
        if forced == "false":
            return RetryDecision(False, f"status {status_code}, server sent x-should-retry: false")
        if status_code not in RETRYABLE_STATUSES and forced != "true":
            return RetryDecision(False, f"status {status_code} is not retryable")
        what = f"status {status_code}"
    else:
        what = "connection failed" if connect_failed else "connection error"
    if retries_done >= max_retries:
        return RetryDecision(False, f"{what}, no retries left ({retries_done}/{max_retries})")
    upper = method.upper()
    if connect_failed:
        why = "the request was never sent"
    elif idempotent is True or (idempotent is None and upper in IDEMPOTENT_METHODS):
        why = f"{upper} is idempotent"
    elif _header(request_headers, IDEMPOTENCY_HEADER):
        why = f"{upper} carries an Idempotency-Key"
    else:
        return RetryDecision(
            False, f"{what}, but {upper} is not idempotent and has no Idempotency-Key header"
        )
    return RetryDecision(True, f"{what}, {why} (retry {retries_done + 1}/{max_retries})")


_RANDOM = random.Random()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None and not hasattr(headers, "multi_items"):
        # A plain dict is case-sensitive; httpx.Headers is not.
        lower = name.lower()
        for key, val in headers.items():
            if key.lower() == lower:
                return val
    return value
