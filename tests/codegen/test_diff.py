"""``loom diff``: each kind of change on a focused pair of schemas, and the command itself."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from loom.codegen.config import GeneratorConfig
from loom.codegen.diagnostics import DiagnosticSink
from loom.codegen.diff.compare import Change, compare
from loom.codegen.diff.report import as_markdown, next_version
from loom.codegen.diff.suggest import suggest
from loom.codegen.diff.surface import Surface, from_json, surface_of, to_json
from loom.codegen.ir.build import build_api
from tests.codegen.diff_cases import BASE, Doc, json_body, op, ref, schema


def _surface(doc: Doc, **config: Any) -> Surface:
    cfg = GeneratorConfig(**config)
    return surface_of(build_api(copy.deepcopy(doc), cfg, DiagnosticSink()), cfg)


def _changes(edit: Callable[[Doc], object], **config: Any) -> list[Change]:
    new = copy.deepcopy(BASE)
    edit(new)
    return compare(_surface(BASE), _surface(new, **config))


def _one(changes: list[Change], kind: str) -> Change:
    found = [c for c in changes if c.kind == kind]
    assert len(found) == 1, changes
    return found[0]


def test_nothing_changes_when_the_schema_is_the_same() -> None:
    assert compare(_surface(BASE), _surface(BASE)) == []


def test_removed_operation_breaks_when_its_path_is_gone() -> None:
    change = _one(_changes(lambda d: d["paths"].pop("/pets/{petId}")), "operation-removed")
    assert change.breaking
    assert change.python == "client.pets.get"
    assert change.pointer == "#/paths/~1pets~1{petId}/get"


def test_added_operation_does_not_break() -> None:
    def edit(d: Doc) -> None:
        d["paths"]["/pets/{petId}"]["delete"] = {
            "operationId": "deletePet",
            "tags": ["pets"],
            "parameters": op(d, "/pets/{petId}", "get")["parameters"],
            "responses": {"204": {"description": "gone"}},
        }

    change = _one(_changes(edit), "operation-added")
    assert (change.breaking, change.python) == (False, "client.pets.delete")


def test_renamed_operation_breaks_when_the_same_path_gets_another_method_name() -> None:
    change = _one(
        _changes(lambda d: op(d, "/pets", "post").update(operationId="addPet")),
        "operation-renamed",
    )
    assert change.breaking
    assert (change.old, change.new, change.python) == ("pets.create", "pets.add", "client.pets.add")


def test_removed_parameter_breaks() -> None:
    change = _one(
        _changes(lambda d: op(d, "/pets", "get")["parameters"].pop(1)), "parameter-removed"
    )
    assert (change.breaking, change.python) == (True, "client.pets.list(kind)")


def test_added_parameter_breaks_only_when_it_is_required() -> None:
    def add(required: bool) -> Callable[[Doc], None]:
        def edit(d: Doc) -> None:
            op(d, "/pets", "get")["parameters"].append(
                {"name": "owner", "in": "query", "required": required, "schema": {"type": "string"}}
            )

        return edit

    assert _one(_changes(add(True)), "parameter-added-required").breaking
    assert not _one(_changes(add(False)), "parameter-added").breaking


def test_parameter_that_became_required_breaks() -> None:
    change = _one(
        _changes(lambda d: op(d, "/pets", "get")["parameters"][0].update(required=True)),
        "parameter-required",
    )
    assert (change.breaking, change.python) == (True, "client.pets.list(limit)")


@pytest.mark.parametrize(
    ("new_type", "relation", "breaking"),
    [("string", "changed", True), ("number", "widened", False)],
)
def test_parameter_type_change_breaks_unless_it_widens(
    new_type: str, relation: str, breaking: bool
) -> None:
    change = _one(
        _changes(
            lambda d: op(d, "/pets", "get")["parameters"][0].update(schema={"type": new_type})
        ),
        "parameter-type",
    )
    assert (change.message, change.breaking, change.old) == (f"type {relation}", breaking, "int")


def test_parameter_narrowed_from_number_to_integer_breaks() -> None:
    def edit(d: Doc) -> None:
        op(d, "/pets", "get")["parameters"][0]["schema"] = {"type": "integer"}

    base = copy.deepcopy(BASE)
    op(base, "/pets", "get")["parameters"][0]["schema"] = {"type": "number"}
    new = copy.deepcopy(base)
    edit(new)
    change = _one(compare(_surface(base), _surface(new)), "parameter-type")
    assert (change.message, change.breaking) == ("type narrowed", True)


def test_response_type_change_breaks_when_it_widens() -> None:
    def edit(d: Doc) -> None:
        op(d, "/pets/{petId}", "get")["responses"]["200"] = json_body(
            {**ref("Pet"), "nullable": True}
        )

    change = _one(_changes(edit), "response-type")
    assert (change.breaking, change.old, change.new) == (True, "Pet", "Pet | None")


def test_removed_model_breaks_and_added_model_does_not() -> None:
    def edit(d: Doc) -> None:
        d["components"]["schemas"]["Owner"] = {
            "type": "object",
            "properties": {"name": {"type": "string"}},
        }

    assert not _one(_changes(edit), "model-added").breaking
    new = copy.deepcopy(BASE)
    new["components"]["schemas"]["Owner"] = {
        "type": "object",
        "properties": {"name": {"type": "string"}},
    }
    assert _one(compare(_surface(new), _surface(BASE)), "model-removed").breaking


def test_renamed_model_breaks_when_the_configuration_renames_the_class() -> None:
    change = _one(_changes(lambda d: None, model_names={"Pet": "Animal"}), "model-renamed")
    assert (change.breaking, change.old, change.new) == (True, "Pet", "Animal")
    # the operations that return it are not reported as type changes: it is the same model
    assert not [
        c for c in _changes(lambda d: None, model_names={"Pet": "Animal"}) if "type" in c.kind
    ]


def test_removed_field_breaks() -> None:
    change = _one(_changes(lambda d: schema(d, "Pet")["properties"].pop("tag")), "field-removed")
    assert (change.breaking, change.python) == (True, "models.Pet.tag")
    assert change.pointer == "#/components/schemas/Pet/properties/tag"


def test_added_required_field_breaks_a_model_the_user_sends_but_not_one_it_reads() -> None:
    def edit(d: Doc) -> None:
        for name in ("Pet", "NewPet"):
            schema(d, name)["properties"]["owner"] = {"type": "string"}
            schema(d, name)["required"].append("owner")

    changes = [c for c in _changes(edit) if c.kind == "field-added-required"]
    assert {c.python: c.breaking for c in changes} == {
        "models.NewPet.owner": True,
        "models.Pet.owner": False,
    }


def test_field_type_variance_depends_on_whether_the_model_is_sent_or_read() -> None:
    def edit(d: Doc) -> None:
        schema(d, "Pet")["properties"]["name"]["nullable"] = True  # read: widened breaks
        schema(d, "NewPet")["properties"]["name"]["nullable"] = True  # sent: widened is fine
        schema(d, "NewPet")["properties"]["age"]["type"] = "number"  # sent: int → float

    changes = {c.python: c for c in _changes(edit) if c.kind == "field-type"}
    assert changes["models.Pet.name"].breaking
    assert not changes["models.NewPet.name"].breaking
    assert not changes["models.NewPet.age"].breaking
    assert changes["models.NewPet.age"].message == "type widened"


def test_field_that_became_required_breaks_a_sent_model() -> None:
    change = _one(
        _changes(lambda d: schema(d, "NewPet")["required"].append("tag")), "field-required"
    )
    assert (change.breaking, change.python) == (True, "models.NewPet.tag")


def test_changed_default_is_reported_and_breaks_a_sent_model() -> None:
    change = _one(
        _changes(lambda d: schema(d, "NewPet")["properties"]["age"].update(default=2)),
        "field-default",
    )
    assert (change.breaking, change.old, change.new) == (True, "1", "2")


def test_removed_enum_value_breaks_and_added_one_does_not() -> None:
    changes = _changes(lambda d: schema(d, "Status").update(enum=["available", "pending"]))
    removed = _one(changes, "enum-value-removed")
    assert (removed.breaking, removed.old, removed.python) == (True, "'sold'", "models.Status.SOLD")
    assert removed.pointer == "#/components/schemas/Status/enum"
    assert not _one(changes, "enum-value-added").breaking


def test_breaking_changes_come_first_in_the_report() -> None:
    def edit(d: Doc) -> None:
        d["components"]["schemas"]["Owner"] = {
            "type": "object",
            "properties": {"name": {"type": "string"}},
        }
        schema(d, "Pet")["properties"].pop("tag")

    changes = _changes(edit)
    assert [c.breaking for c in changes] == [True, False]


def test_surface_survives_its_json_form() -> None:
    surface = _surface(BASE)
    assert from_json(to_json(surface)) == surface


def test_next_version_follows_semver() -> None:
    added = Change("operation-added", False, "client.x", "#", "added")
    removed = Change("operation-removed", True, "client.y", "#", "removed")
    assert next_version("1.4.2", []) == "1.4.2"
    assert next_version("1.4.2", [added]) == "1.5.0"
    assert next_version("1.4.2", [added, removed]) == "2.0.0"
    assert next_version("2024.1", [removed]) == "2024.1"


def test_markdown_report_has_a_table_per_group() -> None:
    changes = _changes(lambda d: schema(d, "Pet")["properties"].pop("tag"))
    text = as_markdown(changes, "old.json", "new.json", "1.0.0")
    assert "## Breaking" in text
    assert (
        "| field-removed | `models.Pet.tag` | removed | `#/components/schemas/Pet/properties/tag` |"
        in text
    )


def test_suggest_renames_pairs_a_model_that_moved_with_the_same_shape() -> None:
    new = copy.deepcopy(BASE)
    schemas = new["components"]["schemas"]
    schemas["Animal"] = schemas.pop("Pet")
    text = json.dumps(new).replace('#/components/schemas/Pet"', '#/components/schemas/Animal"')
    got = suggest(_surface(BASE), _surface(json.loads(text)))
    assert got["models"] == {"Pet": "Animal"}


def test_suggest_renames_pairs_operations_and_parameters() -> None:
    def edit(d: Doc) -> None:
        op(d, "/pets", "post")["operationId"] = "addPet"
        op(d, "/pets", "get")["parameters"][0]["name"] = "maxItems"

    new = copy.deepcopy(BASE)
    edit(new)
    got = suggest(_surface(BASE), _surface(new))
    assert got["operations"] == {"pets.create": "pets.add"}
    assert got["parameters"] == {"pets.list.limit": "max_items"}


# -- the command ---------------------------------------------------------------------------------


def _loom(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loom", *map(str, args)], capture_output=True, text=True, check=False
    )


def _write(tmp: Path, name: str, doc: Doc) -> Path:
    path = tmp / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_loom_diff_exits_1_and_says_why_when_something_breaks(tmp_path: Path) -> None:
    new = copy.deepcopy(BASE)
    new["paths"].pop("/pets/{petId}")
    proc = _loom("diff", _write(tmp_path, "a.json", BASE), _write(tmp_path, "b.json", new))
    assert proc.returncode == 1, proc.stderr
    assert "BREAKING operation-removed" in proc.stdout
    assert "client.pets.get" in proc.stdout
    assert proc.stderr.strip().splitlines()[-1].startswith("loom diff: 1 changes, 1 breaking")


def test_loom_diff_exits_0_when_nothing_breaks(tmp_path: Path) -> None:
    new = copy.deepcopy(BASE)
    new["components"]["schemas"]["Owner"] = {
        "type": "object",
        "properties": {"name": {"type": "string"}},
    }
    old_path, new_path = _write(tmp_path, "a.json", BASE), _write(tmp_path, "b.json", new)
    proc = _loom("diff", old_path, new_path, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["breaking"] == 0
    assert report["next_version"] == "0.2.0"
    assert [c["kind"] for c in report["changes"]] == ["model-added"]


def test_loom_diff_of_two_sdk_trees_equals_the_diff_of_their_schemas(tmp_path: Path) -> None:
    new = copy.deepcopy(BASE)
    schema(new, "Pet")["properties"].pop("tag")
    op(new, "/pets", "get")["parameters"][0]["schema"] = {"type": "string"}
    old_path, new_path = _write(tmp_path, "a.json", BASE), _write(tmp_path, "b.json", new)
    for name, path in (("old", old_path), ("new", new_path)):
        assert _loom("generate", path, "-o", tmp_path / name, "-q").returncode == 0
    from_trees = _loom("diff", tmp_path / "old", tmp_path / "new", "--format", "json")
    from_schemas = _loom("diff", old_path, new_path, "--format", "json")
    assert from_trees.returncode == from_schemas.returncode == 1
    assert json.loads(from_trees.stdout)["changes"] == json.loads(from_schemas.stdout)["changes"]


def test_loom_diff_says_what_to_do_when_a_folder_is_not_a_loom_sdk(tmp_path: Path) -> None:
    proc = _loom("diff", tmp_path, _write(tmp_path, "b.json", BASE))
    assert proc.returncode == 2
    assert "not an SDK generated by loom (no loom-api.json)" in proc.stderr
    assert "Traceback" not in proc.stderr
