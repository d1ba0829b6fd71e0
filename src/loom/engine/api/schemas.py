"""Request and response models of the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from loom.engine.domain import EventKind, ExecutionStatus, SkipReason, StepState


class ProblemError(BaseModel):
    """One problem in a request, located by an RFC 6901 JSON pointer."""

    pointer: str
    message: str
    code: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemError] | None = None


class PipelineSummary(BaseModel):
    """A pipeline without its definition."""

    id: str
    name: str
    description: str | None
    version: int = Field(description="the current version; every update adds one")
    is_draft: bool
    created_at: datetime
    updated_at: datetime


class PipelineRead(PipelineSummary):
    """A pipeline with the definition of its current version."""

    definition: dict[str, Any]


class PipelinePage(BaseModel):
    """A page of pipelines."""

    items: list[PipelineSummary]
    page: int
    page_size: int
    total: int


class ValidationReport(BaseModel):
    """The answer of ``POST /v1/pipelines/validate`` for a valid definition."""

    valid: bool
    is_draft: bool
    errors: list[ProblemError]


class ExecutionCreate(BaseModel):
    """Start an execution of a stored pipeline (``pipeline_id``) or of an inline definition."""

    model_config = ConfigDict(extra="forbid")

    pipeline_id: str | None = Field(default=None, max_length=64)
    definition: dict[str, Any] | None = None
    params: dict[str, Any] = Field(default_factory=dict[str, Any])
    initiator: str | None = Field(default=None, max_length=200)
    callback_topics: list[str] = Field(default_factory=list[str], max_length=50)


class ExecutionRead(BaseModel):
    """An execution."""

    id: str
    pipeline_id: str | None
    pipeline_version: int | None
    pipeline_name: str
    status: ExecutionStatus
    params: dict[str, Any]
    initiator: str | None
    callback_topics: list[str]
    outputs: dict[str, Any] | None
    error: str | None
    progress_percent: float
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ExecutionPage(BaseModel):
    """A page of executions."""

    items: list[ExecutionRead]
    page: int
    page_size: int
    total: int


class StepRead(BaseModel):
    """The state of one step of an execution."""

    step_id: str
    action: str
    status: StepState
    attempt: int
    outputs: dict[str, Any] | None
    error: str | None
    skip_reason: SkipReason | None
    weight: float
    ready_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


class StepList(BaseModel):
    """A page of the steps of an execution, in definition order."""

    items: list[StepRead]
    page: int
    page_size: int
    total: int


class EventRead(BaseModel):
    """One entry of an execution's timeline."""

    id: int
    step_id: str | None
    kind: EventKind
    message: str
    data: dict[str, Any] | None
    created_at: datetime


class EventPage(BaseModel):
    """A page of an execution's timeline, oldest first."""

    items: list[EventRead]
    page: int
    page_size: int
    total: int


class ProgressRead(BaseModel):
    """How far an execution is."""

    execution_id: str
    status: ExecutionStatus
    percent: float = Field(description="weighted by step weights; never decreases")
    completed_steps: int
    total_steps: int
    current_steps: list[str]
    eta_seconds: float | None = Field(description="estimate from finished step durations")


class ActionRead(BaseModel):
    """A registered action."""

    name: str
    description: str
    params_schema: dict[str, Any]
    outputs_schema: dict[str, Any]
    idempotent: bool


class ActionList(BaseModel):
    """A page of the action catalog, sorted by name."""

    items: list[ActionRead]
    page: int
    page_size: int
    total: int


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "unavailable"]
    detail: str | None = None
