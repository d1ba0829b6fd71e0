"""Routes of the action catalog, health, readiness and metrics."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request, Response

from loom.engine import metrics
from loom.engine.api.bodies import BoundedRoute
from loom.engine.api.deps import Runtime
from loom.engine.api.problems import NOT_MIGRATED, problem, problem_responses
from loom.engine.api.schemas import ActionList, ActionRead, Health
from loom.engine.db.models import utcnow
from loom.engine.scheduler.claims import count_runnable

router = APIRouter(route_class=BoundedRoute)


@router.get(
    "/v1/actions",
    operation_id="listActions",
    summary="The action catalog",
    tags=["actions"],
    responses=problem_responses(422),
)
async def list_actions(
    runtime: Runtime,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ActionList:
    """The registered actions: name, description, parameter and output schemas."""
    catalog = runtime.registry.catalog()
    start = (page - 1) * page_size
    return ActionList(
        items=[ActionRead(**entry) for entry in catalog[start : start + page_size]],
        page=page,
        page_size=page_size,
        total=len(catalog),
    )


@router.get("/healthz", operation_id="getHealth", summary="Liveness", tags=["system"])
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="getReadiness",
    summary="Readiness",
    tags=["system"],
    response_model=Health,
    responses=problem_responses(503),
)
async def readyz(request: Request, runtime: Runtime) -> Health | Response:
    """The database answers and its schema is at the shipped migration head."""
    try:
        async with runtime.read() as conn:
            await conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        return problem(503, "Unavailable", f"the database does not answer: {type(exc).__name__}")
    if not await request.app.state.schema_gate.is_current():
        return problem(503, "Unavailable", NOT_MIGRATED)
    return Health(status="ok")


@router.get(
    "/metrics",
    operation_id="getMetrics",
    summary="Prometheus metrics",
    tags=["system"],
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def prometheus_metrics(runtime: Runtime) -> Response:
    """Executions by outcome, step durations, runnable queue depth."""
    async with runtime.read() as conn:
        metrics.RUNNABLE_STEPS.set(await count_runnable(conn, now=utcnow()))
    return Response(metrics.render_metrics(), media_type="text/plain; version=0.0.4")
