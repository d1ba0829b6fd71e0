"""Pipeline definitions: the pydantic models of a DAG pipeline and their parsing.

A definition arrives as JSON or YAML text, or as an already-decoded mapping. It is parsed here
into :class:`PipelineDefinition`; everything semantic (cycles, unknown actions, template
references) is checked by :mod:`loom.engine.validation`.

Parameters of an execution are bound with :func:`bind_parameters`, which applies defaults,
enforces ``required`` and checks the declared types.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from loom.engine.actions.schema import escape_pointer, json_type_name
from loom.engine.documents import load_yaml
from loom.engine.limits import BoundError

__all__ = [
    "PARAMETER_TYPES",
    "DefinitionParseError",
    "ParameterDefinition",
    "ParameterError",
    "ParameterType",
    "PipelineDefinition",
    "PipelineSettings",
    "RetryPolicy",
    "StepDefinition",
    "bind_parameters",
    "load_definition_data",
    "parse_definition",
    "type_matches",
]

ParameterType = Literal["string", "integer", "number", "boolean", "array", "object"]
PARAMETER_TYPES: tuple[str, ...] = ("string", "integer", "number", "boolean", "array", "object")

STEP_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]{0,127}$"
PARAMETER_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]{0,127}$"


class _Model(BaseModel):
    """Base of the definition models: unknown fields are mistakes, not extensions, and values
    are not coerced (`0` is not `false`), as the JSON Schema in the OpenAPI document says."""

    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=False, strict=True)


class ParameterDefinition(_Model):
    """A typed parameter of a pipeline.

    Attributes:
        name: how templates refer to it (``{{ params.name }}``).
        type: one of string, integer, number, boolean, array, object.
        required: an execution must give it (unless it has a default).
        default: the value used when the execution does not give one.
        description: free text for humans.
    """

    name: str = Field(pattern=PARAMETER_NAME_PATTERN)
    type: ParameterType = "string"
    required: bool = False
    default: Any = None
    description: str | None = None


class PipelineSettings(_Model):
    """Execution-wide settings.

    Attributes:
        timeout_seconds: the whole execution fails after this long (``None``: no limit).
        max_parallel_steps: how many steps of one execution may run at the same time.
        fail_fast: when a step fails, stop scheduling new steps and fail the execution.
    """

    timeout_seconds: float | None = Field(default=None, gt=0)
    max_parallel_steps: int = Field(default=4, ge=1, le=1024)
    fail_fast: bool = True


class RetryPolicy(_Model):
    """How a failed step is retried.

    Attributes:
        max_attempts: attempts in total, the first one included.
        backoff_seconds: the wait before the second attempt.
        backoff_multiplier: each further wait is the previous one times this.
        max_backoff_seconds: no wait is longer than this.
    """

    max_attempts: int = Field(default=3, ge=1, le=100)
    backoff_seconds: float = Field(default=1.0, ge=0)
    backoff_multiplier: float = Field(default=2.0, ge=1)
    max_backoff_seconds: float = Field(default=60.0, ge=0)

    def delay_seconds(self, attempt: int) -> float:
        """The wait after the failed attempt number ``attempt`` (1-based).

        Args:
            attempt: the attempt that just failed, starting at 1.

        Returns:
            ``backoff_seconds * backoff_multiplier ** (attempt - 1)``, capped at
            ``max_backoff_seconds``.
        """
        exponent = max(attempt - 1, 0)
        try:
            delay = self.backoff_seconds * self.backoff_multiplier**exponent
        except OverflowError:
            return self.max_backoff_seconds
        return min(delay, self.max_backoff_seconds)


class StepDefinition(_Model):
    """One step of the DAG.

    Attributes:
        id: unique within the pipeline; templates refer to it as ``steps.<id>``.
        name: a human label (defaults to the id).
        action: the registered action that runs the step.
        params: the action's parameters; strings may hold ``{{ templates }}``.
        depends_on: ids of the steps that must finish first.
        condition: a template read as a boolean; false skips the step.
        on_failure: ``fail`` the execution, ``continue`` as if nothing happened, or ``retry``.
        retry: the retry policy (``on_failure: retry`` without one uses the defaults).
        timeout_seconds: one attempt fails after this long.
        weight: the step's share of the execution's progress.
    """

    id: str = Field(pattern=STEP_ID_PATTERN)
    name: str | None = None
    action: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict[str, Any])
    depends_on: list[str] = Field(default_factory=list[str])
    condition: str | bool | None = None
    on_failure: Literal["fail", "continue", "retry"] = "fail"
    retry: RetryPolicy | None = None
    timeout_seconds: float | None = Field(default=None, gt=0)
    weight: float = Field(default=1.0, ge=0)

    @property
    def display_name(self) -> str:
        """The name, or the id when the step has no name."""
        return self.name or self.id

    @property
    def effective_retry(self) -> RetryPolicy | None:
        """The retry policy that applies, or ``None`` when a failure is not retried.

        A step retries when it has a ``retry`` policy or when ``on_failure`` is ``retry``
        (which then uses the default policy).
        """
        if self.retry is not None:
            return self.retry
        if self.on_failure == "retry":
            return RetryPolicy()
        return None


class PipelineDefinition(_Model):
    """A whole pipeline: parameters, settings, steps and outputs.

    Attributes:
        name: the pipeline's name.
        version: a free-form version label given by the author.
        description: free text for humans.
        parameters: typed inputs of an execution.
        settings: execution-wide settings.
        steps: the DAG; an empty list is a draft that cannot run.
        outputs: templates resolved when the execution completes.
    """

    name: str = Field(min_length=1, max_length=256)
    version: str | int | None = None
    description: str | None = None
    parameters: list[ParameterDefinition] = Field(default_factory=list[ParameterDefinition])
    settings: PipelineSettings = Field(default_factory=PipelineSettings)
    steps: list[StepDefinition] = Field(default_factory=list[StepDefinition])
    outputs: dict[str, Any] = Field(default_factory=dict[str, Any])

    @property
    def is_draft(self) -> bool:
        """A pipeline without steps is a draft: it can be stored but not run."""
        return not self.steps

    def step(self, step_id: str) -> StepDefinition | None:
        """The step with this id, or ``None``."""
        for step in self.steps:
            if step.id == step_id:
                return step
        return None

    def parameter(self, name: str) -> ParameterDefinition | None:
        """The parameter with this name, or ``None``."""
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        return None


class DefinitionParseError(ValueError):
    """The text of a definition is neither valid JSON nor valid YAML (or not a mapping)."""


class ParameterError(ValueError):
    """The parameters of an execution do not match the pipeline's declaration.

    Attributes:
        errors: every problem, as ``(json_pointer, message)``; pointers are relative to the
            parameters object (``/count``).
    """

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        summary = "; ".join(f"{pointer or '/'}: {message}" for pointer, message in errors)
        super().__init__(f"invalid parameters: {summary}")


def load_definition_data(raw: object) -> object:
    """Decode a definition given as JSON/YAML text or bytes; other values pass through.

    Text is decoded within the bounds of :mod:`loom.engine.limits` (depth, YAML aliases,
    storable text) by :func:`loom.engine.documents.load_yaml`.

    Args:
        raw: ``str`` or ``bytes`` (JSON or YAML), or an already-decoded object.

    Returns:
        The decoded object (normally a dict).

    Raises:
        DefinitionParseError: the text is neither JSON nor YAML, or breaks a bound.
    """
    if not isinstance(raw, str | bytes | bytearray):
        return raw
    text = (bytes(raw) if isinstance(raw, bytearray) else raw).strip()
    if not text:
        raise DefinitionParseError("the definition is empty")
    try:
        return load_yaml(text)
    except BoundError as exc:
        where = f" at {exc.pointer}" if exc.pointer else ""
        raise DefinitionParseError(f"the definition cannot be read{where}: {exc.message}") from None


def parse_definition(raw: object) -> PipelineDefinition:
    """Parse a definition without the semantic checks of :mod:`loom.engine.validation`.

    Args:
        raw: JSON/YAML text, bytes, a mapping or a :class:`PipelineDefinition`.

    Returns:
        The parsed definition.

    Raises:
        DefinitionParseError: the text cannot be decoded.
        pydantic.ValidationError: the data does not have the shape of a definition.
    """
    if isinstance(raw, PipelineDefinition):
        return raw
    return PipelineDefinition.model_validate(load_definition_data(raw))


def type_matches(type_name: str, value: object) -> bool:
    """Whether ``value`` has the declared parameter type (``bool`` is not a number)."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return not (isinstance(value, float) and not math.isfinite(value))
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "array":
        return isinstance(value, list | tuple)
    if type_name == "object":
        return isinstance(value, Mapping)
    return False


