"""Path items behind a ``$ref`` in the document; the operation count check (issue 17, item 3)."""

from __future__ import annotations

import json
from pathlib import Path

from loom.codegen.config import GeneratorConfig
from loom.codegen.diagnostics import Severity
from loom.codegen.pipeline import count_operations, generate
from tests.codegen.support import Reply, generate_sdk, recording_server

FIXTURE = Path(__file__).parent.parent / "fixtures" / "wire" / "path_items.yaml"


def test_operations_of_a_referenced_path_item_are_generated_when_the_ref_is_local(
    tmp_path: Path,
) -> None:
    result, sdk = generate_sdk(FIXTURE, tmp_path, package="path_items_sdk")
    assert result.api is not None
    got = sorted((op.method, op.path, [p.wire for p in op.params]) for op in result.api.operations)
    assert got == [
        ("GET", "/animals", ["limit"]),
        ("GET", "/health", []),
        ("GET", "/pets", ["limit"]),
        ("POST", "/animals", ["limit"]),
        ("POST", "/pets", ["limit"]),
    ]
    ghosts = [d for d in result.diagnostics if d.pointer == "#/paths/~1ghosts"]
    assert [(d.code, d.severity) for d in ghosts] == [("dangling-ref", Severity.ERROR)]
    with recording_server() as server:
        server.routes[("GET", "/pets")] = Reply(200, ["Tom"])
        client = sdk.Client(base_url=server.url, max_retries=0)
        assert client.pets.get(limit=2) == ["Tom"]
        assert server.last.query == [("limit", "2")]


def test_manifest_counts_every_operation_of_the_schema_when_generating(tmp_path: Path) -> None:
    result = generate(FIXTURE, tmp_path, GeneratorConfig(package="counted"))
    manifest = json.loads((tmp_path / "loom-manifest.json").read_text())
    assert manifest["operations_in_schema"] == 5
    assert len(manifest["operations"]) + len(manifest["skipped"]) == 5
    assert not [d for d in result.diagnostics if d.code == "operations-unaccounted"]


def test_operation_count_sees_operations_the_ir_would_miss_when_paths_use_refs() -> None:
    document = json.loads(json.dumps({"paths": {"/a": {"$ref": "#/x"}}, "x": {"get": {}}}))
    assert count_operations(document) == 1
