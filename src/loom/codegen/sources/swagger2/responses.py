"""Swagger 2.0 responses and response headers to OpenAPI 3.0.

A response ``schema`` is offered in every media type the operation ``produces`` (or the
document; ``application/json`` when neither says); ``examples`` keyed by media type become that
media type's ``example`` (an example without a schema still gives that media type, untyped).
A ``type: file`` response is binary: when ``produces`` lists only JSON
types it is sent as ``application/octet-stream`` instead, since a file is not JSON. Headers get
their type wrapped in ``schema`` (``collectionFormat`` csv is the ``simple`` style).
"""

from __future__ import annotations

from typing import Any, cast

from loom.codegen.diagnostics import DiagnosticSink, Severity
from loom.codegen.sources.swagger2.parameters import TYPE_KEYS, items_schema
from loom.codegen.sources.swagger2.pointers import PointerMap, child
from loom.codegen.sources.swagger2.schemas import RefSink, convert_schema


def _is_json(media: str) -> bool:
    base = media.split(";", 1)[0].strip().lower()
    return base in ("application/json", "text/json", "*/*") or base.endswith("+json")


def convert_response(
    raw: dict[str, Any],
    pointer: str,
    target: str,
    produces: list[str],
    *,
    refs: RefSink,
    sink: DiagnosticSink,
    pointers: PointerMap,
) -> dict[str, Any]:
    """One Response Object (not a reference) in OpenAPI 3.0 form.

    Args:
        raw: the Swagger 2.0 response.
        pointer: where it is in the input.
        target: where it goes in the converted document.
        produces: the media types to offer the schema in.
        refs: receives converted ``$ref`` nodes.
        sink: receives diagnostics.
        pointers: records where each part came from.
    """
    description = raw.get("description")
    out: dict[str, Any] = {"description": description if isinstance(description, str) else ""}
    headers = raw.get("headers")
    if isinstance(headers, dict):
        out["headers"] = {
            name: _header(value, child(pointer, "headers", name), sink)
            for name, value in cast("dict[str, Any]", headers).items()
        }
        for name in cast("dict[str, Any]", headers):
            pointers.add(
                child(target, "headers", name, "schema"),
                child(pointer, "headers", name),
                inverse=False,
            )
    examples = raw.get("examples")
    examples = cast("dict[str, Any]", examples) if isinstance(examples, dict) else {}
    content: dict[str, Any] = {}
    if "schema" in raw:
        schema = convert_schema(raw["schema"], child(pointer, "schema"), refs)
        media_types = produces or ["application/json"]
        if _is_file(schema) and all(_is_json(m) for m in media_types):
            media_types = ["application/octet-stream"]
        for media in media_types:
            content[media] = {"schema": schema}
            pointers.add(child(target, "content", media, "schema"), child(pointer, "schema"))
    for media, example in examples.items():
        # An example without a schema still says that the response has a body of that type.
        content.setdefault(media, {})["example"] = example
    if content:
        out["content"] = content
    out.update({k: v for k, v in raw.items() if k.startswith("x-")})
    return out


def _is_file(schema: object) -> bool:
    return (
        isinstance(schema, dict)
        and cast("dict[str, Any]", schema).get("type") == "string"
        and cast("dict[str, Any]", schema).get("format") == "binary"
    )


def _header(raw: object, pointer: str, sink: DiagnosticSink) -> dict[str, Any]:
    if not isinstance(raw, dict):
        sink.add(
            pointer, "response header is not an object; taken as a string", code="invalid-header"
        )
        return {"schema": {"type": "string"}}
    header = cast("dict[str, Any]", raw)
    schema: dict[str, Any] = {k: header[k] for k in TYPE_KEYS if k in header}
    schema.setdefault("type", "string")
    if "items" in header:
        schema["items"] = items_schema(header["items"], child(pointer, "items"), sink)
    out: dict[str, Any] = {}
    if isinstance(header.get("description"), str):
        out["description"] = header["description"]
    fmt = header.get("collectionFormat")
    if schema["type"] == "array" and fmt not in (None, "csv"):
        sink.add(
            child(pointer, "collectionFormat"),
            f"collectionFormat {fmt!r} in a response header cannot be expressed in OpenAPI 3 "
            "(headers are comma-separated); the header is read as csv",
            code="header-collection-format",
            severity=Severity.INFO,
        )
    out["schema"] = schema
    out.update({k: v for k, v in header.items() if k.startswith("x-")})
    return out
