"""Dangling ``$ref``s inside a document (issue 17, item 9): all reported, generation goes on."""

from __future__ import annotations

from pathlib import Path

from loom.codegen.diagnostics import Severity
from tests.codegen.support import Reply, generate_sdk, recording_server

FIXTURE = Path(__file__).parent.parent / "fixtures" / "wire" / "dangling.yaml"


def test_every_dangling_ref_is_reported_in_one_run_with_its_weight(tmp_path: Path) -> None:
    result, _ = generate_sdk(FIXTURE, tmp_path, package="dangling_sdk")
    found = [(d.pointer, d.severity) for d in result.diagnostics if d.code == "dangling-ref"]
    assert sorted(found) == [
        ("#/components/schemas/Pet/properties/owner", Severity.ERROR),
        ("#/components/schemas/Unused/properties/thing", Severity.WARNING),
        ("#/paths/~1pets~1{id}/get/parameters/1", Severity.ERROR),
        ("#/paths/~1pets~1{id}/get/responses/404", Severity.ERROR),
    ]


def test_used_schema_falls_back_to_any_when_its_ref_dangles(tmp_path: Path) -> None:
    result, sdk = generate_sdk(FIXTURE, tmp_path, package="dangling_any_sdk")
    assert result.api is not None
    assert [op.operation_id for op in result.api.operations] == ["getPet"]
    with recording_server() as server:
        body = {"name": "Tom", "owner": {"anything": [1, 2]}}
        server.routes[("GET", "/pets/7")] = Reply(200, body)
        pet = sdk.Client(base_url=server.url, max_retries=0).pets.get(7)
    assert pet.owner == {"anything": [1, 2]}
