"""Swagger 2.0 Schema Objects (a JSON Schema draft 4 subset) to OpenAPI 3.0 Schema Objects.

What changes (Swagger 2.0 §Schema Object, OpenAPI 3.0.3 §4.7.24):

- ``type: file`` → ``type: string, format: binary``;
- ``x-nullable: true`` → ``nullable: true`` (also beside a ``$ref``, which loom honours);
- ``discriminator: petType`` (a property name) → ``discriminator: {propertyName: petType}``;
- ``required: true`` written inside a property (invalid, but common) → the parent's ``required``;
- ``$ref``s are handed to a callback that records them; the converter rewrites the local ones
  (``#/definitions/Pet`` → ``#/components/schemas/Pet``) once it knows where everything went.

Examples, defaults, enums and ``x-`` extensions are data and are copied untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from loom.codegen.sources.swagger2.pointers import Loc, render

RefSink = Callable[[dict[str, Any], str], None]
"""Called with each converted node that holds a ``$ref`` and the input pointer of that node."""

_MAPS = ("properties", "patternProperties", "definitions")
_LISTS = ("allOf", "anyOf", "oneOf")
_SINGLES = ("additionalProperties", "not")
_SCHEMA_KEYS = frozenset(
    {"type", "properties", "allOf", "items", "$ref", "enum", "additionalProperties", "format"}
)


def looks_like_schema(node: object) -> bool:
    """Whether a mapping has any keyword that only a schema has."""
    return isinstance(node, dict) and not _SCHEMA_KEYS.isdisjoint(cast("dict[str, Any]", node))


def convert_schema(node: Any, pointer: Loc, refs: RefSink | None, depth: int = 0) -> Any:
    """Convert one schema (and everything nested in it).

    Args:
        node: the Swagger 2.0 schema; anything that is not a mapping is returned as it is.
        pointer: where ``node`` sits in the input (a pointer or a ``Loc``), for ``refs``.
        refs: receives every node with a ``$ref``; ``None`` leaves references as written.
        depth: nesting so far (the parser already bounds it; this only guards recursion).

    Returns:
        A new OpenAPI 3.0 schema; the input is not modified.
    """
    if not isinstance(node, dict) or depth > 200:
        return cast(Any, node)
    schema = cast("dict[str, Any]", node)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _MAPS and isinstance(value, dict):
            out[key] = {
                name: convert_schema(sub, ((pointer, key), name), refs, depth + 1)
                for name, sub in cast("dict[str, Any]", value).items()
            }
        elif key in _LISTS and isinstance(value, list):
            out[key] = [
                convert_schema(sub, ((pointer, key), i), refs, depth + 1)
                for i, sub in enumerate(cast("list[Any]", value))
            ]
        elif key == "items" and isinstance(value, list):
            # draft 4 tuple items; OpenAPI 3.0 has none: the first item's schema stands for all
            items = cast("list[Any]", value)
            out[key] = (
                convert_schema(items[0], ((pointer, key), 0), refs, depth + 1) if items else {}
            )
        elif key == "items" or key in _SINGLES:
            out[key] = convert_schema(value, (pointer, key), refs, depth + 1)
        elif key == "x-nullable":
            if value is True:
                out["nullable"] = True
        elif key == "discriminator" and isinstance(value, str):
            out[key] = {"propertyName": value}
        elif key == "required" and isinstance(value, bool):
            continue  # lifted into the parent below
        else:
            out[key] = value
    if out.get("type") == "file":
        out["type"] = "string"
        out["format"] = "binary"
    _lift_required(schema, out)
    if isinstance(out.get("$ref"), str) and refs is not None:
        refs(out, render(pointer))
    return out


def _lift_required(schema: dict[str, Any], out: dict[str, Any]) -> None:
    """``properties: {id: {required: true}}`` → ``required: [id]`` (the draft 3 form)."""
    properties = schema.get("properties")
    listed = out.get("required")
    if not isinstance(properties, dict) or (listed is not None and not isinstance(listed, list)):
        return
    required = list(cast("list[Any]", listed or []))
    for name, sub in cast("dict[str, Any]", properties).items():
        is_required = isinstance(sub, dict) and cast("dict[str, Any]", sub).get("required") is True
        if is_required and name not in required:
            required.append(name)
    if required:
        out["required"] = required
