"""Authentication as ``httpx.Auth`` flows: basic, bearer, API key, OAuth 2.0 client credentials.

Imported only when a client sends its first request (it imports httpx). A custom strategy is
any ``httpx.Auth`` passed as ``auth=``.

OAuth (RFC 6749 §4.4, client credentials):

* the token lives in memory, optionally also on disk (``token_cache_dir``; file mode 0600,
  named and shaped like camunda-orchestration-sdk's cache so both can share a directory);
* it is renewed ``skew`` seconds before ``expires_in`` runs out (max(30 s, 5 % of the
  lifetime), at most half the lifetime);
* one token request at a time: a ``threading.Lock`` for threads, an ``asyncio.Lock`` per event
  loop for tasks, and tasks also take the thread lock (by polling, never blocking the loop)
  before fetching, so threads and tasks sharing one auth object fetch once; callers that waited
  reuse the token the first one fetched;
* a 401 from the API drops that token (only if no one replaced it yet), fetches a new one and
  sends the request once more.

Secrets never appear in ``repr``, logs or exception messages.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import re
import ssl
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
from typing_extensions import override

from .errors import APIConnectionError, APITimeoutError, status_error_class
from .retries import RETRYABLE_STATUSES, RetryPolicy, backoff_seconds, retry_delay_seconds
from .retry_loop import Failed, Retry, run_async, run_sync

__all__ = ["ApiKeyAuth", "BasicAuth", "BearerAuth", "OAuth2ClientCredentials"]

_log = logging.getLogger(__name__)

# Token requests are retried twice on transient failures, with short waits: a caller is blocked.
_TOKEN_RETRIES = 2
_TOKEN_POLICY = RetryPolicy(
    initial_delay_seconds=0.2, max_delay_seconds=2.0, max_retry_after_seconds=5.0
)


class BasicAuth(httpx.Auth):
    """HTTP basic authentication (RFC 7617)."""

    def __init__(self, username: str, password: str) -> None:
        raw = f"{username}:{password}".encode()
        self._header = "Basic " + base64.b64encode(raw).decode("ascii")
        self._username = username

    @override
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    @override
    def __repr__(self) -> str:
        return f"BasicAuth(username={self._username!r}, password='**********')"


class BearerAuth(httpx.Auth):
    """A static bearer token (RFC 6750 §2.1)."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    @override
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    @override
    def __repr__(self) -> str:
        return "BearerAuth(token='**********')"


class ApiKeyAuth(httpx.Auth):
    """An API key in a header, a query parameter or a cookie (OpenAPI ``apiKey`` scheme)."""

    def __init__(self, name: str, location: Literal["header", "query", "cookie"], key: str) -> None:
        self._name = name
        self._location = location
        self._key = key

    @override
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._location == "header":
            request.headers[self._name] = self._key
        elif self._location == "query":
            request.url = request.url.copy_merge_params({self._name: self._key})
        else:
            cookie = f"{self._name}={self._key}"
            existing = request.headers.get("Cookie")
            request.headers["Cookie"] = f"{existing}; {cookie}" if existing else cookie
        yield request

    @override
    def __repr__(self) -> str:
        return f"ApiKeyAuth(name={self._name!r}, location={self._location!r}, key='**********')"


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    refresh_at: float  # Unix time after which the token must be renewed

    def valid(self) -> bool:
        return time.time() < self.refresh_at

    @override
    def __repr__(self) -> str:
        return f"_Token(value='**********', refresh_at={self.refresh_at})"


def _token_judge(retries: int, outcome: httpx.Response | Failed) -> Retry | None:
    """Whether a token request is tried again: connection errors and 408/429/5xx, a few times."""
    if retries >= _TOKEN_RETRIES:
        return None
    if isinstance(outcome, Failed):
        return Retry(backoff_seconds(retries, _TOKEN_POLICY), "connection error")
    if outcome.status_code not in RETRYABLE_STATUSES:
        return None
    delay, reason = retry_delay_seconds(retries, outcome.headers, _TOKEN_POLICY)
    return Retry(delay, f"status {outcome.status_code}, {reason}")


def _skew_seconds(lifetime: float) -> float:
    return min(max(30.0, lifetime * 0.05), lifetime / 2.0)


def _safe_component(value: str) -> str:
    value = value.strip()
    if not value:
        return "empty"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", value)[:120]


