"""Proxmox VE ``apidata.js`` → one OpenAPI 3.1 document.

``apidata.js`` (pve-docs, ``api-viewer/apidata.js``) is a JavaScript file holding one JSON
array: ``const apiSchema = [...]`` (and ``var pveapi = [...]`` in older releases). The array is
read as JSON data with ``json.JSONDecoder.raw_decode`` after the assignment; nothing in the
file is ever executed. Each tree node has ``path``, ``info`` (one entry per HTTP method) and
``children``; the conversion gives every method an operation:

- path variables come from the path only (Proxmox lists most of them in ``parameters`` too;
  their schema is taken from there, the body never repeats them);
- GET and DELETE parameters are query parameters; POST and PUT parameters are an
  ``application/x-www-form-urlencoded`` body, comma lists with ``explode: false``;
- indexed parameters (``net[n]``) become one mapping property (``net``: index → value) that
  the runtime sends as ``net0``, ``net1`` …;
- ``returns`` is the schema of ``data`` in the ``{"data": …}`` envelope every answer has
  (``x-loom-envelope``), which the SDK unwraps;
- the operation id is the HTTP verb and the path (``name`` repeats: 275 times in PVE 9.1).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from loom.codegen.diagnostics import DiagnosticSink, FatalSchemaError
from loom.codegen.sources.proxmox_formats import (
    FormatRegistry,
    is_optional,
    pascal,
    return_schema,
)

if TYPE_CHECKING:
    from loom.codegen.sources import LoadedDocument

__all__ = [
    "convert_apidata",
    "is_apidata",
    "load_apidata",
    "operation_id",
    "parse_apidata",
    "version_from_name",
]

Schema = dict[str, Any]

_ASSIGNMENT = re.compile(
    r"\A\s*(?:(?://[^\n]*\n|/\*.*?\*/)\s*)*(?:const|var|let)\s+(apiSchema|pveapi)\s*=\s*",
    re.DOTALL,
)
_VAR = re.compile(r"\{([^{}]+)\}")
_INDEXED = re.compile(r"^(.+)\[n\]$")
_VERSION = re.compile(r"(\d+\.\d+(?:[.-]\d+)*)")
_METHODS = ("GET", "POST", "PUT", "DELETE")
_BODY_METHODS = {"POST", "PUT"}


def is_apidata(text: str) -> bool:
    """Whether ``text`` starts like a Proxmox ``apidata.js`` (the assignment of its array)."""
    return _ASSIGNMENT.match(text[:4096]) is not None


def parse_apidata(text: str, *, name: str) -> list[Schema]:
    """The API tree of an ``apidata.js``, parsed as JSON (never evaluated).

    Raises:
        FatalSchemaError: the text is not ``<const|var> <name> = [ JSON array ];``.
    """
    match = _ASSIGNMENT.match(text)
    if match is None:
        raise FatalSchemaError(
            f"{name}: not a Proxmox apidata.js (expected `const apiSchema = [` or `var pveapi = [`)"
        )
    try:
        tree, end = json.JSONDecoder().raw_decode(text, match.end())
    except json.JSONDecodeError as exc:
        line = text.count("\n", 0, exc.pos) + 1
        raise FatalSchemaError(
            f"{name}:{line}: the {match.group(1)} array is not JSON: {exc.msg}"
        ) from None
    rest = text[end:].strip().lstrip(";").strip()
    if rest:
        raise FatalSchemaError(
            f"{name}: unexpected text after the {match.group(1)} array ({rest[:40]!r}); loom reads "
            "the array as data and nothing else"
        )
    if not isinstance(tree, list):
        raise FatalSchemaError(f"{name}: {match.group(1)} is not an array of API nodes")
    return cast(list[Schema], tree)


def load_apidata(
    data: bytes, *, name: str, entry: Path, sink: DiagnosticSink, forced: bool
) -> LoadedDocument | None:
    """The OpenAPI document of an ``apidata.js`` file; ``None`` when it is not one (and not
    ``forced``, which makes that a fatal error)."""
    from loom.codegen.sources import LoadedDocument
    from loom.codegen.sources.parse import decode_text

    if not forced and not is_apidata(data[:4096].decode("utf-8", "replace")):
        return None
    text = decode_text(data, name=name)
    tree = parse_apidata(text, name=name)
    document = convert_apidata(tree, sink=sink, version=version_from_name(name))
    return LoadedDocument(
        document=document,
        version="3.1",
        sha256=hashlib.sha256(data).hexdigest(),
        source_files=(entry,),
        entry=entry,
    )


def convert_apidata(
    tree: list[Schema], *, sink: DiagnosticSink, version: str = "unknown"
) -> Schema:
    """The OpenAPI 3.1 document of a Proxmox API tree.

    Args:
        tree: the array of ``apidata.js``.
        sink: receives what cannot be expressed (a Perl pattern, an unknown type).
        version: the PVE release, for ``info.version``.
    """
    formats = FormatRegistry(sink)
    paths: Schema = {}
    for node in _walk(tree):
        path = node.get("path")
        info = node.get("info")
        if not isinstance(path, str) or not isinstance(info, dict):
            continue
        item: Schema = {}
        for method in _METHODS:
            spec = cast(Schema, info).get(method)
            if isinstance(spec, dict):
                item[method.lower()] = _operation(path, method, cast(Schema, spec), formats, sink)
        if item:
            paths[path] = item
    schemas: Schema = {"ProxmoxError": _ERROR_SCHEMA, **dict(sorted(formats.schemas.items()))}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Proxmox VE API",
            "version": version,
            "description": "Converted by loom from the Proxmox VE apidata.js (pve-docs).",
        },
        "servers": [{"url": "https://localhost:8006/api2/json"}],
        "security": [{"PVEAPIToken": []}, {"PVEAuthCookie": []}],
        "x-loom-dialect": "proxmox",
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "ProxmoxError": {
                    "description": "An error; the reason is in the status line, details in "
                    "`errors`.",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/ProxmoxError"}
                        }
                    },
                }
            },
            "securitySchemes": {
                "PVEAPIToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`PVEAPIToken=USER@REALM!TOKENID=SECRET`",
                },
                "PVEAuthCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "PVEAuthCookie",
                    "description": "The ticket from POST /access/ticket; writes also send the "
                    "CSRFPreventionToken header.",
                },
            },
        },
    }


def version_from_name(name: str) -> str:
    """The release in a file name such as ``apidata-pve-docs-9.1.2.js``, else ``unknown``."""
    match = _VERSION.search(name.rsplit("/", 1)[-1])
    return match.group(1) if match else "unknown"


_ERROR_SCHEMA: Schema = {
    "type": "object",
    "description": "What Proxmox answers on an error: `data` is null.",
    "properties": {
        "data": {"type": "null"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Problems by parameter name.",
        },
        "message": {"type": "string"},
    },
}


def _walk(nodes: list[Schema]) -> list[Schema]:
    out: list[Schema] = []
    stack: list[object] = list(reversed(nodes))
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        node = cast(Schema, node)
        out.append(node)
        children = node.get("children")
        if isinstance(children, list):
            stack.extend(reversed(cast(list[Schema], children)))
    return out


def operation_id(method: str, path: str) -> str:
    """``post_nodes_node_qemu_vmid_status_start`` for ``POST /nodes/{node}/qemu/{vmid}/…``."""
    words = [re.sub(r"[^0-9A-Za-z]+", "_", seg.strip("{}")).strip("_") for seg in path.split("/")]
    return "_".join([method.lower(), *(w for w in words if w)])


def _context_name(path: str) -> str:
    """The part of the path that names a property-string format: ``qemu`` in
    ``/nodes/{node}/qemu/{vmid}/config``, ``cluster`` in ``/cluster/…``."""
    literal = [s for s in path.split("/") if s and not s.startswith("{")]
    word = (
        literal[1] if len(literal) > 1 and literal[0] == "nodes" else literal[0] if literal else ""
    )
    return pascal(word)


def _operation(
    path: str, method: str, spec: Schema, formats: FormatRegistry, sink: DiagnosticSink
) -> Schema:
    op_id = operation_id(method, path)
    ptr = f"#/paths/{path.replace('~', '~0').replace('/', '~1')}/{method.lower()}"
    parameters = spec.get("parameters")
    props: Schema = {}
    if isinstance(parameters, dict):
        props = cast(Schema, cast(Schema, parameters).get("properties") or {})
    path_vars = _VAR.findall(path)
    params: list[Schema] = []
    for var in path_vars:
        declared = props.get(var)
        schema = (
            formats.param(cast(Schema, declared), pascal(var), f"{ptr}/{var}")
            if isinstance(declared, dict)
            else {"type": "string"}
        )
        schema.pop("default", None)
        params.append({"name": var, "in": "path", "required": True, "schema": schema})
    context = _context_name(path)
    fields: Schema = {}
    required: list[str] = []
    joined: list[str] = []
    for key in sorted(props):
        if key in path_vars or not isinstance(props[key], dict):
            continue
        raw = cast(Schema, props[key])
        indexed = _INDEXED.match(key)
        wire = indexed.group(1) if indexed else key
        schema = formats.param(raw, context + pascal(wire), f"{ptr}/{key}")
        if indexed:
            schema = {
                "type": "object",
                "propertyNames": {"pattern": "^[0-9]+$"},
                "additionalProperties": {k: v for k, v in schema.items() if k != "description"},
                "x-proxmox-indexed": True,
                **({"description": schema["description"]} if "description" in schema else {}),
            }
        elif schema.get("x-proxmox-list"):
            joined.append(wire)
        fields[wire] = schema
        if not is_optional(raw):
            required.append(wire)
    op: Schema = {
        "operationId": op_id,
        "tags": [path.strip("/").split("/", 1)[0] or "root"],
        "summary": _summary(spec),
        "description": _description(spec),
    }
    if method in _BODY_METHODS and fields:
        body_schema: Schema = {"type": "object", "properties": fields}
        if required:
            body_schema["required"] = required
        media: Schema = {"schema": body_schema}
        if joined:
            media["encoding"] = {name: {"style": "form", "explode": False} for name in joined}
        op["requestBody"] = {
            "required": bool(required),
            "content": {"application/x-www-form-urlencoded": media},
        }
    else:
        for name, schema in fields.items():
            param: Schema = {"name": name, "in": "query", "schema": schema}
            if name in required:
                param["required"] = True
            if schema.get("x-proxmox-list"):
                param["style"] = "form"
                param["explode"] = False
            elif schema.get("x-proxmox-indexed"):
                sink.add(f"{ptr}/{name}", "indexed query parameter sent as is", code="proxmox")
            params.append(param)
    if params:
        op["parameters"] = params
    data = return_schema(spec.get("returns"), sink, ptr + "/returns")
    op["responses"] = {
        "200": {
            "description": "The answer, in the `data` member of the envelope.",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"data": data},
                        "x-loom-envelope": "data",
                    }
                }
            },
        },
        "default": {"$ref": "#/components/responses/ProxmoxError"},
    }
    if spec.get("allowtoken") in (0, "0"):
        op["security"] = [{"PVEAuthCookie": []}]
    if path == "/access/ticket" and method == "POST":
        op["security"] = []
    for key in ("name", "protected", "proxyto", "allowtoken", "permissions"):
        if key in spec:
            op[f"x-proxmox-{key}"] = spec[key]
    return op


def _summary(spec: Schema) -> str:
    text = spec.get("description")
    first = text.strip().split("\n", 1)[0] if isinstance(text, str) and text.strip() else ""
    return first or str(spec.get("name") or "")


def _description(spec: Schema) -> str:
    parts: list[str] = []
    text = spec.get("description")
    if isinstance(text, str) and "\n" in text.strip():
        parts.append(text.strip())
    perms = spec.get("permissions")
    if isinstance(perms, dict):
        perms = cast(Schema, perms)
        words: list[str] = []
        if isinstance(perms.get("description"), str):
            words.append(perms["description"].strip())
        if perms.get("user") == "all":
            words.append("Any authenticated user may call it.")
        elif perms.get("user") == "world":
            words.append("Anyone may call it, without authentication.")
        check = perms.get("check")
        if check:
            words.append(f"Check: {json.dumps(check, separators=(',', ':'))}.")
        if words:
            parts.append("Permissions: " + " ".join(words))
    if spec.get("protected") in (1, "1", True):
        parts.append("Protected: runs in the privileged daemon (pvedaemon) of the node.")
    if spec.get("allowtoken") in (0, "0"):
        parts.append("API tokens cannot call this operation; log in with a ticket.")
    if isinstance(spec.get("proxyto"), str):
        parts.append(f"Proxied to the node given by `{spec['proxyto']}`.")
    return "\n\n".join(parts)
