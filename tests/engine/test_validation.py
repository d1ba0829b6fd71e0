"""Validation of definitions: every problem with its JSON pointer, and topological order."""

from __future__ import annotations

from typing import Any

import pytest

from loom.engine.actions import ActionRegistry
from loom.engine.actions.schema import validate_schema
from loom.engine.definitions import parse_definition
from loom.engine.validation import (
    CycleError,
    ValidationIssue,
    find_cycles,
    topological_order,
    validate_definition,
)

REGISTRY = ActionRegistry.default(entry_points=False)


def _issues(raw: object, *, allow_draft: bool = True) -> list[tuple[str, str]]:
    result = validate_definition(raw, registry=REGISTRY, allow_draft=allow_draft)
    return [(issue.pointer, issue.code) for issue in result.errors]


def _step(step_id: str, *deps: str, **extra: Any) -> dict[str, Any]:
    step: dict[str, Any] = {"id": step_id, "action": "log", "params": {"message": step_id}}
    if deps:
        step["depends_on"] = list(deps)
    step.update(extra)
    return step


def _pipeline(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "p", "steps": list(steps), **extra}


def test_valid_definition_has_no_errors_when_everything_is_consistent() -> None:
    raw = _pipeline(
        _step("a"),
        _step("b", "a", params={"message": "{{ steps.a.outputs.message | upper }}"}),
        _step("c", "b", condition="steps.a.status == 'completed' and params.n > 1"),
        parameters=[{"name": "n", "type": "integer", "default": 2}],
        outputs={"final": "{{ steps.c.outputs.message }}", "n": "{{ params.n }}"},
    )
    result = validate_definition(raw, registry=REGISTRY)
    assert result.errors == []
    assert result.ok
    assert result.definition is not None
    assert result.definition.name == "p"
    assert not result.is_draft


def test_draft_is_accepted_when_drafts_are_allowed() -> None:
    result = validate_definition({"name": "draft"}, registry=REGISTRY)
    assert result.ok
    assert result.is_draft


def test_draft_is_refused_when_drafts_are_not_allowed() -> None:
    assert _issues({"name": "draft"}, allow_draft=False) == [("/steps", "draft")]


def test_duplicate_step_id_is_reported_when_two_steps_share_it() -> None:
    assert _issues(_pipeline(_step("a"), _step("b"), _step("a"))) == [
        ("/steps/2/id", "duplicate_id")
    ]


def test_dependency_problems_are_reported_when_ids_are_unknown_or_self() -> None:
    issues = _issues(_pipeline(_step("a", "a", "ghost"), _step("b", "a", "a")))
    assert issues == [
        ("/steps/0/depends_on/0", "self_dependency"),
        ("/steps/0/depends_on/1", "unknown_dependency"),
        ("/steps/1/depends_on/1", "duplicate_dependency"),
    ]


def test_cycle_is_reported_with_its_path_when_dependencies_loop() -> None:
    raw = _pipeline(_step("a", "c"), _step("b", "a"), _step("c", "b"), _step("d"))
    result = validate_definition(raw, registry=REGISTRY)
    assert [(i.pointer, i.code) for i in result.errors] == [("/steps/0/depends_on/0", "cycle")]
    assert result.errors[0].message == "dependency cycle: a -> c -> b -> a"


def test_every_cycle_is_reported_once_when_there_are_several() -> None:
    raw = _pipeline(_step("a", "b"), _step("b", "a"), _step("x", "y"), _step("y", "x"))
    messages = [i.message for i in validate_definition(raw, registry=REGISTRY).errors]
    assert messages == ["dependency cycle: a -> b -> a", "dependency cycle: x -> y -> x"]


def test_unknown_action_is_reported_when_not_registered() -> None:
    result = validate_definition(_pipeline({"id": "a", "action": "teleport"}), registry=REGISTRY)
    assert [(i.pointer, i.code) for i in result.errors] == [("/steps/0/action", "unknown_action")]
    assert "known: aggregate" in result.errors[0].message


def test_action_param_schema_violations_are_reported_when_values_are_literal() -> None:
    raw = _pipeline(
        {"id": "a", "action": "delay", "params": {"seconds": -1}},
        {"id": "b", "action": "http_request", "params": {"method": "FETCH"}},
        {"id": "c", "action": "log", "params": {"message": "x", "colour": "red"}},
    )
    assert _issues(raw) == [
        ("/steps/0/params/seconds", "action_params"),
        ("/steps/1/params/url", "missing_action_param"),
        ("/steps/1/params/method", "action_params"),
        ("/steps/2/params/colour", "action_params"),
    ]


def test_templated_action_params_are_not_type_checked_when_validating() -> None:
    raw = _pipeline(
        {"id": "a", "action": "delay", "params": {"seconds": "{{ params.wait }}"}},
        parameters=[{"name": "wait", "type": "number", "default": 1}],
    )
    assert _issues(raw) == []


