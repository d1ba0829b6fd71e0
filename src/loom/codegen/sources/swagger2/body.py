"""Swagger 2.0 ``body`` and ``formData`` parameters to an OpenAPI 3.0 ``requestBody``.

- A ``body`` parameter becomes ``requestBody`` with one ``content`` entry per media type of the
  operation's ``consumes`` (or the document's; ``application/json`` when neither says).
- ``formData`` parameters become the properties of one object schema, sent as
  ``multipart/form-data`` when a field is a file or ``consumes`` lists multipart, otherwise as
  ``application/x-www-form-urlencoded`` (a file cannot be sent url-encoded; swagger2openapi
  picks url-encoded unless ``consumes`` says multipart, see the fixture notes). ``type: file``
  fields are binary strings; an array field's ``collectionFormat`` goes into ``encoding``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from loom.codegen.diagnostics import DiagnosticSink, Severity
from loom.codegen.sources.swagger2.parameters import collection_style, type_schema
from loom.codegen.sources.swagger2.pointers import PointerMap, child
from loom.codegen.sources.swagger2.schemas import RefSink, convert_schema


@dataclass(frozen=True)
class BodyParameter:
    """A ``body`` or ``formData`` parameter (references resolved) and where it is written."""

    param: dict[str, Any]
    pointer: str


def request_body(
    bodies: list[BodyParameter],
    consumes: list[str],
    target: str,
    *,
    refs: RefSink,
    sink: DiagnosticSink,
    pointers: PointerMap,
) -> dict[str, Any] | None:
    """The ``requestBody`` for an operation's body/formData parameters, or ``None``.

    Args:
        bodies: path-level ones first, then the operation's (later ones override earlier).
        consumes: the media types the operation consumes.
        target: the converted pointer of the ``requestBody``.
        refs: receives converted ``$ref`` nodes.
        sink: receives diagnostics (pointers of the input).
        pointers: records where each part came from.
    """
    body = [b for b in bodies if b.param.get("in") == "body"]
    form = [b for b in bodies if b.param.get("in") == "formData"]
    if body and form:
        sink.add(
            form[0].pointer,
            "an operation cannot have both body and formData parameters; the formData ones are "
            "left out",
            code="invalid-parameter",
            severity=Severity.ERROR,
        )
    if body:
        return _json_body(body[-1], consumes, target, refs=refs, pointers=pointers)
    if form:
        return _form_body(form, consumes, target, refs=refs, sink=sink, pointers=pointers)
    return None


def _json_body(
    body: BodyParameter, consumes: list[str], target: str, *, refs: RefSink, pointers: PointerMap
) -> dict[str, Any]:
    param = body.param
    out: dict[str, Any] = {}
    if isinstance(param.get("description"), str):
        out["description"] = param["description"]
    out["content"] = {}
    pointers.add(target, body.pointer)
    for media in consumes or ["application/json"]:
        schema = convert_schema(param.get("schema", {}), child(body.pointer, "schema"), refs)
        out["content"][media] = {"schema": schema}
        pointers.add(child(target, "content", media, "schema"), child(body.pointer, "schema"))
    if param.get("required") is True:
        out["required"] = True
    out.update({k: v for k, v in param.items() if k.startswith("x-")})
    if isinstance(param.get("name"), str):
        out["x-codegen-request-body-name"] = param["name"]
    return out


def _form_body(
    form: list[BodyParameter],
    consumes: list[str],
    target: str,
    *,
    refs: RefSink,
    sink: DiagnosticSink,
    pointers: PointerMap,
) -> dict[str, Any]:
    fields: dict[str, BodyParameter] = {}
    for item in form:
        fields[str(item.param.get("name"))] = item  # an operation's field overrides the path's
    has_file = any(_is_file(b.param) for b in fields.values())
    media = (
        "multipart/form-data"
        if has_file or "multipart/form-data" in consumes
        else "application/x-www-form-urlencoded"
    )
    schema_at = child(target, "content", media, "schema")
    properties: dict[str, Any] = {}
    required: list[str] = []
    encoding: dict[str, Any] = {}
    for name, item in fields.items():
        param = item.param
        prop = type_schema(param, item.pointer, refs, sink)
        if isinstance(param.get("description"), str):
            prop["description"] = param["description"]
        prop.update({k: v for k, v in param.items() if k.startswith("x-") and k != "x-nullable"})
        properties[name] = prop
        pointers.add(child(schema_at, "properties", name), item.pointer, inverse=False)
        if param.get("required") is True:
            required.append(name)
        if prop.get("type") == "array":
            style, explode = collection_style(
                param.get("collectionFormat"), "query", item.pointer, sink
            )
            if (style, explode) != ("form", True):  # not the default of form encoding
                encoding[name] = {"style": style, "explode": explode}
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    content: dict[str, Any] = {"schema": schema}
    if encoding:
        content["encoding"] = encoding
    # The object schema has no one place in the input: the operation's parameter list stands for
    # it (its fields map to their parameters above).
    parameters = form[-1].pointer.rsplit("/", 1)[0]
    pointers.add(target, parameters, inverse=False)
    pointers.add(schema_at, parameters, inverse=False)
    out: dict[str, Any] = {"content": {media: content}}
    if required:
        out["required"] = True
    return out


def _is_file(param: dict[str, Any]) -> bool:
    items = param.get("items")
    return param.get("type") == "file" or (
        isinstance(items, dict) and cast("dict[str, Any]", items).get("type") == "file"
    )
