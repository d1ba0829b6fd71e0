"""Pipeline definitions: parsing from JSON/YAML/dicts, defaults, and parameter binding."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from loom.engine.definitions import (
    DefinitionParseError,
    ParameterError,
    PipelineDefinition,
    RetryPolicy,
    StepDefinition,
    bind_parameters,
    load_definition_data,
    parse_definition,
)

DIAMOND: dict[str, Any] = {
    "name": "diamond",
    "version": 2,
    "description": "one step, fan-out to three, join into one",
    "parameters": [
        {"name": "region", "type": "string", "required": True},
        {"name": "count", "type": "integer", "default": 3},
        {"name": "ratio", "type": "number"},
        {"name": "dry_run", "type": "boolean", "default": False},
        {"name": "tags", "type": "array"},
        {"name": "extra", "type": "object"},
    ],
    "settings": {"timeout_seconds": 60, "max_parallel_steps": 8, "fail_fast": False},
    "steps": [
        {"id": "start", "action": "log", "params": {"message": "go {{ params.region }}"}},
        {"id": "a", "action": "log", "depends_on": ["start"], "params": {"message": "a"}},
        {"id": "b", "action": "log", "depends_on": ["start"], "on_failure": "retry"},
        {
            "id": "c",
            "action": "log",
            "depends_on": ["start"],
            "retry": {"max_attempts": 5, "backoff_seconds": 0.5},
            "timeout_seconds": 2.5,
            "weight": 3,
            "condition": "{{ params.count > 1 }}",
        },
        {"id": "join", "action": "aggregate", "depends_on": ["a", "b", "c"]},
    ],
    "outputs": {"region": "{{ params.region }}"},
}

YAML_TEXT = """
name: yaml-pipeline
parameters:
  - name: who
    type: string
    default: world
steps:
  - id: hello
    action: log
    params:
      message: "hello {{ params.who }}"
"""


def test_definition_parses_with_all_fields_when_given_a_dict() -> None:
    definition = parse_definition(DIAMOND)
    assert definition.name == "diamond"
    assert definition.version == 2
    assert definition.settings.max_parallel_steps == 8
    assert definition.settings.fail_fast is False
    assert [step.id for step in definition.steps] == ["start", "a", "b", "c", "join"]
    step_c = definition.step("c")
    assert step_c is not None
    assert step_c.timeout_seconds == 2.5
    assert step_c.weight == 3
    assert step_c.retry == RetryPolicy(max_attempts=5, backoff_seconds=0.5)
    assert definition.outputs == {"region": "{{ params.region }}"}
    assert not definition.is_draft


def test_defaults_apply_when_fields_are_omitted() -> None:
    definition = parse_definition({"name": "minimal"})
    assert definition.is_draft
    assert definition.settings.max_parallel_steps == 4
    assert definition.settings.fail_fast is True
    assert definition.settings.timeout_seconds is None
    step = StepDefinition(id="s", action="log")
    assert step.on_failure == "fail"
    assert step.weight == 1.0
    assert step.display_name == "s"
    assert step.effective_retry is None


def test_definition_parses_when_given_yaml_text() -> None:
    definition = parse_definition(YAML_TEXT)
    assert definition.name == "yaml-pipeline"
    assert definition.steps[0].params == {"message": "hello {{ params.who }}"}


def test_definition_parses_when_given_json_bytes() -> None:
    definition = parse_definition(json.dumps(DIAMOND).encode())
    assert definition == parse_definition(DIAMOND)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "empty"),
        ("name: [unclosed", "not valid JSON or YAML at line [12], column"),  # libyaml marks the end
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_parse_error_is_clear_when_text_is_not_a_definition(
    raw: str | bytes, fragment: str
) -> None:
    with pytest.raises(DefinitionParseError, match=fragment):
        load_definition_data(raw)


@pytest.mark.parametrize(
    "raw",
    [
        {"steps": []},
        {"name": "x", "unknown_field": 1},
        {"name": "x", "steps": [{"id": "bad id!", "action": "log"}]},
        {"name": "x", "steps": [{"id": "a", "action": "log", "on_failure": "explode"}]},
        {"name": "x", "settings": {"max_parallel_steps": 0}},
        {"name": "x", "parameters": [{"name": "p", "type": "date"}]},
    ],
)
def test_shape_error_is_raised_when_fields_are_wrong(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        parse_definition(raw)


def test_retry_policy_backs_off_exponentially_when_attempts_fail() -> None:
    policy = RetryPolicy(backoff_seconds=1.0, backoff_multiplier=2.0, max_backoff_seconds=5.0)
    assert [policy.delay_seconds(n) for n in (1, 2, 3, 4, 10_000)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_on_failure_retry_uses_default_policy_when_no_retry_is_given() -> None:
    step = StepDefinition(id="s", action="log", on_failure="retry")
    assert step.effective_retry == RetryPolicy()


def _definition() -> PipelineDefinition:
    return parse_definition(DIAMOND)


def test_defaults_fill_in_when_parameters_are_omitted() -> None:
    bound = bind_parameters(_definition(), {"region": "eu"})
    assert bound == {"region": "eu", "count": 3, "dry_run": False}


def test_given_values_are_kept_when_types_match() -> None:
    given = {
        "region": "eu",
        "count": 7,
        "ratio": 1,
        "dry_run": True,
        "tags": ["x"],
        "extra": {"k": 1},
    }
    assert bind_parameters(_definition(), given) == given


def test_integral_float_becomes_int_when_parameter_is_integer() -> None:
    assert bind_parameters(_definition(), {"region": "eu", "count": 4.0})["count"] == 4


def test_every_problem_is_reported_when_parameters_are_wrong() -> None:
    given: dict[str, Any] = {"count": "3", "ratio": True, "tags": "x", "extra": [], "surprise": 1}
    with pytest.raises(ParameterError) as caught:
        bind_parameters(_definition(), given)
    errors = dict(caught.value.errors)
    assert errors == {
        "/surprise": "unknown parameter (declared: count, dry_run, extra, ratio, region, tags)",
        "/region": "required parameter is missing",
        "/count": "expected integer, got string",
        "/ratio": "expected number, got boolean",
        "/tags": "expected array, got string",
        "/extra": "expected object, got array",
    }
    assert "/region: required parameter is missing" in str(caught.value)


def test_null_means_default_when_parameter_is_optional() -> None:
    bound = bind_parameters(_definition(), {"region": "eu", "count": None})
    assert bound["count"] == 3


def test_no_parameters_bind_when_none_are_declared_or_given() -> None:
    assert bind_parameters(parse_definition({"name": "x"}), None) == {}


def test_parameters_must_be_an_object_when_bound() -> None:
    with pytest.raises(ParameterError) as caught:
        bind_parameters(_definition(), ["eu"])  # pyright: ignore[reportArgumentType] -- on purpose
    assert caught.value.errors == [("", "parameters must be an object")]
