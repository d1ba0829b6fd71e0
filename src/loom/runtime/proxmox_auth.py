"""Proxmox VE authentication: API tokens, tickets with CSRF tokens, and certificate pinning.

- API token: ``Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET`` on every request.
- Ticket: ``POST /access/ticket`` with user and password (and a TOTP code when the account has
  two factors); the ticket goes in the ``PVEAuthCookie`` cookie, and its
  ``CSRFPreventionToken`` header on writes only (PVE checks it on POST, PUT and DELETE). A
  ticket lives two hours; it is renewed (the old ticket as the password, so no second factor is
  needed) once it is older than ``renew_after_seconds``, by one request however many calls
  wait for it, and a 401 logs in again once.
- Pinning: with ``fingerprint`` (the SHA-256 of the server's certificate, as the PVE GUI shows
  it), the certificate is checked before the first request and on every response, and CA
  verification is off (Proxmox's certificates are self-signed).

This module imports httpx; the client imports it on the first request.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import ssl
import threading
import time
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import httpx

from .errors import APIConnectionError, AuthenticationError, ConfigurationError

__all__ = ["ProxmoxAuth", "ProxmoxCredentials", "check_fingerprint", "normalize_fingerprint"]

_WRITES = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_TICKET_PATH = "/access/ticket"


def normalize_fingerprint(text: str) -> str:
    """``AB:CD:…`` or ``abcd…`` as lower-case hex without separators."""
    return text.replace(":", "").replace(" ", "").strip().lower()


def _peer_fingerprint(response: httpx.Response) -> str | None:
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None:
        return None
    der = cast(bytes | None, ssl_object.getpeercert(True))  # the low-level object: positional only
    return hashlib.sha256(der).hexdigest() if der else None


def check_fingerprint(url: str, expected: str, *, timeout_seconds: float = 10.0) -> None:
    """Connect to ``url``'s host and compare its certificate's SHA-256 with ``expected``.

    Raises:
        APIConnectionError: the certificate differs, or the server cannot be reached.
    """
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = parts.port or 443
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the pin is the check
    request = httpx.Request("GET", url)
    try:
        with (
            socket.create_connection((host, port), timeout=timeout_seconds) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True) or b""
    except OSError as exc:
        raise APIConnectionError(
            request=request, message=f"cannot reach {host}:{port} to check its certificate: {exc}"
        ) from None
    if hashlib.sha256(der).hexdigest() != normalize_fingerprint(expected):
        raise APIConnectionError(
            request=request,
            message=f"the certificate of {host}:{port} does not match the pinned fingerprint",
        )


@dataclass(frozen=True)
class ProxmoxCredentials:
    """What ``ProxmoxAuth`` logs in with (secrets never appear in a repr)."""

    base_url: str
    user: str | None = None
    password: str | None = None
    otp: str | None = None
    token_id: str | None = None
    token_secret: str | None = None
    fingerprint: str | None = None
    renew_after_seconds: float = 3600.0

    def __repr__(self) -> str:
        return f"ProxmoxCredentials(user={self.user!r}, token_id={self.token_id!r}, secrets=***)"


class ProxmoxAuth(httpx.Auth):
    """Token or ticket authentication of one client (shared by its ``with_options`` copies)."""

    def __init__(self, credentials: ProxmoxCredentials) -> None:
        self._c = credentials
        self._lock = threading.Lock()
        self._async_lock: asyncio.Lock | None = None
        self._ticket: str | None = None
        self._csrf: str | None = None
        self._obtained = 0.0
        self._pinned = False
        self.logins = 0
        """How many times a ticket was requested (first login, renewals, re-logins)."""

    # -- the flows ----------------------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        if self._c.fingerprint and not self._pinned:
            check_fingerprint(self._c.base_url, self._c.fingerprint)
            self._pinned = True
        if self._c.token_id:
            response = yield self._with_token(request)
            self._check_peer(response)
            return
        if self._needs_login():
            with self._lock:  # one login, however many threads need it
                if self._needs_login():
                    yield from self._login_sync()
        response = yield self._with_ticket(request)
        self._check_peer(response)
        if response.status_code == 401:
            stale = self._ticket
            with self._lock:
                if self._ticket == stale:
                    self._ticket = None
                    yield from self._login_sync()
            response.read()
            yield self._with_ticket(request)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._c.fingerprint and not self._pinned:
            await asyncio.to_thread(check_fingerprint, self._c.base_url, self._c.fingerprint)
            self._pinned = True
        if self._c.token_id:
            response = yield self._with_token(request)
            self._check_peer(response)
            return
        lock = self._async_lock or asyncio.Lock()
        self._async_lock = lock
        if self._needs_login():
            async with lock:
                if self._needs_login():
                    steps = self._login_steps(renew=self._ticket is not None)
                    login: httpx.Request | None = next(steps)
                    while login is not None:
                        response = yield login
                        await response.aread()
                        login = self._advance(steps, response)
        response = yield self._with_ticket(request)
        self._check_peer(response)
        if response.status_code == 401:
            stale = self._ticket
            async with lock:
                if self._ticket == stale:
                    self._ticket = None
                    steps = self._login_steps(renew=False)
                    login = next(steps)
                    while login is not None:
                        retry = yield login
                        await retry.aread()
                        login = self._advance(steps, retry)
            await response.aread()
            yield self._with_ticket(request)

    # -- pieces -------------------------------------------------------------------------------

    def _needs_login(self) -> bool:
        if self._ticket is None:
            return True
        return time.monotonic() - self._obtained >= self._c.renew_after_seconds

    def _with_token(self, request: httpx.Request) -> httpx.Request:
        request.headers["Authorization"] = f"PVEAPIToken={self._c.token_id}={self._c.token_secret}"
        return request

    def _with_ticket(self, request: httpx.Request) -> httpx.Request:
        assert self._ticket is not None
        cookie = f"PVEAuthCookie={self._ticket}"
        request.headers["Cookie"] = cookie
        if request.method in _WRITES and self._csrf:
            request.headers["CSRFPreventionToken"] = self._csrf
        elif "CSRFPreventionToken" in request.headers:
            del request.headers["CSRFPreventionToken"]
        return request

    def _login_request(self, *, renew: bool, challenge: str | None = None) -> httpx.Request:
        if self._c.user is None:
            raise ConfigurationError("a ticket login needs a user", variables=("user",))
        data = {"username": self._c.user}
        if challenge is not None:
            data["tfa-challenge"] = challenge
            data["password"] = f"totp:{self._c.otp}"
        elif renew and self._ticket is not None:
            data["password"] = self._ticket  # PVE renews a valid ticket given as the password
        else:
            data["password"] = self._c.password or ""
        return httpx.Request(
            "POST",
            self._c.base_url.rstrip("/") + _TICKET_PATH,
            data=data,
            headers={"Accept": "application/json"},
        )

    def _login_steps(
        self, *, renew: bool
    ) -> Generator[httpx.Request, httpx.Response, dict[str, Any]]:
        """The sans-IO login: yields each request, is sent its read response, returns the data.

        Shared by the sync and async flows; a TOTP account gets a second step with the
        challenge ticket and ``totp:<code>``, tried once.
        """
        login = self._login_request(renew=renew and self._ticket is not None)
        data = self._login_data(login, (yield login))
        if data.get("NeedTFA") and self._c.otp:
            second = self._login_request(renew=False, challenge=str(data.get("ticket")))
            data = self._login_data(second, (yield second))
        return data

    def _advance(
        self,
        steps: Generator[httpx.Request, httpx.Response, dict[str, Any]],
        response: httpx.Response,
    ) -> httpx.Request | None:
        """Send ``response`` to ``steps``: the next request, or None once the ticket is taken."""
        try:
            return steps.send(response)
        except StopIteration as done:
            self._take(done.value)
            return None

    def _login_sync(self) -> Generator[httpx.Request, httpx.Response]:
        steps = self._login_steps(renew=self._ticket is not None)
        login: httpx.Request | None = next(steps)
        while login is not None:
            response = yield login
            response.read()
            login = self._advance(steps, response)

    def _login_data(self, login: httpx.Request, response: httpx.Response) -> dict[str, Any]:
        self.logins += 1
        self._check_peer(response)
        try:
            body: object = json.loads(response.content)
        except ValueError:
            body = None
        payload = body  # as parsed, for the error
        data: object = cast("dict[str, Any]", body).get("data") if isinstance(body, dict) else None
        if response.status_code >= 400 or not isinstance(data, dict):
            data = None
        if data is None or "ticket" not in cast("dict[str, Any]", data):
            self._ticket = None
            raise AuthenticationError(
                response=response, body=payload, operation_id="post_access_ticket"
            )
        del login
        return cast(dict[str, Any], data)

    def _take(self, data: dict[str, Any]) -> None:
        self._ticket = str(data["ticket"])
        csrf = data.get("CSRFPreventionToken")
        self._csrf = str(csrf) if csrf else None
        self._obtained = time.monotonic()

    def _check_peer(self, response: httpx.Response) -> None:
        if not self._c.fingerprint:
            return
        seen = _peer_fingerprint(response)
        if seen is not None and seen != normalize_fingerprint(self._c.fingerprint):
            raise APIConnectionError(
                request=response.request,
                message="the server's certificate changed: it no longer matches the pinned "
                "fingerprint",
            )

    def __repr__(self) -> str:
        return f"ProxmoxAuth({self._c!r})"
