"""The sandboxed template language: values, filters, references, and refused escapes."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from loom.engine.templates import (
    TemplateError,
    as_template,
    check_constants,
    check_syntax,
    evaluate_condition,
    evaluate_expression,
    find_references,
    render,
)

CONTEXT: dict[str, Any] = {
    "params": {
        "name": "Ada",
        "count": 3,
        "ratio": 0.5,
        "flag": True,
        "tags": ["b", "a", "b"],
        "nested": {"key-with-dash": {"deep": [10, 20, 30]}},
        "none": None,
    },
    "steps": {
        "fetch": {
            "outputs": {"items": [3, 1, 2], "user": {"name": "x"}, "empty": []},
            "status": "completed",
            "error": None,
        },
        "fetch-data": {"outputs": {"n": 7}, "status": "completed", "error": None},
    },
    "execution": {"id": "exec-1", "pipeline": "demo", "initiator": "ci"},
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ params.count }}", 3),
        ("{{ params.ratio }}", 0.5),
        ("{{ params.flag }}", True),
        ("{{ params.none }}", None),
        ("{{ steps.fetch.outputs.items }}", [3, 1, 2]),
        ("{{ steps.fetch.outputs.user }}", {"name": "x"}),
        ("  {{ params.count }}  ", 3),
        ('{{ params.nested["key-with-dash"].deep[1] }}', 20),
        ("{{ params.nested['key-with-dash'].deep[-1] }}", 30),
        ('{{ steps["fetch-data"].outputs.n }}', 7),
        ("{{ [1, params.count, 'x'] }}", [1, 3, "x"]),
        ('{{ {"a": params.count, "b": {"c": [1]}} }}', {"a": 3, "b": {"c": [1]}}),
    ],
)
def test_single_expression_keeps_its_type_when_rendered(template: str, expected: object) -> None:
    assert render(template, CONTEXT) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("hello {{ params.name }}!", "hello Ada!"),
        ("{{ params.count }} items", "3 items"),
        ("flag={{ params.flag }}", "flag=true"),
        ("none=[{{ params.none }}]", "none=[]"),
        ("list={{ steps.fetch.outputs.items }}", "list=[3, 1, 2]"),
        ("{{ params.name }}-{{ execution.id }}", "Ada-exec-1"),
        ("no template at all", "no template at all"),
        ('{{ "}}" }} and {{ "{{" }}', "}} and {{"),
    ],
)
def test_mixed_text_becomes_a_string_when_rendered(template: str, expected: str) -> None:
    assert render(template, CONTEXT) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("params.count + 2 * 3", 9),
        ("(params.count + 2) * 3", 15),
        ("params.count / 2", 1.5),
        ("params.count // 2", 1),
        ("params.count % 2", 1),
        ("-params.count", -3),
        ("'a' + 'b'", "ab"),
        ("'n' ~ params.count", "n3"),
        ("[1] + [2]", [1, 2]),
        ("params.count > 2 and params.flag", True),
        ("params.count < 2 or params.name == 'Ada'", True),
        ("not params.flag", False),
        ("'a' in params.tags", True),
        ("'z' not in params.tags", True),
        ("'d' in params.name", True),
        ("'key-with-dash' in params.nested", True),
        ("'big' if params.count > 2 else 'small'", "big"),
        ("'big' if params.count > 5 else 'small'", "small"),
        ("params.missing is defined", False),
        ("params.count is not none", True),
        ("params.missing or 'fallback'", "fallback"),
        ("null == none", True),
        ("1.5e2", 150.0),
    ],
)
def test_expression_has_expected_value_when_evaluated(expression: str, expected: object) -> None:
    assert evaluate_expression(expression, CONTEXT) == expected
    assert render("{{ " + expression + " }}", CONTEXT) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("params.name | upper", "ADA"),
        ("params.name | lower", "ada"),
        ("params.missing | default(5)", 5),
        ("params.none | default('x')", "x"),
        ("'' | default('x', true)", "x"),
        ("params.count | default(9)", 3),
        ("steps.fetch.outputs.items | length", 3),
        ("params.tags | join(',')", "b,a,b"),
        ("params.tags | join", "bab"),
        ("{'a': 1} | tojson", '{"a": 1}'),
        ("'42' | int", 42),
        ("'4.5' | float", 4.5),
        ("4.7 | int", 4),
        ("12 | string", "12"),
        ("3.14159 | round(2)", 3.14),
        ("2.6 | round", 3),
        ("{'a': 1, 'b': 2} | keys", ["a", "b"]),
        ("{'a': 1, 'b': 2} | values", [1, 2]),
        ("steps.fetch.outputs.items | first", 3),
        ("steps.fetch.outputs.items | last", 2),
        ("steps.fetch.outputs.empty | first", None),
        ("steps.fetch.outputs.items | sum", 6),
        ("[0.5, 0.25] | sum", 0.75),
        ("steps.fetch.outputs.items | min", 1),
        ("steps.fetch.outputs.items | max", 3),
        ("steps.fetch.outputs.items | sort", [1, 2, 3]),
        ("steps.fetch.outputs.items | sort(true)", [3, 2, 1]),
        ("params.tags | unique", ["b", "a"]),
        ("'a-b-c' | replace('-', '+')", "a+b+c"),
        ("'  x  ' | trim", "x"),
        ("'a,b' | split(',')", ["a", "b"]),
        ("'a b' | split", ["a", "b"]),
        ("(-3) | abs", 3),
        ("-3 | abs", -3),  # filters bind tighter than unary minus, as in Jinja
        ("'[1, 2]' | fromjson", [1, 2]),
        ("'abc' | reverse", "cba"),
        ("params.tags | sort | unique | join('/') | upper", "A/B"),
        ("1 + params.tags | length", 4),
    ],
)
def test_filter_applies_when_named(expression: str, expected: object) -> None:
    assert evaluate_expression(expression, CONTEXT) == expected


def test_render_walks_containers_without_touching_keys_when_given_a_dict() -> None:
    value = {"{{ params.name }}": ["{{ params.count }}", {"x": "n={{ params.count }}"}], "k": 5}
    rendered = render(value, CONTEXT)
    assert rendered == {"{{ params.name }}": [3, {"x": "n=3"}], "k": 5}
    assert value["k"] == 5  # the input is not modified


def test_error_carries_the_pointer_when_a_nested_value_fails() -> None:
    with pytest.raises(TemplateError) as caught:
        render({"a": [1, {"b": "{{ params.nope + 1 }}"}]}, CONTEXT)
    assert caught.value.pointer == "/a/1/b"
    assert "params.nope" in caught.value.message


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("{{ params.nope }}", "is undefined"),
        ("{{ nothing }}", "unknown name 'nothing'"),
        ("{{ params.name + 1 }}", "cannot apply"),
        ("{{ params.count / 0 }}", "division by zero"),
        ("{{ params.tags['x'] }}", "indexed by an integer"),
        ("{{ params.count.x }}", "cannot read"),
        ("{{ 'abc' | int }}", "cannot convert"),
        ("{{ params.count | upper }}", "needs a string"),
        ("{{ [1, 'a'] | sort }}", "comparable"),
        ("{{ 'x' | fromjson }}", "not JSON"),
    ],
)
def test_evaluation_fails_clearly_when_the_expression_is_wrong(
    template: str, fragment: str
) -> None:
    with pytest.raises(TemplateError, match=fragment):
        render(template, CONTEXT)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (None, True),
        (True, True),
        (False, False),
        ("params.count > 2", True),
        ("{{ params.count > 5 }}", False),
        ("{{ params.missing }}", False),
        ("params.missing", False),
        ("steps.fetch.status == 'completed'", True),
        ("{{ params.flag }} ", True),
        ("x{{ '' }}", True),
        ("{{ 'false' }}{{ '' }}", False),
        ("{{ 'no' }} ", False),
        ("{{ steps.fetch.outputs.empty }}", False),
    ],
)
def test_condition_reads_as_boolean_when_evaluated(
    condition: str | bool | None, expected: bool
) -> None:
    assert evaluate_condition(condition, CONTEXT) is expected


def test_bare_condition_becomes_a_template_when_wrapped() -> None:
    assert as_template("a > 1") == "{{ a > 1 }}"
    assert as_template("{{ a }}") == "{{ a }}"
    assert as_template(True) is True
    assert as_template(None) is None


def test_references_are_constant_paths_when_templates_read_the_context() -> None:
    value = {
        "a": "{{ steps.fetch.outputs.items[0] + params['count'] }}",
        "b": ["{{ params.nested[params.name].deep }}", "plain"],
        "c": "{{ execution.id }} {{ steps['fetch-data'].status | upper }}",
        "d": "{{ steps.fetch.outputs.items }}",
    }
    assert find_references(value) == [
        ("steps", "fetch", "outputs", "items"),
        ("params", "count"),
        ("params", "nested"),
        ("params", "name"),
        ("execution", "id"),
        ("steps", "fetch-data", "status"),
    ]


def test_references_skip_broken_templates_when_syntax_is_wrong() -> None:
    assert find_references(["{{ params.a", "{{ params.b }}"]) == [("params", "b")]


def test_syntax_problems_are_listed_with_pointers_when_checked() -> None:
    problems = check_syntax(
        {"ok": "{{ params.a }}", "bad": ["{{ (1 + }}", "{{ x | nope }}"], "open": "{{ a"}
    )
    pointers = [pointer for pointer, _ in problems]
    assert pointers == ["/bad/0", "/bad/1", "/open"]
    assert "unknown filter 'nope'" in problems[1][1]
    assert "never closed" in problems[2][1]


@pytest.mark.parametrize(
    "source",
    [
        "{{ }}",
        "{{ 1 + }}",
        "{{ a b }}",
        "{{ a < b < c }}",
        "{{ a if b }}",
        "{{ x | default }}",
        "{{ x | replace('a') }}",
        "{{ 'unclosed }}",
        "{{ a.0 }}",
        "{{ a @ b }}",
        "{{ x is weird }}",
    ],
)
def test_syntax_error_is_reported_when_template_is_malformed(source: str) -> None:
    assert check_syntax(source)
    with pytest.raises(TemplateError):
        render(source, CONTEXT)


# -- sandbox ---------------------------------------------------------------------------------

ESCAPES = [
    "{{ params.__class__ }}",
    "{{ params['__class__'] }}",
    "{{ params.name.__class__.__mro__ }}",
    "{{ __globals__ }}",
    "{{ params.__globals__ }}",
    "{{ ().__class__.__bases__[0].__subclasses__() }}",
    "{{ ''.__class__ }}",
    "{{ params.name.upper() }}",
    "{{ params.__init__.__globals__['os'] }}",
    "{{ __import__('os').system('echo pwned') }}",
    "{{ [].__class__ }}",
    "{{ params | attr('__class__') }}",
    "{{ lipsum.__globals__ }}",
    "{{ self.__dict__ }}",
    "{{ execution['__dict__'] }}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_escape_attempt_is_refused_when_template_reaches_for_python_internals(
    source: str,
) -> None:
    started = time.perf_counter()
    with pytest.raises(TemplateError):
        render(source, CONTEXT)
    assert check_syntax(source) or _fails_at_runtime(source)
    assert time.perf_counter() - started < 2.0


def _fails_at_runtime(source: str) -> bool:
    try:
        render(source, CONTEXT)
    except TemplateError:
        return True
    return False


RESOURCE_BOMBS = [
    "{{ 'a' * 100000000 }}",
    "{{ 100000000 * 'a' }}",
    "{{ [0] * 100000000 }}",
    "{{ ('a' * 1000000) + ('a' * 1000000) }}",
    "{{ ('a' * 1000000) ~ ('a' * 1000000) }}",
    "{{ ('ab' * 500000) | replace('a', 'aaaa') }}",
    "{{ ['xxxxxxxxxx'] * 100000 | join('yyyyyyyyyy') }}",
    "{{ 99999999999999999999 * 99999999999999999999 * 99999999999999999999 * 9999999999 * "
    "99999999999999999999999999999 * 9999999999999999999999999999 * 999999999999999999999 * "
    "999999999999999999999999999999999999 * 9999999999999999999999999999999999999999999 * "
    "99999999999999999999999999999999999999999999999999999999999999999999999999999999999 * "
    "99999999999999999999999999999999999999999999999999999999999999999999999999999999999 }}",
    "{{ " + "(" * 200 + "1" + ")" * 200 + " }}",
    "{{ " + "[" * 200 + "]" * 200 + " }}",
    "{{ " + " + ".join(["1"] * 5000) + " }}",
    "{{ " + "not " * 500 + "true }}",
    "{{ " + "- " * 500 + "1 }}",
    "{{ params.name" + " | upper" * 500 + " }}",
    "{{ a" + ".b" * 500 + " }}",
    "x" * 70_000 + "{{ 1 }}",
    "{{ 1 }}" * 10_000,
    "{{ 1e999 * 1 }}",
]


@pytest.mark.parametrize("source", RESOURCE_BOMBS, ids=range(len(RESOURCE_BOMBS)))
def test_resource_bomb_is_refused_quickly_when_rendered(source: str) -> None:
    started = time.perf_counter()
    with pytest.raises(TemplateError):
        render(source, CONTEXT)
    assert time.perf_counter() - started < 2.0


def test_rendering_large_output_is_refused_when_many_templates_add_up() -> None:
    value = {f"k{i}": "x{{ 'a' * 500000 }}" for i in range(4)}
    with pytest.raises(TemplateError, match="larger than"):
        render(value, CONTEXT)


def test_big_but_allowed_values_render_when_within_bounds() -> None:
    assert len(render("{{ 'a' * 1000000 }}", CONTEXT)) == 1_000_000
    assert len(render("{{ [0] * 100000 }}", CONTEXT)) == 100_000


def test_context_is_not_mutated_when_filters_sort_and_reverse() -> None:
    items = CONTEXT["steps"]["fetch"]["outputs"]["items"]
    render(
        "{{ steps.fetch.outputs.items | sort }}{{ steps.fetch.outputs.items | reverse }}", CONTEXT
    )
    assert items == [3, 1, 2]


def test_python_objects_in_the_context_expose_no_attributes_when_read() -> None:
    context = {"params": {"obj": object(), "fn": print}}
    with pytest.raises(TemplateError, match="cannot read"):
        render("{{ params.obj.anything }}", context)
    with pytest.raises(TemplateError, match="calls are not allowed"):
        render("{{ params.fn('x') }}", context)


def test_constant_failures_are_found_before_running_when_checked() -> None:
    problems = check_constants(
        {
            "bomb": "{{ 'a' * 100000000 }}",
            "mixed": "{{ params.x ~ (1 / 0) }}",
            "fine": "{{ params.x | default(2) }} {{ [1, 2] | join(',') }}",
            "replace": "{{ ('x' * 1000000) | replace('x', 'yy') }}",
        }
    )
    assert problems == [
        ("/bomb", "result is too large (100000000 characters, at most 1048576)"),
        ("/mixed", "division by zero"),
        ("/replace", "result is too large (2000000 characters, at most 1048576)"),
    ]


_FUZZ_TOKENS = [
    "params", "steps", "execution", ".", "[", "]", "(", ")", "{", "}", ",", ":", "|", "+", "-",
    "*", "/", "//", "%", "~", "==", "!=", "<", ">=", "and", "or", "not", "in", "is", "if",
    "else", "defined", "none", "1", "0", "-1", "2.5", "1e308", "'a'", '"b"', "'-'", "true",
    "null", "name", "count", "tags", "nested", "fetch", "outputs", "items", "upper", "default",
    "length", "join", "tojson", "int", "float", "round", "keys", "sort", "unique", "replace",
    "split", "sum", "min", "max", "first", "fromjson", "__class__", "[]", "{}", "100000",
]  # fmt: skip


def test_random_token_soup_only_raises_template_errors_when_rendered() -> None:
    rng = random.Random(20261122)
    outcomes = {"ok": 0, "error": 0}
    started = time.perf_counter()
    for _ in range(3000):
        source = "{{ " + " ".join(rng.choices(_FUZZ_TOKENS, k=rng.randint(1, 12))) + " }}"
        try:
            render(source, CONTEXT)
            evaluate_condition(source, CONTEXT)
        except TemplateError:
            outcomes["error"] += 1
        else:
            outcomes["ok"] += 1
        check_syntax(source)
        check_constants(source)
        find_references(source)
    assert outcomes["ok"] > 0
    assert outcomes["error"] > 0
    assert time.perf_counter() - started < 30


def test_every_whitelisted_filter_has_an_implementation_when_listed() -> None:
    from loom.engine.templates import FILTERS as NAMES
    from loom.engine.templates._filters import FILTER_ARITY, FILTERS

    assert set(NAMES) == set(FILTER_ARITY)
    assert set(FILTERS) | {"default"} == set(FILTER_ARITY)


def test_deeply_nested_value_is_refused_when_rendered_or_checked() -> None:
    deep: object = "{{ params.count }}"
    for _ in range(300):
        deep = [deep]
    with pytest.raises(TemplateError, match="nested more than 200 levels"):
        render(deep, CONTEXT)
    problems = check_syntax(deep)
    assert len(problems) == 1
    assert problems[0][0] == "/0" * 200
    assert find_references(deep) == []
    assert check_constants(deep) == []


def test_evaluation_stops_when_the_time_budget_is_used_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from loom.engine.templates import _eval

    monkeypatch.setattr(_eval, "MAX_EVALUATION_SECONDS", 0.0)
    with pytest.raises(TemplateError, match="takes longer than"):
        render("{{ ('a' * 20000) | length }}", CONTEXT)
    monkeypatch.undo()
    assert render("{{ ('a' * 20000) | length }}", CONTEXT) == 20000
