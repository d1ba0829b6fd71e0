"""Request bodies decoded with bounds: size, depth, YAML aliases, storable text.

Every route of the API uses :class:`BoundedRoute`, whose requests decode JSON with
:func:`decode_json` (FastAPI calls ``request.json()`` for the body models). Definitions sent as
YAML go through :func:`decode_yaml`, which runs in a worker thread and refuses an alias bomb or
a deep document from libyaml's event stream before anything is built, so that neither a slow
parse nor a huge expansion can hold up the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from loom.engine.documents import load_json, load_yaml
from loom.engine.limits import BoundError
from loom.engine.services.errors import Issue

__all__ = ["BodyRejectedError", "BoundedRequest", "BoundedRoute", "decode_json", "decode_yaml"]

# Bodies above this size are decoded in a worker thread (the hot path's bodies are far below).
_THREAD_BYTES = 64 * 1024


class BodyRejectedError(HTTPException):
    """A body that cannot be decoded within the bounds (a ``422`` with the problem's pointer).

    An ``HTTPException`` so that FastAPI's body reading lets it through as it is (it turns any
    other exception into a bare 400).
    """

    def __init__(self, detail: str, issue: Issue, *, status: int = 422) -> None:
        super().__init__(status_code=status, detail=detail)
        self.title = "Invalid input"
        self.issues = [issue]


def _rejected(exc: BoundError, prefix: str = "") -> BodyRejectedError:
    return BodyRejectedError(
        f"the body cannot be accepted: {exc.message}",
        Issue(prefix + exc.pointer, exc.message, exc.code),
    )


async def decode_json(body: bytes) -> object:
    """Decode a JSON body within the bounds of :mod:`loom.engine.limits`.

    Raises:
        BodyRejectedError: invalid JSON, too deep, non-finite numbers, unstorable text.
    """
    try:
        if len(body) > _THREAD_BYTES:
            return await asyncio.to_thread(load_json, body)
        return load_json(body)
    except BoundError as exc:
        raise _rejected(exc) from None


async def decode_yaml(body: bytes) -> object:
    """Decode a YAML (or JSON) body in a worker thread, within the bounds.

    Raises:
        BodyRejectedError: invalid YAML, too deep, an alias bomb, values that are not JSON.
    """
    try:
        return await asyncio.to_thread(load_yaml, body)
    except BoundError as exc:
        raise _rejected(exc) from None


class BoundedRequest(Request):
    """A request whose ``json()`` is :func:`decode_json`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = await decode_json(await self.body())
        return self._json


class BoundedRoute(APIRoute):
    """A route whose requests decode their JSON bodies within the bounds."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            return await handler(BoundedRequest(request.scope, request.receive))

        return bounded