class OAuth2ClientCredentials(httpx.Auth):
    """OAuth 2.0 client credentials with a shared token cache (threads and asyncio).

    Args:
        token_url: the token endpoint.
        client_id: the client id.
        client_secret: the client secret (sent in the form body, like camunda-orchestration-sdk).
        audience: sent as ``audience`` when set.
        scopes: sent space-separated as ``scope`` when non-empty.
        cache_dir: a directory for the disk cache, or ``None``.
        verify: what httpx's ``verify`` takes, for the token endpoint.
        proxy: a proxy URL, for the token endpoint.
        timeout_seconds: the token request's timeout.
        logger: where token events are logged (never the token or secret).
    """

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        audience: str | None = None,
        scopes: tuple[str, ...] = (),
        cache_dir: str | Path | None = None,
        verify: ssl.SSLContext | bool = True,
        proxy: str | None = None,
        timeout_seconds: float = 30.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._audience = audience
        self._scopes = scopes
        self._cache_dir = Path(cache_dir).expanduser() if cache_dir else None
        self._verify = verify
        self._proxy = proxy
        self._timeout = timeout_seconds
        self._log = logger or _log
        self._token: _Token | None = None
        self._lock = threading.Lock()
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._async_locks_guard = threading.Lock()
        self._sync_client: httpx.Client | None = None
        self.token_requests = 0
        """How many token requests this instance made (for diagnostics and tests)."""

    @override
    def __repr__(self) -> str:
        return (
            f"OAuth2ClientCredentials(token_url={self._token_url!r}, "
            f"client_id={self._client_id!r}, client_secret='**********')"
        )

    # -- flows -------------------------------------------------------------------------------

    @override
    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._sync_token(None)
        request.headers["Authorization"] = f"Bearer {token.value}"
        response = yield request
        if response.status_code == 401:
            self._log.debug("401 from %s: renewing the OAuth token once", request.url.path)
            response.read()
            token = self._sync_token(token)
            request.headers["Authorization"] = f"Bearer {token.value}"
            yield request

    @override
    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._async_token(None)
        request.headers["Authorization"] = f"Bearer {token.value}"
        response = yield request
        if response.status_code == 401:
            self._log.debug("401 from %s: renewing the OAuth token once", request.url.path)
            await response.aread()
            token = await self._async_token(token)
            request.headers["Authorization"] = f"Bearer {token.value}"
            yield request

    # -- token cache -------------------------------------------------------------------------

    def _usable(self, rejected: _Token | None) -> _Token | None:
        """The cached token, unless it expired or is the one the server just rejected."""
        token = self._token
        if token is not None and token.valid() and token is not rejected:
            return token
        if rejected is not None and token is rejected:
            self._token = None
            self._drop_disk(rejected)
        return None

    def _sync_token(self, rejected: _Token | None) -> _Token:
        token = self._token
        if rejected is None and token is not None and token.valid():
            return token
        with self._lock:
            token = self._usable(rejected) or self._load_disk(rejected)
            if token is None:
                token = self._parse_token(self._fetch_sync_with_retries())
                self._save_disk(token)
            self._token = token
            return token

    async def _async_token(self, rejected: _Token | None) -> _Token:
        token = self._token
        if rejected is None and token is not None and token.valid():
            return token
        loop = asyncio.get_running_loop()
        with self._async_locks_guard:
            lock = self._async_locks.get(loop)
            if lock is None:
                lock = self._async_locks[loop] = asyncio.Lock()
        async with lock:
            token = self._usable(rejected) or self._load_disk(rejected)
            if token is not None:
                self._token = token
                return token
            # Also exclude threads (and other event loops) sharing this auth object. Polling
            # with try-acquire never blocks the loop and is safe under cancellation; it only
            # happens when a token must be fetched.
            while not self._lock.acquire(blocking=False):
                await asyncio.sleep(0.005)
            try:
                token = self._usable(rejected) or self._load_disk(rejected)
                if token is None:
                    token = self._parse_token(await self._fetch_async_with_retries())
                    self._save_disk(token)
                self._token = token
                return token
            finally:
                self._lock.release()

    def _form(self) -> dict[str, str]:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        if self._audience:
            form["audience"] = self._audience
        if self._scopes:
            form["scope"] = " ".join(self._scopes)
        return form

    def _fetch_sync_with_retries(self) -> httpx.Response:
        """The token request, retried like API calls on 408/429/5xx and connection errors."""

        def attempt() -> httpx.Response | Failed:
            try:
                return self._fetch_sync()
            except APIConnectionError as exc:
                return Failed(exc)

        return run_sync(attempt, _token_judge, self._log_token_retry)

    async def _fetch_async_with_retries(self) -> httpx.Response:
        """The token request (async), retried like ``_fetch_sync_with_retries``."""

        async def attempt() -> httpx.Response | Failed:
            try:
                return await self._fetch_async()
            except APIConnectionError as exc:
                return Failed(exc)

        return await run_async(attempt, _token_judge, self._log_token_retry)

    def _log_token_retry(self, step: Retry) -> None:
        self._log.debug(
            "OAuth token request failed (%s); retrying in %.2f s", step.reason, step.delay_seconds
        )

    def _fetch_sync(self) -> httpx.Response:
        self.token_requests += 1
        self._log.debug("requesting an OAuth token from %s", self._token_url)
        if self._sync_client is None:
            self._sync_client = httpx.Client(
                verify=self._verify, proxy=self._proxy, timeout=self._timeout
            )
        request = self._sync_client.build_request("POST", self._token_url, data=self._form())
        try:
            return self._sync_client.send(request)
        except httpx.TimeoutException:
            raise APITimeoutError(request=request) from None
        except httpx.TransportError as exc:
            raise APIConnectionError(
                request=request, message=f"OAuth token request failed: {type(exc).__name__}"
            ) from None

    async def _fetch_async(self) -> httpx.Response:
        self.token_requests += 1
        self._log.debug("requesting an OAuth token from %s", self._token_url)
        # A fresh client per fetch: an AsyncClient's connections belong to one event loop.
        async with httpx.AsyncClient(
            verify=self._verify, proxy=self._proxy, timeout=self._timeout
        ) as client:
            request = client.build_request("POST", self._token_url, data=self._form())
            try:
                response = await client.send(request)
                await response.aread()
                return response
            except httpx.TimeoutException:
                raise APITimeoutError(request=request) from None
            except httpx.TransportError as exc:
                raise APIConnectionError(
                    request=request, message=f"OAuth token request failed: {type(exc).__name__}"
                ) from None

    def _parse_token(self, response: httpx.Response) -> _Token:
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        if response.status_code != 200 or not isinstance(payload, dict):
            # RFC 6749 §5.2 error codes are safe to show; the body may echo nothing secret.
            fields: dict[str, Any] = payload if isinstance(payload, dict) else {}  # pyright: ignore[reportUnknownVariableType]
            code = fields.get("error")
            detail = f" ({code})" if isinstance(code, str) else ""
            cls = status_error_class(response.status_code)
            raise cls(
                f"OAuth token request to {self._token_url} failed with status "
                f"{response.status_code}{detail}; check the client id, secret and token URL",
                response=response,
                body={"error": code} if isinstance(code, str) else None,
                operation_id="oauth-token",
            )
        data: dict[str, Any] = payload  # pyright: ignore[reportUnknownVariableType]
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            cls = status_error_class(502)
            raise cls(
                f"OAuth token response from {self._token_url} has no access_token",
                response=response,
                operation_id="oauth-token",
            )
        try:
            lifetime = float(data.get("expires_in") or 3600.0)
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._log.debug("OAuth token received, valid for %.0f s", lifetime)
        return _Token(access, time.time() + max(0.0, lifetime - _skew_seconds(lifetime)))

    # -- disk cache --------------------------------------------------------------------------

    def _cache_file(self) -> Path | None:
        if self._cache_dir is None:
            return None
        host = httpx.URL(self._token_url).host or "unknown"
        name = (
            f"oauth-token-{_safe_component(self._client_id)}-"
            f"{_safe_component(self._audience or '')}-{_safe_component(host)}.json"
        )
        return self._cache_dir / name

    def _load_disk(self, rejected: _Token | None) -> _Token | None:
        file = self._cache_file()
        if file is None:
            return None
        try:
            payload = json.loads(file.read_text(encoding="utf-8"))
            token = _Token(str(payload["access_token"]), float(payload["expires_at_epoch_s"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not token.valid() or (rejected is not None and token.value == rejected.value):
            return None
        self._log.debug("OAuth token loaded from the disk cache")
        return token

    def _save_disk(self, token: _Token) -> None:
        file = self._cache_file()
        if file is None:
            return
        payload = {
            "access_token": token.value,
            "expires_at_epoch_s": token.refresh_at,
            "client_id": self._client_id,
            "audience": self._audience or "",
            "oauth_url": self._token_url,
        }
        try:
            file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            tmp = file.with_name(f".{file.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, indent=2, sort_keys=True)
            os.chmod(tmp, 0o600)
            os.replace(tmp, file)
        except OSError as exc:
            self._log.warning("cannot write the OAuth token cache in %s: %s", file.parent, exc)

    def _drop_disk(self, token: _Token) -> None:
        file = self._cache_file()
        if file is None:
            return
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            payload = json.loads(file.read_text(encoding="utf-8"))
            if payload.get("access_token") == token.value:
                file.unlink()

    def close(self) -> None:
        """Close the connection pool used for token requests."""
        if self._sync_client is not None:
            self._sync_client.close()
            self._sync_client = None
