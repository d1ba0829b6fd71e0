"""loom's Swagger 2.0 conversion against swagger2openapi's, compared through the SDK's IR.

For every Swagger 2.0 document in ``tests/fixtures/swagger2`` (public documents and one per
rule), swagger2openapi (npm, pinned) converts it, loom generates the IR from that conversion and
from its own, and the two must have the same operations, parameters, bodies, responses, models,
enums and aliases, except where ``oracle-notes.json`` says why they differ.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.codegen.swagger2_support import (
    FIXTURES,
    differences,
    ir_of,
    run_oracle,
    stage,
    staged_name,
    summary,
    swagger_documents,
)

DOCUMENTS = swagger_documents()
NOTES: dict[str, dict[str, str]] = {
    k: v
    for k, v in json.loads((FIXTURES / "oracle-notes.json").read_text()).items()
    if k != "_about"
}


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = stage(tmp_path_factory.mktemp("oracle"))
    pairs = [(copy / staged_name(d), copy / f"{staged_name(d)}.s2o.json") for d in DOCUMENTS]
    run_oracle(pairs)
    return copy


def test_fixtures_include_public_and_rule_documents_when_collected() -> None:
    assert sum(d.startswith("public/") for d in DOCUMENTS) >= 10
    assert sum(d.startswith("rules/") for d in DOCUMENTS) >= 13
    assert set(NOTES) <= set(DOCUMENTS)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_sdk_matches_swagger2openapi_except_where_noted_when_converted(
    staged: Path, document: str
) -> None:
    ours = summary(ir_of(staged / staged_name(document)))
    theirs = summary(ir_of(staged / f"{staged_name(document)}.s2o.json"))
    assert ours, "the document must give the SDK operations or models"
    found = differences(ours, theirs)
    noted = NOTES.get(document, {})
    unexplained = {k: v for k, v in found.items() if k not in noted}
    assert not unexplained, f"differences without a note in oracle-notes.json: {unexplained}"
    stale = sorted(set(noted) - set(found))
    assert not stale, f"notes in oracle-notes.json that are no longer differences: {stale}"
