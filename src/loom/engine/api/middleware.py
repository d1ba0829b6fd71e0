"""The engine's ASGI middleware: correlation ids and access log lines, ``OPTIONS``, the body
size bound, and the 503 of an unmigrated database.

Each is an :class:`HttpMiddleware`: plain ASGI (no ``BaseHTTPMiddleware`` task per request),
passing everything but HTTP requests through untouched.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from fastapi import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loom.engine.api.bodies import BodyRejectedError
from loom.engine.api.problems import NOT_MIGRATED, problem
from loom.engine.limits import MAX_BODY_BYTES
from loom.engine.logging import correlation_id
from loom.engine.services.errors import Issue

__all__ = [
    "BodyLimitMiddleware",
    "CorrelationMiddleware",
    "Gate",
    "HttpMiddleware",
    "OptionsMiddleware",
    "SchemaGateMiddleware",
]


class HttpMiddleware:
    """Base of the middleware here: :meth:`http` sees HTTP requests, the rest passes by."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request (the default passes it on)."""
        await self.app(scope, receive, send)


class Gate(Protocol):
    """Whether the database schema is current (see ``loom.engine.app.SchemaGate``)."""

    @property
    def ready(self) -> bool:
        """Known to be current (no database round trip)."""
        ...

    async def is_current(self) -> bool:
        """Current now (may look at the database)."""
        ...


CORRELATION_HEADER = b"x-correlation-id"


class CorrelationMiddleware(HttpMiddleware):
    """Give every request a correlation id (``X-Correlation-ID`` or a new one), echo it, and
    write one access log line per request (``loom.engine.access``) carrying it.

    A given id is kept only when it is 1-64 characters of ``[A-Za-z0-9._:-]`` (it is stored
    with executions and written to logs); anything else gets a new id. The id stays set when
    the application raises, so the error handler's log line carries it too.
    """

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = next(
            (v.decode("latin-1") for k, v in scope.get("headers", []) if k == CORRELATION_HEADER),
            None,
        )
        cid = given if given and _CORRELATION_ID.fullmatch(given) else uuid.uuid4().hex
        token = correlation_id.set(cid)
        started = time.perf_counter()
        status = 500

        async def send_with_header(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((CORRELATION_HEADER, cid.encode("ascii")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_header)
        access_logger.info(
            "%s %s %d %.1f ms",
            scope["method"],
            scope["path"],
            status,
            (time.perf_counter() - started) * 1000,
            extra={"method": scope["method"], "path": scope["path"], "status": status},
        )
        correlation_id.reset(token)


_CORRELATION_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
access_logger = logging.getLogger("loom.engine.access")


class OptionsMiddleware(HttpMiddleware):
    """Answer ``OPTIONS`` with ``204`` and the ``Allow`` header of the path (RFC 9110 9.3.7).

    The methods come from the OpenAPI document, so what ``Allow`` says is what is documented.
    """

    def __init__(self, app: ASGIApp, openapi: Callable[[], dict[str, Any]]) -> None:
        super().__init__(app)
        self.openapi = openapi
        self._paths: list[tuple[re.Pattern[str], str]] | None = None

    def _allowed(self, path: str) -> str | None:
        if self._paths is None:
            self._paths = [
                (
                    re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"),
                    ", ".join(sorted({m.upper() for m in item} | {"OPTIONS"})),
                )
                for template, item in self.openapi().get("paths", {}).items()
            ]
        return next((allow for pattern, allow in self._paths if pattern.match(path)), None)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        allow = self._allowed(scope["path"])
        if allow is None:
            await self.app(scope, receive, send)  # 404 or 405 problem, with Allow
            return
        await Response(status_code=204, headers={"Allow": allow})(scope, receive, send)


class BodyLimitMiddleware(HttpMiddleware):
    """Refuse bodies over :data:`~loom.engine.limits.MAX_BODY_BYTES` with a 413 problem.

    A declared ``Content-Length`` over the bound is answered before the body is read; a body
    that grows past it while streaming stops being read there.
    """

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            response = problem(413, "Request body too large", _TOO_LARGE, instance=scope["path"])
            await response(scope, receive, send)
            return
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    raise BodyRejectedError(
                        _TOO_LARGE, Issue("", _TOO_LARGE, "too_large"), status=413
                    )
            return message

        await self.app(scope, bounded_receive, send)


_TOO_LARGE = f"a request body is at most {MAX_BODY_BYTES} bytes"


class SchemaGateMiddleware(HttpMiddleware):
    """Answer ``/v1`` requests with a 503 problem while the schema is not current."""

    def __init__(self, app: ASGIApp, gate: Gate) -> None:
        super().__init__(app)
        self.gate = gate

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            not self.gate.ready
            and str(scope["path"]).startswith("/v1/")
            and not await self.gate.is_current()
        ):
            response = problem(
                503,
                "Unavailable",
                NOT_MIGRATED,
                instance=scope["path"],
                headers={"Retry-After": "5"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
