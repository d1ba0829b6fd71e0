"""Names are decided once, deterministically, and are always valid identifiers."""

from __future__ import annotations

import keyword

import pytest

from loom.codegen.ir import names as N


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("createProcessInstance", "create_process_instance"),
        ("HTTPServerError", "http_server_error"),
        ("X-Request-Id", "x_request_id"),
        ("class", "class_"),
        ("2fa", "field_2fa"),
        ("$or", "dollar_or"),
        ("café", "cafe"),
        ("", "value"),
        ("名前", "u540d_u524d"),
    ],
)
def test_snake_gives_identifier_when_name_is_unusual(raw: str, expected: str) -> None:
    assert N.snake(raw) == expected
    assert N.snake(raw).isidentifier()
    assert not keyword.iskeyword(N.snake(raw))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("process instance", "ProcessInstance"),
        ("Advanced filter", "AdvancedFilter"),
        ("1stPlace", "M1stPlace"),
        ("ÜberKey", "UberKey"),
    ],
)
def test_pascal_gives_class_name_when_name_is_unusual(raw: str, expected: str) -> None:
    assert N.pascal(raw) == expected


def test_upper_snake_gives_member_name_when_value_has_symbols() -> None:
    assert N.upper_snake("in-progress") == "IN_PROGRESS"
    assert N.upper_snake("1") == "VALUE_1"
    assert N.upper_snake("") == "EMPTY"


def test_dedupe_appends_counter_when_name_is_taken() -> None:
    assert N.dedupe("foo", {"foo", "foo2"}) == "foo3"
    assert N.dedupe("v1", {"v1"}) == "v1_2"


def test_safe_attribute_avoids_pydantic_names_when_property_collides() -> None:
    assert N.safe_attribute("model_config") == "model_config_"
    assert N.safe_attribute("copy") == "copy_"
    assert N.safe_attribute("id") == "id"


def test_short_method_name_drops_tag_words_when_they_appear_together() -> None:
    words = N.words("searchProcessInstances")
    assert N.short_method_name(words, N.words("Process instance")) == "search"
    assert N.short_method_name(N.words("getJob"), N.words("Process instance")) is None
    assert N.short_method_name(N.words("processInstance"), N.words("Process instance")) is None
