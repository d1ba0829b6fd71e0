"""RFC 9457 problem+json answers for every error, including FastAPI's own 404/405/422."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from loom.engine.api.bodies import BodyRejectedError
from loom.engine.api.schemas import Problem, ProblemError
from loom.engine.db.storable import storable_json
from loom.engine.db.store import DISCONNECT_ERRORS, is_unavailable
from loom.engine.pointers import join_pointer
from loom.engine.services.errors import Issue, ServiceError

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
NOT_MIGRATED = (
    "the database schema is not at the current migration; run `loom db upgrade` "
    "(or start the engine with LOOM_AUTO_MIGRATE=1)"
)


class ProblemResponse(JSONResponse):
    """A JSON response with the problem media type."""

    media_type = PROBLEM_MEDIA_TYPE


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    errors: list[Issue] | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
) -> ProblemResponse:
    """Build a problem+json response."""
    body = Problem(
        title=title,
        status=status,
        detail=detail,
        instance=instance,
        errors=[ProblemError(pointer=i.pointer, message=i.message, code=i.code) for i in errors]
        if errors is not None
        else None,
    )
    # A pointer or message may quote what the client sent (a key holding a lone surrogate):
    # made encodable so that the answer to bad input is never a 500 itself.
    content = storable_json(body.model_dump(exclude_none=True))
    return ProblemResponse(content, status_code=status, headers=headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem+json answers."""
    titles = {
        400: "Bad request",
        404: "Not found",
        409: "Conflict",
        412: "Precondition failed",
        413: "Request body too large",
        415: "Unsupported media type",
        422: "Invalid input",
        503: "Unavailable",
    }
    return {
        status: {
            "description": titles.get(status, "Problem"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def _pointer(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        source = parts.pop(0)
        prefix = "" if source == "body" else f"/{source}"
    else:
        prefix = ""
    return prefix + join_pointer(parts)


def _is_unmigrated(exc: BaseException) -> bool:
    """A statement failed because a table or column of the schema is missing."""
    if not isinstance(exc, DBAPIError):
        return False
    text = f"{type(exc.orig).__name__} {exc.orig}"
    return any(
        marker in text
        for marker in ("UndefinedTable", "UndefinedColumn", "no such table", "no such column")
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Register handlers so that no error leaves the API as anything but problem+json."""

    async def on_service_error(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, ServiceError)
        return problem(
            exc.status,
            exc.title,
            exc.detail,
            errors=exc.issues or None,
            instance=request.url.path,
        )

    async def on_validation(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, RequestValidationError)
        issues = [
            Issue(
                _pointer(err.get("loc", ())),
                str(err.get("msg", "invalid")),
                str(err.get("type", "invalid")),
            )
            for err in exc.errors()
        ]
        return problem(
            422,
            "Invalid input",
            f"the request has {len(issues)} problem(s)",
            errors=issues,
            instance=request.url.path,
        )

    async def on_http(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc, BodyRejectedError):
            return problem(
                exc.status_code,
                exc.title,
                exc.detail,
                errors=exc.issues,
                instance=request.url.path,
            )
        title = {
            404: "Not found",
            405: "Method not allowed",
            413: "Request body too large",
        }.get(exc.status_code, "Error")
        detail: str | None = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        return problem(
            exc.status_code,
            title,
            detail,
            instance=request.url.path,
            headers=dict(exc.headers) if exc.headers else None,
        )

    async def on_unexpected(request: Request, exc: Exception) -> ProblemResponse:
        if _is_unmigrated(exc):
            logger.warning("%s %s: %s", request.method, request.url.path, NOT_MIGRATED)
            return problem(
                503,
                "Unavailable",
                NOT_MIGRATED,
                instance=request.url.path,
                headers={"Retry-After": "5"},
            )
        if is_unavailable(exc):
            logger.warning(
                "%s %s: the database is unavailable (%s: %s)",
                request.method,
                request.url.path,
                type(exc).__name__,
                exc,
            )
            return problem(
                503,
                "Unavailable",
                "the database cannot be reached right now; retry shortly",
                instance=request.url.path,
                headers={"Retry-After": "1"},
            )
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem(
            500, "Internal error", "the engine failed; see its logs", instance=request.url.path
        )

    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    # The errors of a lost database connection are answered before Starlette's last-resort
    # handler (which answers and then re-raises them into the server's log as a crash).
    for unavailable in (*DISCONNECT_ERRORS, DBAPIError, PoolTimeoutError):
        app.add_exception_handler(unavailable, on_unexpected)
    app.add_exception_handler(Exception, on_unexpected)
