"""Auth by a token obtained from the API itself: POST an id and a secret, send the token back.

Some APIs issue their own tokens instead of using OAuth. Conductor (Orkes) is one:
``POST {server}/token`` with ``{"keyId": ..., "keySecret": ...}`` answers ``{"token": ...}``,
which every request then carries in ``X-Authorization`` (as conductor-python does). What the
request and the answer look like is ``TokenExchange`` (from the SDK's ``SdkInfo``, set by the
generator configuration's ``[runtime.token_exchange]``), so the same class serves other APIs.

* The token is fetched on the first request and reused by every request after it (threads and
  asyncio tasks share it; one fetch at a time, as for OAuth in ``auth.py``).
* A 401 from the API drops that token (unless someone already replaced it), fetches a new one
  and sends the request once more; ``lifetime_seconds`` also renews it before it expires.
* The secret and the token never appear in ``repr``, logs or error messages.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Generator
from typing import Any

import httpx
from typing_extensions import override

from .errors import APIConnectionError, APITimeoutError, status_error_class
from .operation import TokenExchange

__all__ = ["TokenExchangeAuth"]

_log = logging.getLogger(__name__)


class _Token:
    __slots__ = ("expires_at", "value")

    def __init__(self, value: str, expires_at: float) -> None:
        self.value = value
        self.expires_at = expires_at

    def valid(self) -> bool:
        return time.monotonic() < self.expires_at

    @override
    def __repr__(self) -> str:
        return "_Token(value='**********')"


class TokenExchangeAuth(httpx.Auth):
    """Exchange an id and a secret for a token at ``token_url``; send it in a header.

    Args:
        token_url: where to POST the id and the secret.
        key_id: the id (Conductor: ``CONDUCTOR_AUTH_KEY``).
        key_secret: the secret (Conductor: ``CONDUCTOR_AUTH_SECRET``).
        spec: field names, header and lifetime.
        verify: what httpx's ``verify`` takes, for the token request.
        proxy: a proxy URL, for the token request.
        timeout_seconds: the token request's timeout.
        logger: where token events are logged (never the token or the secret).
    """

    def __init__(
        self,
        *,
        token_url: str,
        key_id: str,
        key_secret: str,
        spec: TokenExchange,
        verify: ssl.SSLContext | bool = True,
        proxy: str | None = None,
        timeout_seconds: float = 30.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self._token_url = token_url
        self._payload = {spec.id_field: key_id, spec.secret_field: key_secret}
        self._spec = spec
        self._client_options: dict[str, Any] = {
            "verify": verify,
            "proxy": proxy,
            "timeout": timeout_seconds,
        }
        self._log = logger or _log
        self._token: _Token | None = None
        self._lock = threading.Lock()
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self.token_requests = 0
        """How many token requests this instance made (for diagnostics and tests)."""

    @override
    def __repr__(self) -> str:
        key = self._payload[self._spec.id_field]
        return f"TokenExchangeAuth(token_url={self._token_url!r}, key_id={key!r}, secret='***')"

    def _apply(self, request: httpx.Request, token: _Token) -> None:
        request.headers[self._spec.header] = self._spec.prefix + token.value

    @override
    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._sync_token(None)
        self._apply(request, token)
        response = yield request
        if response.status_code == 401:
            self._log.debug("401 from %s: exchanging for a new token once", request.url.path)
            response.read()
            self._apply(request, self._sync_token(token))
            yield request

    @override
    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._async_token(None)
        self._apply(request, token)
        response = yield request
        if response.status_code == 401:
            self._log.debug("401 from %s: exchanging for a new token once", request.url.path)
            await response.aread()
            self._apply(request, await self._async_token(token))
            yield request

    def _usable(self, rejected: _Token | None) -> _Token | None:
        token = self._token
        if token is not None and token.valid() and token is not rejected:
            return token
        return None

    def _sync_token(self, rejected: _Token | None) -> _Token:
        token = self._usable(rejected)
        if token is not None:
            return token
        with self._lock:
            token = self._usable(rejected)  # another thread may have fetched it meanwhile
            if token is None:
                with httpx.Client(**self._client_options) as client:
                    token = self._parse(self._send(client))
                self._token = token
            return token

    async def _async_token(self, rejected: _Token | None) -> _Token:
        token = self._usable(rejected)
        if token is not None:
            return token
        loop = asyncio.get_running_loop()
        with self._lock:
            lock = self._async_locks.get(loop)
            if lock is None:
                lock = self._async_locks[loop] = asyncio.Lock()
        async with lock:
            token = self._usable(rejected)
            if token is None:
                async with httpx.AsyncClient(**self._client_options) as client:
                    token = self._parse(await self._send_async(client))
                self._token = token
            return token

    def _request(self, client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        self.token_requests += 1
        self._log.debug("exchanging the key for a token at %s", self._token_url)
        return client.build_request("POST", self._token_url, json=self._payload)

    def _send(self, client: httpx.Client) -> httpx.Response:
        request = self._request(client)
        try:
            return client.send(request)
        except httpx.TimeoutException:
            raise APITimeoutError(request=request) from None
        except httpx.TransportError as exc:
            raise _connection_error(request, exc) from None

    async def _send_async(self, client: httpx.AsyncClient) -> httpx.Response:
        request = self._request(client)
        try:
            response = await client.send(request)
            await response.aread()
            return response
        except httpx.TimeoutException:
            raise APITimeoutError(request=request) from None
        except httpx.TransportError as exc:
            raise _connection_error(request, exc) from None

    def _parse(self, response: httpx.Response) -> _Token:
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        value = payload.get(self._spec.token_field) if isinstance(payload, dict) else None  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        if response.status_code >= 300 or not isinstance(value, str) or not value:
            status = response.status_code if response.status_code >= 300 else 502
            raise status_error_class(status)(
                f"the token request to {self._token_url} failed (status "
                f"{response.status_code}, no `{self._spec.token_field}` in the answer); check "
                "the key id, the secret and the server URL",
                response=response,
                operation_id="token-exchange",
            )
        lifetime = self._spec.lifetime_seconds
        expires = time.monotonic() + lifetime if lifetime is not None else float("inf")
        self._log.debug("token received")
        return _Token(value, expires)


def _connection_error(request: httpx.Request, exc: Exception) -> APIConnectionError:
    return APIConnectionError(
        request=request, message=f"token request failed: {type(exc).__name__}"
    )
