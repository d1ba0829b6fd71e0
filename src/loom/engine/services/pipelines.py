"""Pipelines: create, list, get, update (a new version each time), delete, validate."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm.exc import StaleDataError

from loom.engine.actions.base import ActionRegistry
from loom.engine.db.models import utcnow
from loom.engine.db.rows import PIPELINE_VERSIONS, PIPELINES, PipelineRow
from loom.engine.db.tx import Tx
from loom.engine.definitions import DefinitionParseError, PipelineDefinition
from loom.engine.pointers import escape_pointer
from loom.engine.services.errors import InvalidInputError, Issue, NotFoundError
from loom.engine.validation import ValidationResult, validate_definition

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoredPipeline:
    """A pipeline with the definition of one of its versions."""

    pipeline: PipelineRow
    definition: dict[str, Any]


_PIPELINE_NAMES = tuple(c.name for c in PIPELINES.c)


def _pipeline(row: sa.Row[Any]) -> PipelineRow:
    return PipelineRow(**dict(zip(_PIPELINE_NAMES, row, strict=True)))


async def _load(conn: AsyncConnection, pipeline_id: str, *, lock: bool = False) -> PipelineRow:
    query = sa.select(PIPELINES).where(PIPELINES.c.id == pipeline_id)
    if lock:
        query = query.with_for_update()
    found = (await conn.execute(query)).first()
    if found is None:
        raise NotFoundError(f"pipeline {pipeline_id!r} does not exist")
    return _pipeline(found)


async def _insert_version(
    conn: AsyncConnection, pipeline: PipelineRow, defn: PipelineDefinition
) -> dict[str, Any]:
    data = definition_json(defn)
    await conn.execute(
        sa.insert(PIPELINE_VERSIONS).values(
            pipeline_id=pipeline.id,
            version=pipeline.current_version,
            definition=data,
            is_draft=defn.is_draft,
            created_at=pipeline.updated_at,
        )
    )
    return data


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


async def create_pipeline(tx: Tx, raw: object, registry: ActionRegistry) -> StoredPipeline:
    """Validate and store a new pipeline (version 1).

    Raises:
        InvalidInputError: the definition is invalid (every problem with its pointer).
    """
    defn = require_valid(raw, registry)
    now = utcnow()
    pipeline = PipelineRow(
        id=str(uuid.uuid4()),
        name=defn.name,
        description=defn.description,
        current_version=1,
        is_draft=defn.is_draft,
        created_at=now,
        updated_at=now,
    )
    await tx.conn.execute(
        sa.insert(PIPELINES).values({name: getattr(pipeline, name) for name in _PIPELINE_NAMES})
    )
    data = await _insert_version(tx.conn, pipeline, defn)
    tx.definitions.pipeline_changed(pipeline.id, pipeline.current_version)
    return StoredPipeline(pipeline, data)


async def list_pipelines(
    conn: AsyncConnection, *, page: int, page_size: int, name: str | None = None
) -> tuple[list[PipelineRow], int]:
    """One page of pipelines (newest first) and the total count."""
    p = PIPELINES.c
    conditions = [p.name == name] if name else []
    total = int(
        (
            await conn.execute(sa.select(sa.func.count()).select_from(PIPELINES).where(*conditions))
        ).scalar_one()
    )
    found = await conn.execute(
        sa.select(PIPELINES)
        .where(*conditions)
        .order_by(p.created_at.desc(), p.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return [_pipeline(row) for row in found], total


async def get_pipeline(
    conn: AsyncConnection, pipeline_id: str, *, version: int | None = None
) -> StoredPipeline:
    """A pipeline with the definition of ``version`` (the current one by default).

    Raises:
        NotFoundError: no such pipeline or version.
    """
    pipeline = await _load(conn, pipeline_id)
    v = PIPELINE_VERSIONS.c
    data = (
        await conn.execute(
            sa.select(v.definition).where(
                v.pipeline_id == pipeline_id, v.version == (version or pipeline.current_version)
            )
        )
    ).scalar_one_or_none()
    if data is None:
        raise NotFoundError(f"pipeline {pipeline_id!r} has no version {version}")
    return StoredPipeline(pipeline, cast("dict[str, Any]", data))


async def update_pipeline(
    tx: Tx, pipeline_id: str, raw: object, registry: ActionRegistry
) -> StoredPipeline:
    """Store a new version; executions already started keep theirs.

    Raises:
        NotFoundError: no such pipeline.
        InvalidInputError: the definition is invalid.
    """
    defn = require_valid(raw, registry)
    pipeline = await _load(tx.conn, pipeline_id, lock=True)
    read_version = pipeline.row_version
    pipeline.current_version += 1
    pipeline.name = defn.name
    pipeline.description = defn.description
    pipeline.is_draft = defn.is_draft
    pipeline.updated_at = utcnow()
    pipeline.row_version += 1
    p = PIPELINES.c
    result = await tx.conn.execute(
        sa.update(PIPELINES)
        .where(p.id == pipeline_id, p.row_version == read_version)
        .values(
            current_version=pipeline.current_version,
            name=pipeline.name,
            description=pipeline.description,
            is_draft=pipeline.is_draft,
            updated_at=pipeline.updated_at,
            row_version=pipeline.row_version,
        )
    )
    if result.rowcount != 1:
        raise StaleDataError(f"pipeline {pipeline_id!r} changed since it was read")
    data = await _insert_version(tx.conn, pipeline, defn)
    tx.definitions.pipeline_changed(pipeline_id, pipeline.current_version)
    return StoredPipeline(pipeline, data)


async def delete_pipeline(tx: Tx, pipeline_id: str) -> None:
    """Delete a pipeline and its versions (executions keep their own copy).

    Raises:
        NotFoundError: no such pipeline.
    """
    await _load(tx.conn, pipeline_id, lock=True)
    await tx.conn.execute(
        sa.delete(PIPELINE_VERSIONS).where(PIPELINE_VERSIONS.c.pipeline_id == pipeline_id)
    )
    await tx.conn.execute(sa.delete(PIPELINES).where(PIPELINES.c.id == pipeline_id))
    tx.definitions.pipeline_changed(pipeline_id, None)
