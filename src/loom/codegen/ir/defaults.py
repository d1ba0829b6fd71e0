"""Defaults and constraints: schema values turned into safe Python expressions.

A default reaches generated code only as a literal of a JSON scalar (``repr``, or
``py_string`` for strings) or as an enum member
name the IR chose, so schema text can never become code.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from typing import Any, cast

from loom.codegen.ir.model import Alias, Constraints, Enum, TypeRef
from loom.codegen.pyliteral import py_string


def default_expression(
    value: object,
    t: TypeRef,
    enums: dict[str, Enum],
    aliases: dict[str, Alias] | None = None,
) -> tuple[str | None, str | None]:
    """``(default, default_factory)`` expressions for a field, or ``(None, None)``.

    Only values that fit the field's type are used (``default_problem`` says why one does not:
    the caller names it in a diagnostic; the server applies its own default when the field is
    left out).
    """
    if value is None:
        return None, None
    t = _unalias(t, aliases or {})
    kinds = _kinds(t)
    if isinstance(value, bool):
        if "bool" in kinds or (True in _literal_values(t) or False in _literal_values(t)):
            return repr(value), None
        return None, None
    if isinstance(value, int | float) and "literal" in kinds and value in _literal_values(t):
        return repr(value), None
    if isinstance(value, int):
        if "int" in kinds or "float" in kinds:
            return repr(value), None
        return _enum_default(value, t, enums), None
    if isinstance(value, float):
        if "float" in kinds and math.isfinite(value):
            return repr(value), None
        return None, None
    if isinstance(value, str):
        return _string_default(value, t, kinds, enums), None
    if isinstance(value, list | dict):
        return None, _container_factory(cast(Any, value), t)
    return None, None


def default_problem(value: object, t: TypeRef) -> str:
    """Why ``value`` is not a default of type ``t``, as the end of a diagnostic sentence."""
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return (
        f"default {shown} does not fit the type ({_describe(t)}); the field is generated without it"
    )


def _unalias(t: TypeRef, aliases: dict[str, Alias]) -> TypeRef:
    seen: set[str] = set()
    while t.kind == "alias" and t.name in aliases and t.name not in seen:
        seen.add(t.name)
        t = aliases[t.name].target.with_nullable(t.nullable or aliases[t.name].target.nullable)
    return t


def _describe(t: TypeRef) -> str:
    if t.kind == "union":
        return " | ".join(_describe(a) for a in t.args)
    if t.kind == "literal":
        return "one of " + ", ".join(repr(v) for v in t.values)
    return t.name or t.kind


_CLOCK = re.compile(r"\bdatetime\.(date|datetime|time|timezone|timedelta)\b")


def _string_default(value: str, t: TypeRef, kinds: set[str], enums: dict[str, Enum]) -> str | None:
    if "str" in kinds:
        return py_string(value)
    if "literal" in kinds and value in _literal_values(t):
        return py_string(value)
    member = _enum_default(value, t, enums)
    if member is not None:
        return member
    # A date, date-time or time default: the constructor call, built from the parsed value so
    # that nothing of the schema's text reaches the code (``_dt`` is the annotation's import).
    for kind, parse in (
        ("date", dt.date.fromisoformat),
        ("datetime", dt.datetime.fromisoformat),
        ("time", dt.time.fromisoformat),
    ):
        if kind in kinds:
            try:
                parsed = parse(value)
            except ValueError:
                continue
            return _CLOCK.sub(r"_dt.\1", repr(parsed)).replace("_dt.timezone.utc", "_dt.UTC")
    if "uuid" in kinds:
        try:
            return f"UUID({py_string(str(uuid.UUID(value)))})"
        except ValueError:
            return None
    semantic = next((a for a in (t, *t.args) if a.kind == "semantic"), None)
    if semantic is not None:
        return f"{semantic.name}({py_string(value)})"
    return None


def _container_factory(value: list[Any] | dict[str, Any], t: TypeRef) -> str | None:
    """``list``/``dict`` for an empty default, else a ``lambda`` building the literal; only
    for containers of JSON scalars whose types the field accepts."""
    for member in (t, *t.args) if t.kind == "union" else (t,):
        if isinstance(value, list) and member.kind == "list":
            item_kinds = _kinds(member.args[0]) if member.args else {"any"}
            if not value:
                return "list"
            if all(_scalar_fits(v, item_kinds) for v in value):
                return "lambda: [" + ", ".join(_scalar(v) for v in value) + "]"
        if isinstance(value, dict) and member.kind == "dict":
            value_kinds = _kinds(member.args[0]) if member.args else {"any"}
            if not value:
                return "dict"
            if all(_scalar_fits(v, value_kinds) for v in value.values()):
                pairs = ", ".join(f"{py_string(k)}: {_scalar(v)}" for k, v in value.items())
                return "lambda: {" + pairs + "}"
    return None


def _scalar_fits(value: object, kinds: set[str]) -> bool:
    if "any" in kinds:
        return isinstance(value, str | int | float | bool) or value is None
    if isinstance(value, bool):
        return "bool" in kinds
    if isinstance(value, int):
        return bool(kinds & {"int", "float"})
    if isinstance(value, float):
        return "float" in kinds and math.isfinite(value)
    return isinstance(value, str) and "str" in kinds


def _scalar(value: object) -> str:
    return py_string(value) if isinstance(value, str) else repr(value)


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


__all__ = ["constraints_of", "default_expression", "default_problem"]
