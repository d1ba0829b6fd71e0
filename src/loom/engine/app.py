"""The ASGI application: ``create_app()`` wires settings, database, actions and scheduler."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loom import __version__
from loom.engine.actions.base import ActionRegistry
from loom.engine.api import executions, pipelines, system
from loom.engine.api.bodies import BodyRejectedError
from loom.engine.api.deps import EngineRuntime
from loom.engine.api.problems import NOT_MIGRATED, install_problem_handlers, problem
from loom.engine.api.schemas import Problem
from loom.engine.db.notify import Listener
from loom.engine.db.session import (
    HEAD_REVISION,
    create_engine,
    create_read_engine,
    current_revision,
    ensure_migrated,
)
from loom.engine.db.store import Database
from loom.engine.definitions import PipelineDefinition
from loom.engine.limits import MAX_BODY_BYTES
from loom.engine.logging import correlation_id
from loom.engine.scheduler.engine import Scheduler
from loom.engine.services.errors import Issue
from loom.engine.settings import EngineSettings

logger = logging.getLogger(__name__)

CORRELATION_HEADER = b"x-correlation-id"


class CorrelationMiddleware:
    """Give every request a correlation id (``X-Correlation-ID`` or a new one), echo it, and
    write one access log line per request (``loom.engine.access``) carrying it.

    A given id is kept only when it is 1-64 characters of ``[A-Za-z0-9._:-]`` (it is stored
    with executions and written to logs); anything else gets a new id. The id stays set when
    the application raises, so the error handler's log line carries it too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
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


