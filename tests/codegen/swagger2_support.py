"""Swagger 2.0 test support: the swagger2openapi oracle and a comparable summary of an IR.

``summary`` flattens what users of the generated SDK see (operations, their parameters, bodies
and responses; models, their fields; enums and aliases) into ``{key: value}`` strings, so two
IRs compare key by key and a difference names the exact place.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

from loom.codegen.config import GeneratorConfig
from loom.codegen.diagnostics import DiagnosticSink
from loom.codegen.ir.build import build_api
from loom.codegen.ir.model import Api, TypeRef
from loom.codegen.sources import load_document

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "swagger2"
ORACLE = Path(__file__).with_name("swagger2_oracle.js")


def swagger_documents() -> list[str]:
    """Every Swagger 2.0 entry document under the fixtures, relative to ``FIXTURES``."""
    found: list[str] = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix not in {".yaml", ".json", ".gz"} or not path.is_file():
            continue
        head = _read(path)[:400]
        if b'"swagger"' in head or b"swagger:" in head:
            found.append(path.relative_to(FIXTURES).as_posix())
    return found


def _read(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def stage(tmp: Path) -> Path:
    """A copy of the fixtures (gzipped documents unpacked) that converted files can sit beside."""
    copy = tmp / "swagger2"
    shutil.copytree(FIXTURES, copy)
    for packed in copy.rglob("*.gz"):
        packed.with_suffix("").write_bytes(gzip.decompress(packed.read_bytes()))
    return copy


def staged_name(rel: str) -> str:
    """The name of a fixture in the staged copy (``x.json.gz`` → ``x.json``)."""
    return rel[: -len(".gz")] if rel.endswith(".gz") else rel


def run_oracle(pairs: list[tuple[Path, Path]]) -> None:
    """Convert each ``(input, output)`` with swagger2openapi in one Node process."""
    node = shutil.which("node")
    assert node is not None, "node is needed for the swagger2openapi oracle (make install)"
    args = [f"{src}={dst}" for src, dst in pairs]
    proc = subprocess.run(
        [node, str(ORACLE), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def ir_of(path: Path) -> Api:
    """The IR loom builds from a schema file (OpenAPI or Swagger 2.0)."""
    sink = DiagnosticSink()
    loaded = load_document(path, sink=sink)
    return build_api(loaded.document, GeneratorConfig(), sink)


def type_text(t: TypeRef) -> str:
    """A readable, comparable form of a type."""
    inner = ", ".join(type_text(a) for a in t.args)
    text = t.kind if not t.name else f"{t.kind}:{t.name}"
    if inner:
        text += f"[{inner}]"
    if t.values:
        text += repr(t.values)
    if t.discriminator:
        text += f"@{t.discriminator}"
    return text + ("?" if t.nullable else "")


def summary(api: Api) -> dict[str, str]:
    """What the SDK's users see, flattened to ``{key: value}``."""
    out: dict[str, str] = {}
    for op in api.operations:
        key = f"op:{op.operation_id}"
        out[key] = f"{op.method} {op.path} -> {op.resource}.{op.method_name}"
        for p in op.params:
            out[f"{key}/param:{p.location}:{p.wire}"] = (
                f"{p.name}: {type_text(p.type)} required={p.required} "
                f"style={p.style} explode={p.explode}"
            )
        if op.body is not None:
            b = op.body
            out[f"{key}/body"] = (
                f"{b.content_type} {type_text(b.type)} required={b.required} "
                f"files={sorted(b.file_fields)} "
                f"encoding={[(n, e.style, e.explode) for n, e in b.encoding]}"
            )
        out[f"{key}/response"] = f"{type_text(op.response)} {op.response_kind}"
        for code, t in op.errors:
            out[f"{key}/error:{code}"] = type_text(t)
    for model in api.models:
        out[f"model:{model.name}"] = f"base={model.base}"
        for f in model.fields:
            out[f"model:{model.name}/{f.wire}"] = (
                f"{f.name}: {type_text(f.type)} required={f.required} default={f.default}"
            )
    for enum in api.enums:
        out[f"enum:{enum.name}"] = repr([m.value for m in enum.members])
    for alias in api.aliases:
        out[f"alias:{alias.name}"] = type_text(alias.target)
    return out


def differences(ours: dict[str, str], theirs: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Keys whose values differ (``"-"`` where one side has no such key)."""
    return {
        key: (ours.get(key, "-"), theirs.get(key, "-"))
        for key in sorted(set(ours) | set(theirs))
        if ours.get(key) != theirs.get(key)
    }
