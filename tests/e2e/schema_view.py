"""Reading and checking OpenAPI 3.0 schemas: ``$ref``, ``allOf`` merging, a small validator.

``SchemaView.is_valid`` is a JSON Schema (OpenAPI 3.0 dialect) checker for the keywords that
``minimal_args`` honours, nothing more; it picks ``oneOf`` branches and checks every sample.
Patterns are ECMAScript regular expressions (OpenAPI 3.0 §4.7.24, "pattern"); ``python_pattern``
translates ``\\p{L}`` and ``\\p{N}`` to their ASCII members, so it accepts a subset of what the
real pattern accepts, and a string it accepts is valid for the real pattern too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, cast
from urllib.parse import unquote

__all__ = [
    "SchemaView",
    "UnsatisfiableSchemaError",
    "merge_into",
    "python_pattern",
    "type_of",
    "valid_number",
]

_TYPE_HINTS: Final[dict[str, str]] = {
    "properties": "object",
    "additionalProperties": "object",
    "required": "object",
    "minProperties": "object",
    "items": "array",
    "minItems": "array",
    "maxItems": "array",
    "minLength": "string",
    "maxLength": "string",
    "pattern": "string",
    "format": "string",
    "minimum": "number",
    "maximum": "number",
    "multipleOf": "number",
}


class UnsatisfiableSchemaError(ValueError):
    """No value could be built for a schema; the message names its JSON pointer."""


def python_pattern(pattern: str) -> re.Pattern[str]:
    """Compile an ECMAScript ``pattern`` as a Python regex that accepts a subset of its strings.

    ``\\p{L}`` and ``\\p{N}`` (Unicode property escapes, which Python's ``re`` lacks) become
    their ASCII members, so a string the result accepts is also accepted by the original.

    Args:
        pattern: the schema's ``pattern``.

    Returns:
        The compiled Python pattern.

    Raises:
        UnsatisfiableSchemaError: the pattern uses syntax Python cannot compile.
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            pair = pattern[i : i + 2]
            prop = re.match(r"\\[pP]\{(\w+)\}", pattern[i:])
            if prop is not None:
                name = prop.group(1)
                ascii_set = {"L": "a-zA-Z", "Lu": "A-Z", "Ll": "a-z", "N": "0-9", "Nd": "0-9"}
                members = ascii_set.get(name)
                if members is None or pair == "\\P":
                    raise UnsatisfiableSchemaError(f"unsupported property escape in {pattern!r}")
                out.append(members if in_class else f"[{members}]")
                i += len(prop.group(0))
                continue
            out.append(pair)
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    try:
        return re.compile("".join(out))
    except re.error as exc:
        raise UnsatisfiableSchemaError(f"pattern {pattern!r} does not compile: {exc}") from None


@dataclass
class SchemaView:
    """Reads and checks the schemas of one OpenAPI 3.0 document (the base of ``SchemaSampler``).

    Attributes:
        document: the whole OpenAPI document (``$ref``s are local JSON pointers into it).
        request: values are sent by a client, so ``readOnly`` properties are left out.
        strict_one_of: a ``oneOf`` value must match exactly one branch (JSON Schema); when
            false, matching several is accepted (to build a best-effort value for a schema
            whose branches overlap).
    """

    document: Mapping[str, Any]
    request: bool = True
    strict_one_of: bool = True
    _patterns: dict[str, re.Pattern[str]] = field(default_factory=dict[str, "re.Pattern[str]"])

    # -- references and allOf -----------------------------------------------------------------

    def lookup(self, pointer: str) -> Any:
        """The node at a local JSON pointer (``#/components/schemas/Foo``)."""
        if not pointer.startswith("#"):
            raise UnsatisfiableSchemaError(f"only local references are supported: {pointer}")
        node: Any = self.document
        for raw in pointer[1:].split("/")[1:]:
            token = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, list):
                node = cast("list[Any]", node)[int(token)]
            elif isinstance(node, Mapping):
                node = cast("Mapping[str, Any]", node)[token]
            else:
                raise UnsatisfiableSchemaError(f"reference {pointer} does not resolve")
        return node

    def resolve(self, schema: Any) -> dict[str, Any]:
        """The schema with ``$ref`` chains followed and ``allOf`` merged into one object."""
        seen: set[str] = set()
        node = schema
        while isinstance(node, Mapping) and "$ref" in node:
            ref = str(cast("Mapping[str, Any]", node)["$ref"])
            if ref in seen:
                raise UnsatisfiableSchemaError(f"reference cycle at {ref}")
            seen.add(ref)
            node = self.lookup(ref)
        if node is True or node is None:
            return {}
        if not isinstance(node, Mapping):
            raise UnsatisfiableSchemaError(f"not a schema: {node!r}")
        resolved = dict(cast("Mapping[str, Any]", node))
        parts = resolved.pop("allOf", None)
        if not parts:
            return resolved
        merged: dict[str, Any] = {}
        for part in [*cast("list[Any]", parts), resolved]:
            merge_into(merged, self.resolve(part))
        return merged

    def compiled(self, pattern: str) -> re.Pattern[str]:
        """``python_pattern`` of ``pattern``, cached."""
        found = self._patterns.get(pattern)
        if found is None:
            found = self._patterns[pattern] = python_pattern(pattern)
        return found

    # -- validation ---------------------------------------------------------------------------

    def is_valid(self, value: Any, schema: Any) -> bool:
        """Whether JSON ``value`` satisfies ``schema`` (the keywords ``sample`` honours)."""
        s = self.resolve(schema)
        if value is None:
            return bool(s.get("nullable")) or s.get("type") == "null" or not type_of(s)
        if "const" in s and value != s["const"]:
            return False
        enum = s.get("enum")
        if isinstance(enum, list) and value not in cast("list[Any]", enum):
            return False
        checks = (
            self._valid_type(value, s)
            and self._valid_combinators(value, s)
            and _valid_string(value, s, self)
            and valid_number(value, s)
        )
        if not checks:
            return False
        if isinstance(value, dict):
            return self._valid_object(cast("dict[str, Any]", value), s)
        if isinstance(value, list):
            items = cast("list[Any]", value)
            if len(items) < int(s.get("minItems") or 0):
                return False
            max_items = s.get("maxItems")
            if max_items is not None and len(items) > int(max_items):
                return False
            sub = s.get("items")
            return sub is None or all(self.is_valid(v, sub) for v in items)
        return True

    def _valid_type(self, value: Any, s: dict[str, Any]) -> bool:
        kind = s.get("type")
        if kind is None:
            return True
        kinds = cast("list[str]", kind) if isinstance(kind, list) else [str(kind)]
        return any(_is_type(value, k) for k in kinds)

    def _valid_combinators(self, value: Any, s: dict[str, Any]) -> bool:
        one = s.get("oneOf")
        if isinstance(one, list):
            matches = sum(1 for b in cast("list[Any]", one) if self.is_valid(value, b))
            if matches == 0 or (matches > 1 and self.strict_one_of):
                return False
        anyof = s.get("anyOf")
        if isinstance(anyof, list) and not any(
            self.is_valid(value, b) for b in cast("list[Any]", anyof)
        ):
            return False
        neg = s.get("not")
        return neg is None or not self.is_valid(value, neg)

    def _valid_object(self, value: dict[str, Any], s: dict[str, Any]) -> bool:
        props = cast("dict[str, Any]", s.get("properties") or {})
        for name in cast("list[Any]", s.get("required") or []):
            if name not in value and not (
                self.request and name in props and self.resolve(props[name]).get("readOnly")
            ):
                return False
        extra = s.get("additionalProperties")
        for name, item in value.items():
            if name in props:
                if not self.is_valid(item, props[name]):
                    return False
            elif extra is False or (isinstance(extra, Mapping) and not self.is_valid(item, extra)):
                return False
        if len(value) < int(s.get("minProperties") or 0):
            return False
        max_props = s.get("maxProperties")
        return max_props is None or len(value) <= int(max_props)


