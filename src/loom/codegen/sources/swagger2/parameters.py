"""Swagger 2.0 parameters: ``query``/``path``/``header`` ones to OpenAPI 3.0 parameters.

A Swagger 2.0 parameter carries its type itself (``type``, ``format``, ``items``, ``enum``…);
OpenAPI 3.0 wraps it in ``schema``. ``collectionFormat`` (default ``csv``) becomes ``style`` and
``explode`` (OpenAPI 3.0.3 §4.7.12.4):

=========== ========================== =========================== ==========================
format      query                      path / header               formData (``encoding``)
=========== ========================== =========================== ==========================
csv         form, explode false        simple                      form, explode false
ssv         spaceDelimited             spaceDelimited [1]_         spaceDelimited
tsv         tabDelimited [1]_          tabDelimited [1]_           tabDelimited [1]_
pipes       pipeDelimited              pipeDelimited [1]_          pipeDelimited
multi       form, explode true         (invalid in 2.0: csv)       form, explode true
=========== ========================== =========================== ==========================

.. [1] Not an OpenAPI 3 style: loom's IR and runtime accept it so that the conversion is
   lossless (swagger2openapi keeps ``x-collectionFormat: tsv`` and sends commas instead).
"""

from __future__ import annotations

from typing import Any, cast

from loom.codegen.diagnostics import DiagnosticSink, Severity
from loom.codegen.sources.swagger2.pointers import child
from loom.codegen.sources.swagger2.schemas import RefSink, convert_schema

TYPE_KEYS = (
    "type",
    "format",
    "enum",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
)
_DELIMITED = {"ssv": "spaceDelimited", "tsv": "tabDelimited", "pipes": "pipeDelimited"}
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})


def collection_style(
    fmt: object, location: str, pointer: str, sink: DiagnosticSink
) -> tuple[str, bool]:
    """``style`` and ``explode`` for an array parameter with ``collectionFormat`` ``fmt``."""
    fmt = "csv" if fmt is None else fmt
    if fmt not in ("csv", "ssv", "tsv", "pipes", "multi"):
        sink.add(
            child(pointer, "collectionFormat"),
            f"collectionFormat {fmt!r} is not csv, ssv, tsv, pipes or multi; using csv",
            code="invalid-collection-format",
        )
        fmt = "csv"
    plain = location in ("path", "header")
    if fmt == "multi" and plain:
        sink.add(
            child(pointer, "collectionFormat"),
            f"collectionFormat multi is only valid in query and formData, not {location}; "
            "using csv",
            code="invalid-collection-format",
        )
        fmt = "csv"
    if fmt == "multi":
        return "form", True
    if fmt == "csv":
        return ("simple" if plain else "form"), False
    return _DELIMITED[cast(str, fmt)], False


def items_schema(node: object, pointer: str, sink: DiagnosticSink) -> dict[str, Any]:
    """A Swagger 2.0 Items Object as a schema (nested ``collectionFormat`` cannot be kept)."""
    if not isinstance(node, dict):
        return {}
    items = cast("dict[str, Any]", node)
    out: dict[str, Any] = {k: items[k] for k in TYPE_KEYS if k in items}
    if "items" in items:
        out["items"] = items_schema(items["items"], child(pointer, "items"), sink)
    if items.get("collectionFormat") not in (None, "csv"):
        sink.add(
            child(pointer, "collectionFormat"),
            "a collectionFormat nested in items cannot be expressed in OpenAPI 3; inner arrays "
            "are sent comma-separated",
            code="nested-collection-format",
            severity=Severity.INFO,
        )
    if items.get("x-nullable") is True:
        out["nullable"] = True
    return out


def type_schema(
    param: dict[str, Any], pointer: str, refs: RefSink, sink: DiagnosticSink
) -> dict[str, Any]:
    """The schema of a non-body parameter (or of one ``formData`` field)."""
    schema: dict[str, Any] = {k: param[k] for k in TYPE_KEYS if k in param}
    if "type" not in schema:
        sink.add(
            pointer, "parameter has no `type`; it is taken as a string", code="invalid-parameter"
        )
        schema["type"] = "string"
    if "items" in param:
        schema["items"] = items_schema(param["items"], child(pointer, "items"), sink)
    elif schema["type"] == "array":
        schema["items"] = {}
    if param.get("x-nullable") is True:
        schema["nullable"] = True
    return cast("dict[str, Any]", convert_schema(schema, pointer, refs))


def plain_parameter(
    param: dict[str, Any], pointer: str, refs: RefSink, sink: DiagnosticSink
) -> dict[str, Any] | None:
    """A ``query``, ``path`` or ``header`` parameter in OpenAPI 3.0 form."""
    location = param["in"]
    name = param["name"]
    if location == "header" and name.lower() in _IGNORED_HEADERS:
        sink.add(
            pointer,
            f"header parameter {name!r} is ignored in OpenAPI 3 (§4.7.12.1) and gets no argument; "
            "set it through the client's auth or extra_headers",
            code="ignored-header-parameter",
            severity=Severity.INFO,
        )
    out: dict[str, Any] = {"name": name, "in": location}
    for key in ("description", "deprecated"):
        if key in param:
            out[key] = param[key]
    out["required"] = True if location == "path" else param.get("required") is True
    if param.get("allowEmptyValue") is True:
        if location == "query":
            out["allowEmptyValue"] = True
        else:
            sink.add(
                child(pointer, "allowEmptyValue"),
                f"allowEmptyValue applies to query and formData parameters, not {location}; "
                "ignored",
                code="invalid-parameter",
                severity=Severity.INFO,
            )
    if "x-example" in param:
        out["example"] = param["x-example"]
    out.update({k: v for k, v in param.items() if k.startswith("x-") and k not in _CONSUMED})
    schema = type_schema(param, pointer, refs, sink)
    if schema.get("type") == "array":
        style, explode = collection_style(param.get("collectionFormat"), location, pointer, sink)
        out["style"] = style
        out["explode"] = explode
    elif "collectionFormat" in param:
        sink.add(
            child(pointer, "collectionFormat"),
            "collectionFormat applies to arrays only; ignored",
            code="invalid-collection-format",
            severity=Severity.INFO,
        )
    out["schema"] = schema
    return out


_CONSUMED = frozenset({"x-nullable", "x-example"})
