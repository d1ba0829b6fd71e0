"""The ASGI application: ``create_app()`` wires settings, database, actions and scheduler."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline

from loom import __version__
from loom.engine.actions.base import ActionRegistry
from loom.engine.api import executions, pipelines, system
from loom.engine.api.deps import EngineRuntime
from loom.engine.api.middleware import (
    BodyLimitMiddleware,
    CorrelationMiddleware,
    OptionsMiddleware,
    SchemaGateMiddleware,
)
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
from loom.engine.scheduler.engine import Scheduler
from loom.engine.settings import EngineSettings

logger = logging.getLogger(__name__)


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

    @property
    def ready(self) -> bool:
        """The schema was found current (nothing to look at again)."""
        return self.runtime.migrated

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