def test_template_references_are_checked_when_they_read_params_and_steps() -> None:
    raw = _pipeline(
        _step("a", params={"message": "{{ params.undeclared }}"}),
        _step("b", params={"message": "{{ steps.c.outputs.x }}"}),
        _step("c", "a", params={"message": "{{ steps.ghost.outputs.x }} {{ steps.c.status }}"}),
        _step("d", "c", params={"message": "{{ steps.a.output }} {{ other.thing }}"}),
        _step("e", condition="steps.a.status == 'completed'"),
        outputs={"o": "{{ steps.nope.outputs.y }}", "ok": "{{ steps.d.outputs.message }}"},
    )
    assert _issues(raw) == [
        ("/steps/0/params/message", "undeclared_parameter"),
        ("/steps/1/params/message", "not_ancestor"),
        ("/steps/2/params/message", "unknown_step"),
        ("/steps/2/params/message", "self_reference"),
        ("/steps/3/params/message", "unknown_step_field"),
        ("/steps/3/params/message", "unknown_name"),
        ("/steps/4/condition", "not_ancestor"),
        ("/outputs/o", "unknown_step"),
    ]


def test_transitive_ancestor_is_accepted_when_a_template_reads_it() -> None:
    raw = _pipeline(
        _step("a"), _step("b", "a"), _step("c", "b", params={"message": "{{ steps.a.status }}"})
    )
    assert _issues(raw) == []


def test_template_syntax_error_is_reported_with_pointer_when_malformed() -> None:
    raw = _pipeline(
        _step("a", params={"message": {"nested": ["{{ params.x | nope }}"]}}),
        _step("b", condition="params.__class__"),
        outputs={"o": "{{ 1 + }}"},
    )
    assert _issues(raw) == [
        ("/steps/0/params/message/nested/0", "template_syntax"),
        ("/steps/1/condition", "template_syntax"),
        ("/outputs/o", "template_syntax"),
    ]


def test_shape_errors_are_pointed_when_fields_have_wrong_types() -> None:
    raw = {
        "name": "p",
        "version": [1],
        "surprise": True,
        "settings": {"max_parallel_steps": "many"},
        "steps": [
            {"id": "a", "action": "log", "params": {"message": "x"}, "weight": -1},
            {"id": "b"},
        ],
    }
    result = validate_definition(raw, registry=REGISTRY)
    assert result.definition is None
    assert [(i.pointer, i.code) for i in result.errors] == [
        ("/version", "schema"),
        ("/settings/max_parallel_steps", "schema"),
        ("/steps/0/weight", "schema"),
        ("/steps/1/action", "schema"),
        ("/surprise", "schema"),
    ]
    assert result.errors[0].message == (
        "Input should be a valid string; Input should be a valid integer"
    )
    assert result.errors[3].message == "required field is missing"
    assert result.errors[4].message == "unknown field"


def test_semantic_errors_are_reported_too_when_the_shape_is_partly_wrong() -> None:
    raw = _pipeline(
        _step("a", "b"),
        _step("b", "a"),
        {"id": "c", "action": "log", "depends_on": ["a"], "weight": "heavy"},
        _step("d", "c", params={"message": "{{ steps.a.status }} {{ params.q }}"}),
    )
    assert _issues(raw) == [
        ("/steps/2/weight", "schema"),
        ("/steps/0/depends_on/0", "cycle"),
        ("/steps/3/params/message", "undeclared_parameter"),
    ]


def test_parameter_problems_are_reported_when_declarations_clash() -> None:
    raw = _pipeline(
        _step("a"),
        parameters=[
            {"name": "x", "type": "integer", "default": "three"},
            {"name": "x", "type": "string"},
        ],
    )
    assert _issues(raw) == [
        ("/parameters/0/default", "invalid_default"),
        ("/parameters/1/name", "duplicate_parameter"),
    ]


def test_conditional_targets_are_checked_when_they_are_not_downstream() -> None:
    raw = _pipeline(
        _step("early"),
        {
            "id": "choose",
            "action": "conditional",
            "params": {"condition": "{{ true }}", "then": ["yes", "early"], "else": ["ghost"]},
        },
        _step("yes", "choose"),
    )
    assert _issues(raw) == [
        ("/steps/1/params/then/1", "conditional_target"),
        ("/steps/1/params/else/0", "unknown_step"),
    ]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("name: [broken", "parse_error"),
        ("", "parse_error"),
        ("[1, 2]", "type"),
        (42, "type"),
    ],
)
def test_parse_problem_is_one_issue_at_the_root_when_input_is_not_an_object(
    raw: object, code: str
) -> None:
    assert _issues(raw) == [("", code)]


def test_yaml_text_is_validated_when_given_as_text() -> None:
    text = "name: y\nsteps:\n  - id: a\n    action: log\n    params: {message: hi}\n"
    assert validate_definition(text, registry=REGISTRY).ok


def test_issue_has_pointer_message_and_code_when_created() -> None:
    issue = ValidationIssue("/steps/0/id", "duplicate", "duplicate_id")
    assert (issue.pointer, issue.message, issue.code) == (
        "/steps/0/id",
        "duplicate",
        "duplicate_id",
    )


def test_topological_order_respects_dependencies_when_steps_are_listed_out_of_order() -> None:
    definition = parse_definition(
        _pipeline(_step("join", "b", "c"), _step("c", "start"), _step("start"), _step("b", "start"))
    )
    assert topological_order(definition) == ["start", "c", "b", "join"]


