"""A small JSON Schema checker for action parameters.

It covers the keywords the action schemas use: ``type`` (one or a list), ``properties``,
``required``, ``additionalProperties``, ``items``, ``enum``, ``const``, ``minimum``,
``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``, ``minLength``, ``maxLength``,
``minItems``, ``maxItems``, ``pattern`` and ``anyOf``/``oneOf`` (both read as "any of").
Unknown keywords are ignored, as JSON Schema prescribes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, cast

from loom.engine.pointers import escape_pointer

__all__ = ["json_type_name", "validate_schema"]

_MAX_ERRORS = 50


def json_type_name(value: object) -> str:
    """The JSON type of a Python value (``integer`` before ``number``; ``bool`` is boolean)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _is_type(value: object, type_name: str) -> bool:
    actual = json_type_name(value)
    if type_name == "number":
        return actual in ("integer", "number") and (
            not isinstance(value, float) or math.isfinite(value)
        )
    if type_name == "integer" and isinstance(value, float):
        return math.isfinite(value) and value.is_integer()
    return actual == type_name


def validate_schema(
    value: object,
    schema: Mapping[str, Any],
    *,
    skip: Callable[[object], bool] | None = None,
    pointer: str = "",
) -> list[tuple[str, str]]:
    """Check ``value`` against ``schema``.

    Args:
        value: the value to check.
        schema: a JSON schema using the keywords listed in the module docstring.
        skip: values for which this returns true are accepted without checks (templates).
        pointer: the JSON pointer of ``value`` (prefix of the reported pointers).

    Returns:
        ``(pointer, message)`` for every problem (at most 50); empty when valid.
    """
    errors: list[tuple[str, str]] = []
    _check(value, schema, skip, pointer, errors)
    return errors[:_MAX_ERRORS]


def _check(
    value: object,
    schema: Mapping[str, Any],
    skip: Callable[[object], bool] | None,
    pointer: str,
    errors: list[tuple[str, str]],
) -> None:
    if len(errors) >= _MAX_ERRORS or (skip is not None and skip(value)):
        return
    for keyword in ("anyOf", "oneOf"):
        options = schema.get(keyword)
        if isinstance(options, list) and options:
            branches = cast("list[Mapping[str, Any]]", options)
            if all(
                validate_schema(value, option, skip=skip, pointer=pointer) for option in branches
            ):
                errors.append((pointer, f"does not match any of the {len(branches)} allowed forms"))
                return
    declared = schema.get("type")
    if declared is not None:
        types = [declared] if isinstance(declared, str) else cast("list[str]", declared)
        if not any(_is_type(value, t) for t in types):
            got = json_type_name(value)
            if isinstance(value, float) and not math.isfinite(value):
                got = "a non-finite number"
            errors.append((pointer, f"expected {' or '.join(types)}, got {got}"))
            return
    if "const" in schema and value != schema["const"]:
        errors.append((pointer, f"must be {schema['const']!r}"))
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        allowed = ", ".join(repr(v) for v in cast("list[object]", enum))
        errors.append((pointer, f"must be one of {allowed}"))
    if isinstance(value, int | float) and not isinstance(value, bool):
        _check_number(value, schema, pointer, errors)
    elif isinstance(value, str):
        _check_string(value, schema, pointer, errors)
    elif isinstance(value, list | tuple):
        _check_array(cast("list[object]", list(value)), schema, skip, pointer, errors)  # pyright: ignore[reportUnknownArgumentType] -- element type is unknown by nature
    elif isinstance(value, Mapping):
        _check_object(cast("Mapping[str, object]", value), schema, skip, pointer, errors)


def _check_number(
    value: float, schema: Mapping[str, Any], pointer: str, errors: list[tuple[str, str]]
) -> None:
    minimum = schema.get("minimum")
    if minimum is not None and value < minimum:
        errors.append((pointer, f"must be at least {minimum}"))
    maximum = schema.get("maximum")
    if maximum is not None and value > maximum:
        errors.append((pointer, f"must be at most {maximum}"))
    exclusive_minimum = schema.get("exclusiveMinimum")
    if exclusive_minimum is not None and value <= exclusive_minimum:
        errors.append((pointer, f"must be greater than {exclusive_minimum}"))
    exclusive_maximum = schema.get("exclusiveMaximum")
    if exclusive_maximum is not None and value >= exclusive_maximum:
        errors.append((pointer, f"must be less than {exclusive_maximum}"))


def _check_string(
    value: str, schema: Mapping[str, Any], pointer: str, errors: list[tuple[str, str]]
) -> None:
    min_length = schema.get("minLength")
    if min_length is not None and len(value) < min_length:
        errors.append((pointer, f"must have at least {min_length} characters"))
    max_length = schema.get("maxLength")
    if max_length is not None and len(value) > max_length:
        errors.append((pointer, f"must have at most {max_length} characters"))
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and re.search(pattern, value) is None:
        errors.append((pointer, f"must match the pattern {pattern}"))


def _check_array(
    value: list[object],
    schema: Mapping[str, Any],
    skip: Callable[[object], bool] | None,
    pointer: str,
    errors: list[tuple[str, str]],
) -> None:
    min_items = schema.get("minItems")
    if min_items is not None and len(value) < min_items:
        errors.append((pointer, f"must have at least {min_items} items"))
    max_items = schema.get("maxItems")
    if max_items is not None and len(value) > max_items:
        errors.append((pointer, f"must have at most {max_items} items"))
    items = schema.get("items")
    if isinstance(items, Mapping):
        item_schema = cast("Mapping[str, Any]", items)
        for index, item in enumerate(value):
            _check(item, item_schema, skip, f"{pointer}/{index}", errors)


def _check_object(
    value: Mapping[str, object],
    schema: Mapping[str, Any],
    skip: Callable[[object], bool] | None,
    pointer: str,
    errors: list[tuple[str, str]],
) -> None:
    properties = cast("Mapping[str, Mapping[str, Any]]", schema.get("properties") or {})
    required = cast("list[str]", schema.get("required") or [])
    for name in required:
        if name not in value:
            errors.append((f"{pointer}/{escape_pointer(name)}", "required parameter is missing"))
    additional = schema.get("additionalProperties", True)
    for key, item in value.items():
        child = f"{pointer}/{escape_pointer(str(key))}"
        if key in properties:
            _check(item, properties[key], skip, child, errors)
        elif additional is False:
            known = ", ".join(sorted(properties)) or "none"
            errors.append((child, f"unknown parameter (known: {known})"))
        elif isinstance(additional, Mapping):
            _check(item, cast("Mapping[str, Any]", additional), skip, child, errors)
