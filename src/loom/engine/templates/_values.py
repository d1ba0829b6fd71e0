"""Values of the template language: limits, ``Undefined``, text conversion, size checks."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import cast

from loom.engine.templates._errors import TemplateError

__all__ = [
    "MAX_COLLECTION_ITEMS",
    "MAX_EVALUATION_SECONDS",
    "MAX_EVALUATION_STEPS",
    "MAX_INTEGER_BITS",
    "MAX_OUTPUT_CHARS",
    "Undefined",
    "as_list",
    "check_int",
    "check_items",
    "check_text",
    "dump_json",
    "hash_key",
    "to_text",
    "type_name",
]

MAX_OUTPUT_CHARS = 1024 * 1024
MAX_COLLECTION_ITEMS = 100_000
MAX_EVALUATION_STEPS = 1_000_000
MAX_EVALUATION_SECONDS = 1.0
MAX_INTEGER_BITS = 1024


class Undefined:
    """A missing key: falsy, replaced by ``default``, an error anywhere else it is used."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self) -> TemplateError:
        """The error to raise when the missing value is used."""
        return TemplateError(f"{self.path!r} is undefined")


def type_name(value: object) -> str:
    """The JSON-ish name of a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return "value"


def check_text(size: int) -> None:
    """Fail when a string of ``size`` characters would be too large."""
    if size > MAX_OUTPUT_CHARS:
        raise TemplateError(f"result is too large ({size} characters, at most {MAX_OUTPUT_CHARS})")


def check_items(size: int) -> None:
    """Fail when a list of ``size`` items would be too large."""
    if size > MAX_COLLECTION_ITEMS:
        raise TemplateError(f"result is too large ({size} items, at most {MAX_COLLECTION_ITEMS})")


def check_int(value: object) -> object:
    """Fail when a number is too large (integers) or not finite (floats); else return it."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > MAX_INTEGER_BITS:
            raise TemplateError("number is too large")
    elif isinstance(value, float) and not math.isfinite(value):
        raise TemplateError("number is too large (not finite)")
    return value


def to_text(value: object) -> str:
    """How a value appears inside a larger string (JSON-like: ``true``, ``null`` is empty)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Undefined):
        raise value.fail()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return dump_json(value)


def dump_json(value: object) -> str:
    """``value`` as one line of JSON text, within the size bound."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"value cannot be written as JSON: {exc}") from None
    check_text(len(text))
    return text


def as_list(value: object, filter_name: str) -> list[object]:
    """The items of a list, the characters of a string or the keys of an object."""
    if isinstance(value, str):
        return list(value)
    if isinstance(value, Mapping):
        return list(cast("Mapping[object, object]", value))
    if isinstance(value, list | tuple):
        return list(cast("Sequence[object]", value))
    raise TemplateError(f"filter {filter_name!r} needs a list, got {type_name(value)}")


def hash_key(item: object) -> object:
    """A hashable stand-in for ``item`` (JSON text for lists and objects), for ``unique``."""
    try:
        hash(item)
    except TypeError:
        return json.dumps(item, sort_keys=True, default=str)
    return (type(item).__name__, item)