def merge_into(target: dict[str, Any], part: Mapping[str, Any]) -> None:
    """Merge one resolved ``allOf`` member into ``target`` (the stricter bound wins)."""
    for key, value in part.items():
        if key not in target:
            target[key] = value
        elif key == "properties":
            props = dict(cast("dict[str, Any]", target[key]))
            for name, sub in cast("Mapping[str, Any]", value).items():
                props[name] = {"allOf": [props[name], sub]} if name in props else sub
            target[key] = props
        elif key == "required":
            target[key] = list(dict.fromkeys([*target[key], *value]))
        elif key in ("minLength", "minItems", "minProperties", "minimum"):
            target[key] = max(target[key], value)
        elif key in ("maxLength", "maxItems", "maxProperties", "maximum"):
            target[key] = min(target[key], value)
        elif key == "additionalProperties":
            if value is False:
                target[key] = False
        elif key == "nullable":
            target[key] = bool(target[key]) and bool(value)
        elif key == "enum":
            allowed = cast("list[Any]", value)
            target[key] = [v for v in cast("list[Any]", target[key]) if v in allowed]


def type_of(s: Mapping[str, Any]) -> str | None:
    kind = s.get("type")
    if isinstance(kind, list):
        kinds = [str(k) for k in cast("list[Any]", kind) if k != "null"]
        return kinds[0] if kinds else "null"
    if isinstance(kind, str):
        return kind
    for key, hint in _TYPE_HINTS.items():
        if key in s:
            return hint
    return None


def _is_type(value: Any, kind: str) -> bool:
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return kind == "null" and value is None


def _valid_string(value: Any, s: Mapping[str, Any], view: SchemaView) -> bool:
    if not isinstance(value, str):
        return True
    if len(value) < int(s.get("minLength") or 0):
        return False
    max_len = s.get("maxLength")
    if max_len is not None and len(value) > int(max_len):
        return False
    pattern = s.get("pattern")
    return not isinstance(pattern, str) or view.compiled(pattern).search(value) is not None


def valid_number(value: Any, s: Mapping[str, Any]) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True
    lo, hi = s.get("minimum"), s.get("maximum")
    excl_lo, excl_hi = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")
    if lo is not None and (value < lo or (excl_lo is True and value == lo)):
        return False
    if hi is not None and (value > hi or (excl_hi is True and value == hi)):
        return False
    if not isinstance(excl_lo, bool) and excl_lo is not None and value <= excl_lo:
        return False
    if not isinstance(excl_hi, bool) and excl_hi is not None and value >= excl_hi:
        return False
    step = s.get("multipleOf")
    return not step or math.isclose(value / step, round(value / step))
