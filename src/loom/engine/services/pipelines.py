"""Pipelines: create, list, get, update (a new version each time), delete, validate."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from loom.engine.actions.base import ActionRegistry
from loom.engine.db.cache import DefinitionCache
from loom.engine.db.models import Pipeline, PipelineVersion, utcnow
from loom.engine.definitions import DefinitionParseError, PipelineDefinition
from loom.engine.pointers import escape_pointer
from loom.engine.services.errors import InvalidInputError, Issue, NotFoundError
from loom.engine.validation import ValidationResult, validate_definition

logger = logging.getLogger(__name__)

# The key of the session's ``info`` under which the process's DefinitionCache is found.
DEFINITIONS = "loom.definitions"


def _changed(session: AsyncSession, pipeline_id: str, current: int | None) -> None:
    """Tell the process's definition cache the pipeline's current version (``None``: gone),
    so that the next execution of it does not start from a stale guess."""
    cache = session.info.get(DEFINITIONS)
    if isinstance(cache, DefinitionCache):
        cache.pipeline_changed(pipeline_id, current)


@dataclass(frozen=True, slots=True)
class StoredPipeline:
    """A pipeline with the definition of its current version."""

    pipeline: Pipeline
    definition: dict[str, Any]


def check_definition(
    raw: object, registry: ActionRegistry, *, allow_draft: bool = True
) -> ValidationResult | list[Issue]:
    """Validate a definition; a body that is not even JSON/YAML gives one issue at ``""``."""
    try:
        return validate_definition(raw, registry=registry, allow_draft=allow_draft)
    except DefinitionParseError as exc:
        return [Issue(pointer="", message=str(exc), code="parse")]
    except ValidationError as exc:
        # validate_definition reports shape errors itself; this is a safety net for a shape
        # its partial checks did not anticipate, so that a bad body stays a 422.
        logger.warning("validation raised instead of reporting: %s", exc.title)
        return [
            Issue(
                "".join(f"/{escape_pointer(part)}" for part in error["loc"]),
                error["msg"],
                error["type"],
            )
            for error in exc.errors()
        ]


def require_valid(
    raw: object, registry: ActionRegistry, *, allow_draft: bool = True
) -> PipelineDefinition:
    """The parsed definition, or :class:`InvalidInputError` listing every problem."""
    result = check_definition(raw, registry, allow_draft=allow_draft)
    if isinstance(result, list):
        raise InvalidInputError("the pipeline definition is not valid JSON or YAML", issues=result)
    if result.errors or result.definition is None:
        issues = [Issue(e.pointer, e.message, e.code) for e in result.errors]
        raise InvalidInputError(
            f"the pipeline definition has {len(issues)} problem(s)", issues=issues
        )
    return result.definition


def definition_json(defn: PipelineDefinition) -> dict[str, Any]:
    """The JSON form a definition is stored in."""
    return defn.model_dump(mode="json")


async def create_pipeline(
    session: AsyncSession, raw: object, registry: ActionRegistry
) -> StoredPipeline:
    """Validate and store a new pipeline (version 1).

    Raises:
        InvalidInputError: the definition is invalid (every problem with its pointer).
    """
    defn = require_valid(raw, registry)
    now = utcnow()
    pipeline = Pipeline(
        id=str(uuid.uuid4()),
        name=defn.name,
        description=defn.description,
        current_version=1,
        is_draft=defn.is_draft,
        created_at=now,
        updated_at=now,
    )
    data = definition_json(defn)
    session.add(pipeline)
    await session.flush()
    session.add(
        PipelineVersion(
            pipeline_id=pipeline.id,
            version=1,
            definition=data,
            is_draft=defn.is_draft,
            created_at=now,
        )
    )
    await session.flush()
    _changed(session, pipeline.id, 1)
    return StoredPipeline(pipeline, data)


async def list_pipelines(
    session: AsyncSession, *, page: int, page_size: int, name: str | None = None
) -> tuple[list[Pipeline], int]:
    """One page of pipelines (newest first) and the total count."""
    query = sa.select(Pipeline)
    count = sa.select(sa.func.count()).select_from(Pipeline)
    if name:
        query = query.where(Pipeline.name == name)
        count = count.where(Pipeline.name == name)
    total = int((await session.execute(count)).scalar_one())
    rows = await session.execute(
        query.order_by(Pipeline.created_at.desc(), Pipeline.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows.scalars()), total


async def get_pipeline(
    session: AsyncSession, pipeline_id: str, *, version: int | None = None
) -> StoredPipeline:
    """A pipeline with the definition of ``version`` (the current one by default).

    Raises:
        NotFoundError: no such pipeline or version.
    """
    pipeline = await session.get(Pipeline, pipeline_id)
    if pipeline is None:
        raise NotFoundError(f"pipeline {pipeline_id!r} does not exist")
    stored = await session.get(PipelineVersion, (pipeline_id, version or pipeline.current_version))
    if stored is None:
        raise NotFoundError(f"pipeline {pipeline_id!r} has no version {version}")
    return StoredPipeline(pipeline, stored.definition)


async def update_pipeline(
    session: AsyncSession, pipeline_id: str, raw: object, registry: ActionRegistry
) -> StoredPipeline:
    """Store a new version; executions already started keep theirs.

    Raises:
        NotFoundError: no such pipeline.
        InvalidInputError: the definition is invalid.
    """
    defn = require_valid(raw, registry)
    pipeline = await session.get(Pipeline, pipeline_id, with_for_update=True)
    if pipeline is None:
        raise NotFoundError(f"pipeline {pipeline_id!r} does not exist")
    now = utcnow()
    pipeline.current_version += 1
    pipeline.name = defn.name
    pipeline.description = defn.description
    pipeline.is_draft = defn.is_draft
    pipeline.updated_at = now
    data = definition_json(defn)
    session.add(
        PipelineVersion(
            pipeline_id=pipeline.id,
            version=pipeline.current_version,
            definition=data,
            is_draft=defn.is_draft,
            created_at=now,
        )
    )
    await session.flush()
    _changed(session, pipeline.id, pipeline.current_version)
    return StoredPipeline(pipeline, data)


async def delete_pipeline(session: AsyncSession, pipeline_id: str) -> None:
    """Delete a pipeline and its versions (executions keep their own copy).

    Raises:
        NotFoundError: no such pipeline.
    """
    pipeline = await session.get(Pipeline, pipeline_id)
    if pipeline is None:
        raise NotFoundError(f"pipeline {pipeline_id!r} does not exist")
    await session.execute(
        sa.delete(PipelineVersion).where(PipelineVersion.pipeline_id == pipeline_id)
    )
    await session.delete(pipeline)
    await session.flush()
    _changed(session, pipeline_id, None)