class OptionsMiddleware:
    """Answer ``OPTIONS`` with ``204`` and the ``Allow`` header of the path (RFC 9110 9.3.7).

    The methods come from the OpenAPI document, so what ``Allow`` says is what is documented.
    """

    def __init__(self, app: ASGIApp, openapi: Callable[[], dict[str, Any]]) -> None:
        self.app = app
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        allow = self._allowed(scope["path"])
        if allow is None:
            await self.app(scope, receive, send)  # 404 or 405 problem, with Allow
            return
        await Response(status_code=204, headers={"Allow": allow})(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse bodies over :data:`~loom.engine.limits.MAX_BODY_BYTES` with a 413 problem.

    A declared ``Content-Length`` over the bound is answered before the body is read; a body
    that grows past it while streaming stops being read there.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
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


async def start_runtime(runtime: EngineRuntime) -> None:
    """Open the database, migrate it if configured, start the scheduler.

    An unmigrated database (without ``auto_migrate``) leaves the engine up but not ready: the
    API answers 503 until ``loom db upgrade`` has run (see :class:`SchemaGate`).
    """
    started = time.perf_counter()
    settings = runtime.settings
    runtime.db = create_engine(settings.database_url)
    runtime.read_db = create_read_engine(settings.database_url, runtime.db)
    runtime.database = Database(runtime.db, runtime.read_db)
    if not settings.is_sqlite:
        # Created before the pool's first connection: it tells its own wake-ups by their
        # server process ids, which it collects as the pool connects.
        runtime.listener = Listener(runtime.db, runtime.on_message, runtime.on_listening)
    if settings.should_migrate:
        await ensure_migrated(runtime.db)
        runtime.migrated = True
    else:
        runtime.migrated = await current_revision(runtime.db) == HEAD_REVISION
    if runtime.migrated:
        start_scheduler(runtime)
    if runtime.listener is not None:
        await runtime.listener.start()
    runtime.startup_seconds = time.perf_counter() - started
    if runtime.migrated:
        logger.info(
            "engine %s ready in %.3f s",
            settings.engine_id,
            runtime.startup_seconds,
            extra={"database": settings.database_url.split("://", 1)[0]},
        )
    else:
        logger.warning(
            "engine %s is not ready: the database is not at the current migration; "
            "run `loom db upgrade`",
            settings.engine_id,
        )


def start_scheduler(runtime: EngineRuntime) -> None:
    """Start the scheduler loop (when this process runs one)."""
    if runtime.settings.run_scheduler and runtime.scheduler is None:
        runtime.scheduler = Scheduler(
            runtime.require_database(),
            runtime.registry,
            runtime.settings,
            on_execution_finished=lambda row: runtime.execution_finished(row.id, row),
        )
        runtime.scheduler.start()


class SchemaGate:
    """Whether the database schema is current, looked at again (at most once a second) while
    it is not, so that a ``loom db upgrade`` run while the engine is up makes it ready."""

    def __init__(self, runtime: EngineRuntime, *, interval_seconds: float = 1.0) -> None:
        self.runtime = runtime
        self.interval_seconds = interval_seconds
        self._checked_at = 0.0

    async def is_current(self) -> bool:
        """True when the schema is at the shipped head (the scheduler is started then)."""
        runtime = self.runtime
        if runtime.migrated:
            return True
        if runtime.db is None or time.monotonic() - self._checked_at < self.interval_seconds:
            return False
        self._checked_at = time.monotonic()
        try:
            runtime.migrated = await current_revision(runtime.db) == HEAD_REVISION
        except Exception as exc:  # unreachable database: not ready, said by /readyz
            logger.warning("the migration state cannot be read: %s", type(exc).__name__)
            return False
        if runtime.migrated:
            start_scheduler(runtime)
            logger.info("engine %s ready: the database is migrated", runtime.settings.engine_id)
        return runtime.migrated


class SchemaGateMiddleware:
    """Answer ``/v1`` requests with a 503 problem while the schema is not current."""

    def __init__(self, app: ASGIApp, gate: SchemaGate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and not self.gate.runtime.migrated
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


async def stop_runtime(runtime: EngineRuntime) -> None:
    """Stop the scheduler and close the database."""
    if runtime.listener is not None:
        await runtime.listener.stop()
        runtime.listener = None
    if runtime.scheduler is not None:
        await runtime.scheduler.stop()
        runtime.scheduler = None
    if runtime.read_db is not None and runtime.settings.is_sqlite:  # its own pool
        await runtime.read_db.dispose()
    runtime.read_db = None
    runtime.database = None
    if runtime.db is not None:
        await runtime.db.dispose()
        runtime.db = None


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    definition = PipelineDefinition.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in definition.pop("$defs", {}).items():
        components.setdefault(name, sub)
    components["PipelineDefinition"] = definition
    inline = components["ExecutionCreate"]["properties"]["definition"]
    inline["$ref"] = "#/components/schemas/PipelineDefinition"
    inline.pop("type", None)
    components.setdefault(
        "Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    problem_defs = components["Problem"].pop("$defs", {})
    for name, sub in problem_defs.items():
        components.setdefault(name, sub)
    _add_links(schema)
    app.openapi_schema = schema
    return schema


# OpenAPI links (3.1 section 4.8.20): how a created resource's id feeds the operations on it,
# so clients and stateful testers (schemathesis) can follow them.
_LINKS: dict[tuple[str, str, str], tuple[str, str, tuple[str, ...]]] = {
    ("/v1/pipelines", "post", "201"): (
        "pipeline_id",
        "$response.body#/id",
        ("getPipeline", "updatePipeline", "deletePipeline"),
    ),
    ("/v1/executions", "post", "201"): (
        "execution_id",
        "$response.body#/id",
        (
            "getExecution",
            "getExecutionProgress",
            "listExecutionSteps",
            "listExecutionEvents",
            "cancelExecution",
            "retryExecution",
        ),
    ),
}


def _add_links(schema: dict[str, Any]) -> None:
    for (path, method, status), (parameter, expression, targets) in _LINKS.items():
        response = schema["paths"][path][method]["responses"][status]
        response["links"] = {
            target[0].upper() + target[1:]: {
                "operationId": target,
                "parameters": {parameter: expression},
            }
            for target in targets
        }


def create_app(
    settings: EngineSettings | None = None, *, registry: ActionRegistry | None = None
) -> FastAPI:
    """Build the engine's ASGI application.

    Args:
        settings: engine settings (``EngineSettings.from_env()`` by default).
        registry: the actions (``ActionRegistry.default()`` by default).

    Returns:
        The FastAPI application; its lifespan opens the database and runs the scheduler.
    """
    settings = settings or EngineSettings.from_env()
    runtime = EngineRuntime(settings=settings, registry=registry or ActionRegistry.default())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncGenerator[None, None]:
        await start_runtime(runtime)
        try:
            yield
        finally:
            await stop_runtime(runtime)

    # /docs and /redoc serve Swagger UI and ReDoc from files shipped in fastapi-offline (no CDN).
    app = FastAPIOffline(
        title="loom engine",
        version=__version__,
        description="A durable DAG pipeline service: pipelines, executions, actions.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    app.include_router(pipelines.router)
    app.include_router(executions.router)
    app.include_router(system.router)
    app.state.schema_gate = gate = SchemaGate(runtime)
    app.add_middleware(SchemaGateMiddleware, gate=gate)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(OptionsMiddleware, openapi=app.openapi)
    app.add_middleware(CorrelationMiddleware)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]  # FastAPI's documented override
    return app
