"""SQLAlchemy 2 models of the engine.

Every mutable row carries ``row_version``, SQLAlchemy's optimistic-lock column: an UPDATE
matches the version it read and bumps it, so two writers never silently overwrite each other
(the loser gets ``StaleDataError``). Timestamps are stored as naive UTC and read back aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and returned timezone-aware."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


JSONType = sa.JSON(none_as_null=True)


class Base(DeclarativeBase):
    """Declarative base with the naming convention Alembic relies on."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class Pipeline(Base):
    """A named, versioned pipeline; its definitions live in ``pipeline_versions``."""

    __tablename__ = "pipelines"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(256), index=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    current_version: Mapped[int] = mapped_column(sa.Integer)
    is_draft: Mapped[bool] = mapped_column(sa.Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(sa.Integer)

    __mapper_args__ = {"version_id_col": row_version}


class PipelineVersion(Base):
    """One immutable version of a pipeline definition."""

    __tablename__ = "pipeline_versions"

    pipeline_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("pipelines.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    is_draft: Mapped[bool] = mapped_column(sa.Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Execution(Base):
    """One run of a pipeline; it keeps a snapshot of the definition it started with."""

    __tablename__ = "executions"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    pipeline_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    pipeline_version: Mapped[int | None] = mapped_column(sa.Integer)
    pipeline_name: Mapped[str] = mapped_column(sa.String(256))
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    initiator: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    callback_topics: Mapped[list[str]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    outputs: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(sa.Text)
    progress_percent: Mapped[float] = mapped_column(sa.Float)
    max_parallel_steps: Mapped[int] = mapped_column(sa.Integer)
    correlation_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(sa.Integer)

    __mapper_args__ = {"version_id_col": row_version}


class StepRun(Base):
    """The state of one step of one execution.

    A ``pending`` step with ``ready_at`` set and in the past is runnable; a ``running`` step is
    owned by ``lease_owner`` until ``lease_expires_at``.
    """

    __tablename__ = "step_runs"
    __table_args__ = (
        sa.UniqueConstraint("execution_id", "step_id"),
        sa.Index("ix_step_runs_status_ready_at", "status", "ready_at"),
        sa.Index("ix_step_runs_status_lease_expires_at", "status", "lease_expires_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    execution_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("executions.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(16))
    attempt: Mapped[int] = mapped_column(sa.Integer)
    # Attempts made before the execution was last retried (the retry policy counts from here).
    attempts_before_retry: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    outputs: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(sa.Text)
    skip_reason: Mapped[str | None] = mapped_column(sa.String(32))
    action: Mapped[str] = mapped_column(sa.String(200))
    weight: Mapped[float] = mapped_column(sa.Float)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    runnable_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resume_state: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    row_version: Mapped[int] = mapped_column(sa.Integer)

    __mapper_args__ = {"version_id_col": row_version}


class Event(Base):
    """One entry of an execution's timeline."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    execution_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("executions.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[str | None] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(40))
    message: Mapped[str] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
