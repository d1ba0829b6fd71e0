"""Routes of ``/v1/pipelines``."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from loom.engine.api.deps import Runtime, reject_nul, reject_nul_params, require_id
from loom.engine.api.problems import problem, problem_responses
from loom.engine.api.schemas import (
    PipelinePage,
    PipelineRead,
    PipelineSummary,
    ProblemError,
    ValidationReport,
)
from loom.engine.db.rows import PipelineRow
from loom.engine.definitions import DefinitionParseError, load_definition_data
from loom.engine.services import pipelines as service
from loom.engine.services.errors import InvalidInputError, Issue, ServiceError

router = APIRouter(prefix="/v1/pipelines", tags=["pipelines"])

MAX_DEFINITION_BYTES = 1024 * 1024
DEFINITION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "a pipeline definition, as JSON or YAML",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/PipelineDefinition"}},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


class PayloadTooLargeError(ServiceError):
    """The body is larger than the engine accepts."""

    status = 413
    title = "Request body too large"


async def read_definition(request: Request) -> object:
    """The decoded definition body (JSON or YAML); a body that is neither is a 422."""
    body = await request.body()
    if len(body) > MAX_DEFINITION_BYTES:
        raise PayloadTooLargeError(f"a definition is at most {MAX_DEFINITION_BYTES} bytes")
    content_type = request.headers.get("content-type", "application/json").lower()
    try:
        if "yaml" in content_type:
            data = load_definition_data(body)
        else:
            data = json.loads(body) if body.strip() else None
    except (DefinitionParseError, ValueError) as exc:
        raise InvalidInputError(
            "the body is not a valid JSON or YAML document",
            issues=[Issue("", str(exc), "parse")],
        ) from None
    if data is None:
        raise InvalidInputError(
            "the body must be a pipeline definition", issues=[Issue("", "empty body", "parse")]
        )
    reject_nul(data)
    return data


def _summary(p: PipelineRow) -> PipelineSummary:
    return PipelineSummary(
        id=p.id,
        name=p.name,
        description=p.description,
        version=p.current_version,
        is_draft=p.is_draft,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def _read(stored: service.StoredPipeline, runtime: Runtime) -> PipelineRead:
    p = stored.pipeline
    return PipelineRead(
        **_summary(p).model_dump(), definition=runtime.mask_definition(stored.definition)
    )


@router.post(
    "",
    status_code=201,
    operation_id="createPipeline",
    summary="Create a pipeline (the body is the definition)",
    responses=problem_responses(413, 422),
    openapi_extra=DEFINITION_BODY,
)
async def create_pipeline(request: Request, runtime: Runtime) -> PipelineRead:
    """Validate and store a pipeline; drafts (no steps) are allowed but cannot run."""
    raw = await read_definition(request)
    async with runtime.begin() as tx:
        stored = await service.create_pipeline(tx, raw, runtime.registry)
    return _read(stored, runtime)


@router.get(
    "", operation_id="listPipelines", summary="List pipelines", responses=problem_responses(422)
)
async def list_pipelines(
    runtime: Runtime,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    name: Annotated[str | None, Query(max_length=200)] = None,
) -> PipelinePage:
    """A page of pipelines, newest first."""
    reject_nul_params(name=name)
    async with runtime.read() as conn:
        items, total = await service.list_pipelines(conn, page=page, page_size=page_size, name=name)
    return PipelinePage(
        items=[_summary(p) for p in items], page=page, page_size=page_size, total=total
    )


@router.post(
    "/validate",
    operation_id="validatePipeline",
    summary="Validate a definition without storing it",
    response_model=ValidationReport,
    responses=problem_responses(413, 422),
    openapi_extra=DEFINITION_BODY,
)
async def validate_pipeline(request: Request, runtime: Runtime) -> ValidationReport | Response:
    """200 when valid; 422 problem+json with every error and its JSON pointer otherwise."""
    raw = await read_definition(request)
    result = service.check_definition(raw, runtime.registry)
    if isinstance(result, list):
        issues = result
        is_draft = False
    else:
        issues = [Issue(e.pointer, e.message, e.code) for e in result.errors]
        is_draft = result.is_draft
    if issues:
        return problem(
            422,
            "Invalid pipeline definition",
            f"the pipeline definition has {len(issues)} problem(s)",
            errors=issues,
            instance=request.url.path,
        )
    return ValidationReport(valid=True, is_draft=is_draft, errors=list[ProblemError]())


PipelineId = Annotated[str, Path(max_length=64)]


@router.get(
    "/{pipeline_id}",
    operation_id="getPipeline",
    summary="Get a pipeline",
    responses=problem_responses(404, 422),
)
async def get_pipeline(
    pipeline_id: PipelineId,
    runtime: Runtime,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> PipelineRead:
    """A pipeline with its current definition (or the given ``version``)."""
    pid = require_id(pipeline_id, "pipeline")
    async with runtime.read() as conn:
        stored = await service.get_pipeline(conn, pid, version=version)
    return _read(stored, runtime)


@router.put(
    "/{pipeline_id}",
    operation_id="updatePipeline",
    summary="Update a pipeline (a new version)",
    responses=problem_responses(404, 413, 422),
    openapi_extra=DEFINITION_BODY,
)
async def update_pipeline(
    pipeline_id: PipelineId, request: Request, runtime: Runtime
) -> PipelineRead:
    """Store a new version; running executions keep the version they started with."""
    pid = require_id(pipeline_id, "pipeline")
    raw = await read_definition(request)
    async with runtime.begin() as tx:
        stored = await service.update_pipeline(tx, pid, raw, runtime.registry)
    return _read(stored, runtime)


@router.delete(
    "/{pipeline_id}",
    status_code=204,
    operation_id="deletePipeline",
    summary="Delete a pipeline",
    responses=problem_responses(404, 422),
    response_class=Response,
)
async def delete_pipeline(pipeline_id: PipelineId, runtime: Runtime) -> Response:
    """Delete a pipeline and its versions; executions keep their own copy."""
    pid = require_id(pipeline_id, "pipeline")
    async with runtime.begin() as tx:
        await service.delete_pipeline(tx, pid)
    return Response(status_code=204)
