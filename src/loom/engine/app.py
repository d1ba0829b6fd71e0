"""The ASGI application: ``create_app()`` wires settings, database, actions and scheduler."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loom import __version__
from loom.engine.actions.base import ActionRegistry
from loom.engine.api import executions, pipelines, system
from loom.engine.api.deps import EngineRuntime
from loom.engine.api.problems import install_problem_handlers
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
from loom.engine.logging import correlation_id
from loom.engine.scheduler.engine import Scheduler
from loom.engine.settings import EngineSettings

logger = logging.getLogger(__name__)

CORRELATION_HEADER = b"x-correlation-id"


class CorrelationMiddleware:
    """Give every request a correlation id (``X-Correlation-ID`` or a new one) and echo it."""

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
        cid = given[:64] if given else uuid.uuid4().hex
        token = correlation_id.set(cid)

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((CORRELATION_HEADER, cid.encode("latin-1", "replace")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        finally:
            correlation_id.reset(token)


async def start_runtime(runtime: EngineRuntime) -> None:
    """Open the database, migrate it if configured, start the scheduler."""
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
        if not runtime.migrated:
            logger.warning("the database is not at the current migration; run `loom db upgrade`")
    if settings.run_scheduler:
        runtime.scheduler = Scheduler(
            runtime.database,
            runtime.registry,
            settings,
            on_execution_finished=lambda row: runtime.execution_finished(row.id, row),
        )
        runtime.scheduler.start()
    if runtime.listener is not None:
        await runtime.listener.start()
    runtime.startup_seconds = time.perf_counter() - started
    logger.info(
        "engine %s ready in %.3f s",
        settings.engine_id,
        runtime.startup_seconds,
        extra={"database": settings.database_url.split("://", 1)[0]},
    )


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
    components.setdefault(
        "Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    problem_defs = components["Problem"].pop("$defs", {})
    for name, sub in problem_defs.items():
        components.setdefault(name, sub)
    app.openapi_schema = schema
    return schema


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

    app = FastAPI(
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
    app.add_middleware(CorrelationMiddleware)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]  # FastAPI's documented override
    return app