def test_topological_order_raises_when_there_is_a_cycle() -> None:
    definition = parse_definition(_pipeline(_step("a", "b"), _step("b", "a"), _step("c")))
    with pytest.raises(CycleError, match="a -> b -> a"):
        topological_order(definition)


def test_find_cycles_returns_nothing_when_graph_is_acyclic() -> None:
    assert find_cycles({"a": [], "b": ["a"], "c": ["a", "b"]}) == []


def test_template_that_always_fails_is_reported_when_it_is_constant() -> None:
    raw = _pipeline(
        _step("a", params={"message": "{{ 'a' * 100000000 }}"}),
        _step("b", condition="1 / 0 > 1"),
    )
    result = validate_definition(raw, registry=REGISTRY)
    assert [(i.pointer, i.code) for i in result.errors] == [
        ("/steps/0/params/message", "template_error"),
        ("/steps/1/condition", "template_error"),
    ]
    assert "too large" in result.errors[0].message


def test_deeply_nested_params_are_reported_when_validating() -> None:
    deep: object = "x"
    for _ in range(300):
        deep = {"k": deep}
    raw = _pipeline(_step("a", params={"message": deep}))
    result = validate_definition(raw, registry=REGISTRY)
    assert [(i.code, i.message) for i in result.errors] == [
        ("template_syntax", "template error: value is nested more than 200 levels deep")
    ]
    assert result.errors[0].pointer.startswith("/steps/0/params/message/k/k/")


# -- the JSON Schema subset used by action parameters ------------------------------------------

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 2, "maxLength": 4, "pattern": "^[a-z]+$"},
        "size": {"type": "integer", "minimum": 1, "maximum": 10},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "mode": {"enum": ["a", "b"]},
        "fixed": {"const": 1},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
        "either": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "extra": {"type": "object", "additionalProperties": {"type": "boolean"}},
    },
    "required": ["name"],
    "additionalProperties": False,
}


def test_schema_accepts_a_value_when_it_matches_every_keyword() -> None:
    value = {
        "name": "abc",
        "size": 3.0,
        "ratio": 0.5,
        "mode": "a",
        "fixed": 1,
        "tags": ["x"],
        "either": ["y"],
        "extra": {"on": True},
    }
    assert validate_schema(value, SCHEMA) == []


def test_schema_reports_every_problem_with_a_pointer_when_values_are_wrong() -> None:
    value = {
        "size": 11,
        "ratio": 1,
        "mode": "c",
        "fixed": 2,
        "tags": [1, "a", "b"],
        "either": 5,
        "extra": {"on": "yes"},
        "surprise": True,
    }
    assert validate_schema(value, SCHEMA) == [
        ("/name", "required parameter is missing"),
        ("/size", "must be at most 10"),
        ("/ratio", "must be less than 1"),
        ("/mode", "must be one of 'a', 'b'"),
        ("/fixed", "must be 1"),
        ("/tags", "must have at most 2 items"),
        ("/tags/0", "expected string, got integer"),
        ("/either", "does not match any of the 2 allowed forms"),
        ("/extra/on", "expected boolean, got string"),
        ("/surprise", "unknown parameter (known: either, extra, fixed, mode, name, ratio, "
         "size, tags)"),
    ]  # fmt: skip


def test_schema_checks_strings_when_length_and_pattern_are_given() -> None:
    assert validate_schema({"name": "A"}, SCHEMA) == [
        ("/name", "must have at least 2 characters"),
        ("/name", "must match the pattern ^[a-z]+$"),
    ]
    assert validate_schema(True, {"type": "integer"}) == [("", "expected integer, got boolean")]
    assert validate_schema(float("nan"), {"type": "number"}) == [
        ("", "expected number, got a non-finite number")
    ]


def test_plain_text_branch_condition_is_reported_when_it_is_not_a_template() -> None:
    raw = _pipeline(
        {
            "id": "choose",
            "action": "conditional",
            "params": {
                "condition": "params.n > 1",
                "then": ["yes"],
                "branches": [{"when": "true", "steps": []}, {"when": "x == 1", "steps": []}],
            },
        },
        _step("yes", "choose"),
    )
    result = validate_definition(raw, registry=REGISTRY)
    assert [(i.pointer, i.code) for i in result.errors] == [
        ("/steps/0/params/condition", "plain_condition"),
        ("/steps/0/params/branches/1/when", "plain_condition"),
    ]
    assert "'{{ params.n > 1 }}'" in result.errors[0].message


@pytest.mark.parametrize("name", ["", "a b", "9lives", "x" * 129])
def test_a_bad_parameter_name_is_an_issue_and_its_uses_are_not_reported_again(name: str) -> None:
    raw = _pipeline(
        _step("a", params={"message": "{{ params['" + name + "'] }}"}),
        parameters=[{"name": name}],
    )
    result = validate_definition(raw, registry=ActionRegistry.default())
    assert [(i.pointer, i.code) for i in result.errors] == [("/parameters/0/name", "schema")]
    assert "must start with a letter" in result.errors[0].message
