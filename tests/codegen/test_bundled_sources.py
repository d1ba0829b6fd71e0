"""A multi-file schema gives the same SDK as its pre-bundled form."""

from __future__ import annotations

from pathlib import Path

import pytest

from loom.codegen.config import load_config
from loom.codegen.pipeline import generate

CAMUNDA = Path(__file__).resolve().parents[2] / "examples" / "camunda"


@pytest.mark.slow
def test_upstream_files_give_the_same_sdk_as_the_bundle_when_generated(tmp_path: Path) -> None:
    config = load_config(CAMUNDA / "loom.toml")
    bundled = generate(CAMUNDA / "rest-api.bundle.json", tmp_path / "a", config)
    upstream = generate(CAMUNDA / "upstream" / "rest-api.yaml", tmp_path / "b", config)
    assert bundled.api is not None
    assert upstream.api is not None
    ops_a = {(o.method, o.path, o.operation_id, o.method_name) for o in bundled.api.operations}
    ops_b = {(o.method, o.path, o.operation_id, o.method_name) for o in upstream.api.operations}
    assert ops_a == ops_b
    assert len(ops_a) == 241
    assert {m.name for m in bundled.api.models} == {m.name for m in upstream.api.models}
    assert set(bundled.files) == set(upstream.files)
    different = [
        rel
        for rel, data in bundled.files.items()
        if rel.endswith(".py") and data.split(b"\n", 1)[1] != upstream.files[rel].split(b"\n", 1)[1]
    ]
    assert different == []  # only the header line (the schema's sha256) differs