def bind_parameters(defn: PipelineDefinition, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Bind an execution's parameters: defaults, ``required`` and type checks.

    An integer-valued float (``3.0``) is accepted for an ``integer`` parameter and becomes
    ``3``; nothing else is coerced.

    Args:
        defn: the pipeline.
        given: the parameters the execution was started with.

    Returns:
        Every declared parameter that has a value (given or default).

    Raises:
        ParameterError: with every problem (unknown, missing, wrongly typed parameters).
    """
    given = given or {}
    if not isinstance(given, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance] -- JSON input
        raise ParameterError([("", "parameters must be an object")])
    errors: list[tuple[str, str]] = []
    declared = {p.name: p for p in defn.parameters}
    bound: dict[str, Any] = {}
    for key in given:
        if key not in declared:
            names = ", ".join(sorted(declared)) or "none"
            errors.append(
                (f"/{escape_pointer(str(key))}", f"unknown parameter (declared: {names})")
            )
    for name, parameter in declared.items():
        pointer = f"/{escape_pointer(name)}"
        if name in given:
            value = given[name]
        elif parameter.default is not None:
            bound[name] = parameter.default
            continue
        elif parameter.required:
            errors.append((pointer, "required parameter is missing"))
            continue
        else:
            continue
        if value is None and not parameter.required:
            bound[name] = parameter.default
            continue
        if (
            parameter.type == "integer"
            and isinstance(value, float)
            and math.isfinite(value)
            and value.is_integer()
        ):
            value = int(value)
        if not type_matches(parameter.type, value):
            errors.append((pointer, f"expected {parameter.type}, got {json_type_name(value)}"))
            continue
        bound[name] = list(cast("tuple[object, ...]", value)) if isinstance(value, tuple) else value
    if errors:
        raise ParameterError(errors)
    return bound
