"""Check recorded requests against the converted PVE 9.1 OpenAPI document, as PVE would.

PVE parses a form body or query string by its parameter schema: ``1``/``0`` booleans, integer
and number text, ``net0``… for indexed parameters, property strings and comma lists as text.
``check_request`` parses what the SDK sent that way and validates it with jsonschema against
the operation's parameters and body schema (``$ref``s resolved in the document).
"""

from __future__ import annotations

import functools
import gzip
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jsonschema

from loom.codegen.diagnostics import DiagnosticSink
from loom.codegen.sources.proxmox import convert_apidata, parse_apidata

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "proxmox"
_INDEXED = re.compile(r"^(.+?)(\d+)$")


@functools.cache
def document() -> dict[str, Any]:
    """The converted PVE 9.1.2 document."""
    text = gzip.decompress((FIXTURE / "apidata-pve-docs-9.1.2.js.gz").read_bytes()).decode()
    return convert_apidata(parse_apidata(text, name="9.1.2"), sink=DiagnosticSink())


def _property_string(value: str, model: dict[str, Any]) -> dict[str, Any]:
    """``key=value,…`` read as PVE reads it (a bare first part is the default key's value)."""
    props: dict[str, Any] = model["properties"]
    default_key = model.get("x-proxmox-property-string", {}).get("default_key")
    out: dict[str, Any] = {}
    for part in value.split(","):
        key, sep, text = part.partition("=")
        if not sep:
            key, text = default_key or key, key
        if key not in props:
            return {}  # an alias spelling (`virtio=MAC`): PVE maps it; not checked here
        out[key] = _coerce(text, props[key])
    return out


def _coerce(value: str, schema: dict[str, Any]) -> object:
    for member in schema.get("anyOf", []):
        ref = member.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            model = document()["components"]["schemas"][ref.rsplit("/", 1)[1]]
            return _property_string(value, model) or value
    kinds = [schema.get("type")] + [s.get("type") for s in schema.get("anyOf", [])]
    if "boolean" in kinds:
        if value not in ("0", "1"):
            raise AssertionError(f"PVE reads booleans as 1 or 0, not {value!r}")
        return value == "1"
    if "integer" in kinds and re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    if "number" in kinds and re.fullmatch(r"[+-]?[\d.]+(?:e[+-]?\d+)?", value):
        return float(value)
    return value


def _parse(pairs: list[tuple[str, str]], props: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        schema = props.get(key)
        if schema is None:
            match = _INDEXED.match(key)
            if match is None or not props.get(match.group(1), {}).get("x-proxmox-indexed"):
                raise AssertionError(f"PVE has no parameter {key!r} here")
            item = props[match.group(1)]["additionalProperties"]
            out.setdefault(match.group(1), {})[match.group(2)] = _coerce(value, item)
            continue
        if schema.get("type") == "array":
            out.setdefault(key, []).append(_coerce(value, schema["items"]))
        else:
            out[key] = _coerce(value, schema)
    return out


def check_request(method: str, template: str, body: bytes, query: list[tuple[str, str]]) -> None:
    """Fail when the request is not one PVE's schema accepts for ``method template``."""
    doc = document()
    op = doc["paths"][template][method.lower()]
    # jsonschema's validate() has no annotations for its arguments
    validator: Any = jsonschema.Draft202012Validator
    schemas: dict[str, Any] = doc["components"]["schemas"]
    params = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "query"}
    given = _parse(query, {k: p["schema"] for k, p in params.items()})
    missing = [k for k, p in params.items() if p.get("required") and k not in given]
    assert not missing, f"required query parameters missing: {missing}"
    for key, value in given.items():
        validator({**params[key]["schema"], "components": {"schemas": schemas}}).validate(value)
    if "requestBody" not in op:
        assert not body, "PVE takes no body here"
        return
    schema = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    fields = _parse(parse_qsl(body.decode(), keep_blank_values=True), schema["properties"])
    validator({**schema, "components": {"schemas": schemas}}).validate(fields)
