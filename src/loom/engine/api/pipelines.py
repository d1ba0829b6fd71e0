"""Routes of ``/v1/pipelines``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, cast

from fastapi import APIRouter, Header, Path, Query, Request, Response

from loom.engine.api.bodies import BoundedRoute, decode_json, decode_yaml
from loom.engine.api.deps import Runtime, reject_nul_params, require_id
from loom.engine.api.problems import problem, problem_responses
from loom.engine.api.schemas import (
    PipelinePage,
    PipelineRead,
    PipelineSummary,
    ProblemError,
    ValidationReport,
)
from loom.engine.db.rows import PipelineRow
from loom.engine.limits import MAX_DEFINITION_BYTES
from loom.engine.masking import restore_masked
from loom.engine.services import pipelines as service
from loom.engine.services.errors import InvalidInputError, Issue, ServiceError

router = APIRouter(prefix="/v1/pipelines", tags=["pipelines"], route_class=BoundedRoute)

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
    """The decoded definition body (JSON, or YAML with a YAML content type), within bounds.

    Raises:
        PayloadTooLargeError: the body is over :data:`MAX_DEFINITION_BYTES`.
        BodyRejectedError: the body cannot be decoded within the bounds (a 422).
        InvalidInputError: the body is empty.
    """
    body = await request.body()
    if len(body) > MAX_DEFINITION_BYTES:
        raise PayloadTooLargeError(
            f"a definition is at most {MAX_DEFINITION_BYTES} bytes; this one is {len(body)}"
        )
    if not body.strip():
        raise InvalidInputError(
            "the body must be a pipeline definition", issues=[Issue("", "empty body", "parse")]
        )
    content_type = request.headers.get("content-type", "application/json").lower()
    data = await (decode_yaml(body) if "yaml" in content_type else decode_json(body))
    if data is None:
        raise InvalidInputError(
            "the body must be a pipeline definition", issues=[Issue("", "empty body", "parse")]
        )
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


def _read(
    stored: service.StoredPipeline, runtime: Runtime, *, version: int | None = None
) -> PipelineRead:
    """The pipeline as of ``version`` (the current one by default): that version's name,
    description and draft state, not the current version's."""
    p = stored.pipeline
    summary = _summary(p)
    if version is not None and version != p.current_version:
        definition = stored.definition
        summary.version = version
        summary.name = str(definition.get("name", p.name))
        description = definition.get("description")
        summary.description = description if isinstance(description, str) else None
        summary.is_draft = not definition.get("steps")
    return PipelineRead(
        **summary.model_dump(), definition=runtime.mask_definition(stored.definition)
    )


def _shown(runtime: Runtime) -> Callable[[Any], Any]:
    """What a GET shows of any part of a definition (parameters mask their secret defaults)."""

    def mask(value: Any) -> Any:
        if isinstance(value, dict):
            part = cast("dict[str, Any]", value)
            if "parameters" in part:
                return runtime.mask_definition(part)
            if isinstance(part.get("name"), str) and "default" in part:  # one parameter
                return runtime.mask_definition({"parameters": [part]})["parameters"][0]
        return runtime.mask(value)

    return mask


# RFC 9110 section 13.1.1: "*" or a list of entity tags.
IF_MATCH_PATTERN = r'^(\*|(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*)$'


def etag(version: int) -> str:
    """The entity tag of a pipeline version (RFC 9110 section 8.8.3, a strong validator)."""
    return f'"v{version}"'


def _matches(if_match: str) -> Callable[[int], bool]:
    """Whether a version is one of an ``If-Match`` header's tags (RFC 9110 section 13.1.1)."""
    tags = {tag.strip() for tag in if_match.split(",")}
    return lambda version: "*" in tags or etag(version) in tags


@router.post(
    "",
    status_code=201,
    operation_id="createPipeline",
    summary="Create a pipeline (the body is the definition)",
    responses=problem_responses(413, 422),
    openapi_extra=DEFINITION_BODY,
)
async def create_pipeline(request: Request, response: Response, runtime: Runtime) -> PipelineRead:
    """Validate and store a pipeline; drafts (no steps) are allowed but cannot run."""
    raw = await read_definition(request)
    async with runtime.begin() as tx:
        stored = await service.create_pipeline(tx, raw, runtime.registry)
    response.headers["Location"] = f"{router.prefix}/{stored.pipeline.id}"
    response.headers["ETag"] = etag(stored.pipeline.current_version)
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
    response: Response,
    runtime: Runtime,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> PipelineRead:
    """A pipeline with its current definition (or the given ``version``).

    The ``ETag`` names the version shown; send it back in ``If-Match`` when updating.
    """
    pid = require_id(pipeline_id, "pipeline")
    async with runtime.read() as conn:
        stored = await service.get_pipeline(conn, pid, version=version)
    response.headers["ETag"] = etag(version or stored.pipeline.current_version)
    return _read(stored, runtime, version=version)


@router.put(
    "/{pipeline_id}",
    operation_id="updatePipeline",
    summary="Update a pipeline (a new version)",
    responses=problem_responses(404, 412, 413, 422),
    openapi_extra=DEFINITION_BODY,
)
async def update_pipeline(
    pipeline_id: PipelineId,
    request: Request,
    response: Response,
    runtime: Runtime,
    if_match: Annotated[
        str | None,
        Header(
            max_length=1024,
            pattern=IF_MATCH_PATTERN,
            description="the ETag of the version the change was made to (412 if stale)",
        ),
    ] = None,
) -> PipelineRead:
    """Store a new version; running executions keep the version they started with."""
    pid = require_id(pipeline_id, "pipeline")
    raw = await read_definition(request)
    check = _matches(if_match) if if_match is not None else None
    async with runtime.begin() as tx:
        current = await service.get_pipeline(tx.conn, pid)
        # Secrets are write-only: what the client left as it was shown keeps the stored value.
        raw = restore_masked(raw, current.definition, _shown(runtime))
        stored = await service.update_pipeline(tx, pid, raw, runtime.registry, if_version=check)
    response.headers["ETag"] = etag(stored.pipeline.current_version)
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
