"""Swagger 2.0 → OpenAPI 3.0.3, in pure Python, before anything else reads the document.

``convert_swagger`` returns the converted document and a ``PointerMap`` that turns pointers of
the converted document back into pointers of the input, so every diagnostic names the place in
the file the user wrote. The rules per part live in their modules (``schemas``, ``parameters``,
``body``, ``responses``, ``security``); this one walks the document and rewrites local
``$ref``s once everything has its new place (``#/definitions/Pet`` →
``#/components/schemas/Pet``, ``#/responses/NotFound`` → ``#/components/responses/NotFound``).

``$ref``s to other files stay as written: the bundler loads those files (converting their
definitions with ``convert_external``) and hoists the targets, as for OpenAPI input.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, cast

from loom.codegen.diagnostics import DiagnosticSink, FatalSchemaError
from loom.codegen.sources.pointer import (
    format_pointer,
    is_missing,
    parse_fragment,
    resolve,
    split_ref,
)
from loom.codegen.sources.swagger2.document import SwaggerConverter
from loom.codegen.sources.swagger2.pointers import PointerMap
from loom.codegen.sources.swagger2.schemas import convert_schema, looks_like_schema

__all__ = [
    "Converted",
    "PointerMap",
    "convert_external",
    "convert_swagger",
    "is_swagger",
]

logger = logging.getLogger(__name__)

Converted = SwaggerConverter.Result


def is_swagger(root: dict[str, Any]) -> bool:
    """Whether a parsed document is Swagger (any version) rather than OpenAPI 3."""
    return ("swagger" in root or "swaggerVersion" in root) and "openapi" not in root


def convert_swagger(
    root: dict[str, Any], *, name: str, sink: DiagnosticSink, base_dir: Path | None = None
) -> Converted:
    """Convert a Swagger 2.0 document to OpenAPI 3.0.3.

    Args:
        root: the parsed document (not modified).
        name: what error messages call it.
        sink: receives diagnostics, with pointers into ``root``.
        base_dir: the folder of the document, for parameters referenced in other files.

    Returns:
        The converted document and the pointer map back into ``root``.

    Raises:
        FatalSchemaError: Swagger 1.x, a version other than 2.0, no ``paths``, or a local
            ``$ref`` to something that has no place in OpenAPI 3 (a body parameter's schema).
    """
    version = root.get("swagger", root.get("swaggerVersion"))
    if isinstance(version, int | float) and not isinstance(version, bool) and version == 2:
        sink.add(
            "#/swagger",
            f"`swagger` is the number {version}; write it as a string (`swagger: '2.0'`)",
            code="swagger-version",
        )
        version = "2.0"
    if version != "2.0":
        hint = (
            "Swagger 1.x describes an API in several resource listings and is not supported; "
            "convert it to 2.0 or OpenAPI 3 first"
            if "swaggerVersion" in root or str(version).startswith("1")
            else "loom reads Swagger 2.0 and OpenAPI 3.0/3.1"
        )
        raise FatalSchemaError(f"{name}: Swagger {version} is not supported; {hint}")
    paths = root.get("paths")
    if not isinstance(paths, dict):
        what = "no `paths`" if paths is None else f"`paths` that is a {type(paths).__name__}"
        raise FatalSchemaError(
            f"{name}: the Swagger 2.0 document has {what}; it needs a mapping from path to "
            "path item (add `paths: {{}}` if the API really has no operations)"
        )
    result = SwaggerConverter(root, sink, base_dir=base_dir).run()
    _rewrite_refs(root, result)
    logger.debug("converted %s from Swagger 2.0 to OpenAPI 3.0.3", name)
    return result


def _rewrite_refs(root: dict[str, Any], result: Converted) -> None:
    """Point every local ``$ref`` at the converted place of its target."""
    for node, pointer in result.refs:
        ref = node["$ref"]
        file_part, fragment = split_ref(ref)
        if file_part:
            continue  # another file: the bundler resolves it (and warns if it is remote)
        try:
            tokens = parse_fragment(fragment)
        except ValueError as exc:
            raise FatalSchemaError(
                f"$ref {ref!r} has an invalid JSON pointer: {exc}", pointer=pointer
            ) from None
        if is_missing(resolve(root, tokens)):
            # Left as written: the loader reports it where it is used, as for OpenAPI input
            # (an error where an operation reaches it, a warning in an unused definition).
            continue
        moved = result.pointers.converted(format_pointer(tokens))
        if is_missing(resolve(result.document, parse_fragment(moved[1:]))):
            raise FatalSchemaError(
                f"$ref {ref!r} points at something that has no place of its own in OpenAPI 3 "
                "(such as a body parameter's schema); move the schema to `definitions` and "
                "reference it there",
                pointer=pointer,
            )
        node["$ref"] = moved


def convert_external(root: Any) -> Any:
    """Convert the schemas of a file that a Swagger 2.0 document references.

    Such a file is a Swagger 2.0 document, a file of ``definitions``, one schema, or a mapping
    of schemas. Its ``$ref``s stay as written: the bundler resolves them relative to the file.
    """
    if not isinstance(root, dict):
        return root
    node = cast("dict[str, Any]", root)
    definitions = node.get("definitions")
    if isinstance(definitions, dict):
        converted = {
            key: convert_schema(value, "#", None)
            for key, value in cast("dict[str, Any]", definitions).items()
        }
        return {**node, "definitions": converted}
    if looks_like_schema(node):
        return convert_schema(node, "#", None)
    return {
        key: convert_schema(value, "#", None) if looks_like_schema(value) else value
        for key, value in node.items()
    }
