"""Validating bodies against the published schemas copied into ``tests/fixtures/worker``.

OpenAPI 3.0 schemas are JSON Schema with ``nullable``; ``validator_for`` rewrites ``nullable``
into ``anyOf [..., null]`` so jsonschema checks them as the spec means them, and drops the
``pattern``s Python's ``re`` cannot compile (ECMA-262 unicode property classes).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, cast

import jsonschema

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "worker"
CAMUNDA_SCHEMAS = FIXTURES / "camunda-job-schemas.json"
CONDUCTOR_API = FIXTURES / "conductor-tasks-api.json"


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(v) for v in cast("list[Any]", node)]
    if not isinstance(node, dict):
        return node
    src = cast("dict[str, Any]", node)
    out = {k: _nullable(v) for k, v in src.items() if k != "nullable"}
    if isinstance(out.get("pattern"), str) and not _compiles(out["pattern"]):
        del out["pattern"]  # ECMA-262 classes such as \p{L} that Python's re cannot check
    if src.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


@functools.cache
def _document(path: Path) -> dict[str, Any]:
    return cast("dict[str, Any]", _nullable(json.loads(path.read_text(encoding="utf-8"))))


@functools.cache
def validator_for(path: Path, name: str) -> jsonschema.Draft7Validator:
    """A validator for ``components.schemas[name]`` of the fixture at ``path``."""
    doc = _document(path)
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return jsonschema.Draft7Validator(schema)


def problems(path: Path, name: str, value: Any) -> list[str]:
    """Every way ``value`` breaks ``name``, as ``pointer: message`` lines (empty when valid)."""
    errors: list[Any] = list(validator_for(path, name).iter_errors(value))  # pyright: ignore[reportUnknownMemberType]
    return [f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors]
