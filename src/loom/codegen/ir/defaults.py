"""Defaults and constraints: schema values turned into safe Python expressions.

A default reaches generated code only as a literal of a JSON scalar (``repr``, or
``py_string`` for strings) or as an enum member
name the IR chose, so schema text can never become code.
"""

from __future__ import annotations

import math
from typing import Any

from loom.codegen.ir.model import Constraints, Enum, TypeRef
from loom.codegen.pyliteral import py_string


def default_expression(
    value: object, t: TypeRef, enums: dict[str, Enum]
) -> tuple[str | None, str | None]:
    """``(default, default_factory)`` expressions for a field, or ``(None, None)``.

    Only values that fit the field's type are used: a mismatched default is dropped (the
    server applies its own default when the field is left out).
    """
    if value is None:
        return None, None
    kinds = _kinds(t)
    if isinstance(value, bool):
        return (repr(value), None) if "bool" in kinds else (None, None)
    if isinstance(value, int):
        if "int" in kinds or "float" in kinds:
            return repr(value), None
        return _enum_default(value, t, enums), None
    if isinstance(value, float):
        if "float" in kinds and math.isfinite(value):
            return repr(value), None
        return None, None
    if isinstance(value, str):
        if "str" in kinds:
            return py_string(value), None
        if "literal" in kinds and value in _literal_values(t):
            return py_string(value), None
        return _enum_default(value, t, enums), None
    if isinstance(value, list) and not value and "list" in kinds:
        return None, "list"
    if isinstance(value, dict) and not value and "dict" in kinds:
        return None, "dict"
    return None, None


def _kinds(t: TypeRef) -> set[str]:
    if t.kind == "union":
        out: set[str] = set()
        for a in t.args:
            out |= _kinds(a)
        return out
    return {t.kind}


def _literal_values(t: TypeRef) -> set[object]:
    if t.kind == "literal":
        return set(t.values)
    out: set[object] = set()
    for a in t.args:
        out |= _literal_values(a)
    return out


def _enum_default(value: str | int, t: TypeRef, enums: dict[str, Enum]) -> str | None:
    candidates = [t] if t.kind == "enum" else [a for a in t.args if a.kind == "enum"]
    for c in candidates:
        enum = enums.get(c.name)
        if enum is None:
            continue
        for m in enum.members:
            if m.value == value:
                return f"{enum.name}.{m.name}"
    return None


def _num(value: object) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _count(value: object) -> int | None:
    n = _num(value)
    return int(n) if n is not None and n >= 0 and float(n).is_integer() else None


def constraints_of(s: dict[str, Any]) -> Constraints:
    """The validation keywords of a schema that pydantic can enforce."""
    pattern = s.get("pattern")
    ge = _num(s.get("minimum"))
    le = _num(s.get("maximum"))
    gt: float | int | None = None
    lt: float | int | None = None
    ex_min = s.get("exclusiveMinimum")
    ex_max = s.get("exclusiveMaximum")
    if ex_min is True and ge is not None:  # OpenAPI 3.0: boolean modifier
        gt, ge = ge, None
    elif _num(ex_min) is not None:  # OpenAPI 3.1: the bound itself
        gt = _num(ex_min)
    if ex_max is True and le is not None:
        lt, le = le, None
    elif _num(ex_max) is not None:
        lt = _num(ex_max)
    multiple = _num(s.get("multipleOf"))
    return Constraints(
        min_length=_count(s.get("minLength")),
        max_length=_count(s.get("maxLength")),
        pattern=pattern if isinstance(pattern, str) and _valid_regex(pattern) else None,
        ge=ge,
        le=le,
        gt=gt,
        lt=lt,
        min_items=_count(s.get("minItems")),
        max_items=_count(s.get("maxItems")),
        multiple_of=multiple if multiple else None,
    )


def _valid_regex(pattern: str) -> bool:
    import re

    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return False
    return True


__all__ = ["constraints_of", "default_expression"]
