"""``loom diff`` cross-checked with griffe on two generated packages.

griffe (``griffe check`` is its command; ``find_breaking_changes`` is what that command runs)
compares the Python source of the two SDKs. Everything it reports as breaking must be in loom's
report; loom must also catch what griffe cannot see: a parameter annotation that changed
(``int`` → ``str``) and a changed class-attribute default.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import griffe
import pytest

from loom.codegen.diff.compare import Change
from tests.codegen.diff_cases import BASE, op, schema


@dataclass(frozen=True)
class _Sdks:
    old: Path
    new: Path
    griffe: list[griffe.Breakage]
    loom: list[Change]


def _new_schema() -> dict[str, object]:
    new = copy.deepcopy(BASE)
    new["paths"].pop("/pets/{petId}")  # an operation removed
    op(new, "/pets", "get")["parameters"][0]["schema"] = {"type": "string"}  # limit: int → str
    op(new, "/pets", "get")["parameters"][1]["required"] = True  # kind became required
    op(new, "/pets", "post")["operationId"] = "addPet"  # pets.create → pets.add
    schema(new, "Pet")["properties"].pop("tag")  # a field removed
    schema(new, "NewPet")["properties"]["age"]["default"] = 2  # a default changed
    schema(new, "Status")["enum"] = ["available"]  # an enum value removed
    return new


@pytest.fixture(scope="module")
def sdks(tmp_path_factory: pytest.TempPathFactory) -> _Sdks:
    tmp = tmp_path_factory.mktemp("griffe")
    trees: dict[str, Path] = {}
    for name, doc in (("old", BASE), ("new", _new_schema())):
        source = tmp / f"{name}.json"
        source.write_text(json.dumps(doc), encoding="utf-8")
        trees[name] = tmp / name
        generate = ["generate", source, "-o", trees[name], "-q", "--package", "pets"]
        subprocess.run(
            [sys.executable, "-m", "loom", *generate],
            check=True,
            capture_output=True,
        )
    old = griffe.load("pets", search_paths=[str(trees["old"])], resolve_aliases=False)
    new = griffe.load("pets", search_paths=[str(trees["new"])], resolve_aliases=False)
    found = list(griffe.find_breaking_changes(old, new))
    proc = subprocess.run(
        [sys.executable, "-m", "loom", "diff", trees["old"], trees["new"], "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    changes = [Change(**c) for c in json.loads(proc.stdout)["changes"]]
    return _Sdks(trees["old"], trees["new"], found, changes)


def _loom_names(b: griffe.Breakage) -> set[str]:
    """The Python names loom may use for what griffe reports (``pets.resources.pets.AsyncPets
    .list`` → ``client.pets.list``; ``pets.models.pet.Pet.tag`` → ``models.Pet.tag``)."""
    parts = b.obj.path.split(".")
    area = parts[1]
    if area == "resources":
        module, method = parts[2], parts[-1]
        base = f"client.{module}.{method}"
        if b.kind in {
            griffe.BreakageKind.PARAMETER_CHANGED_REQUIRED,
            griffe.BreakageKind.PARAMETER_REMOVED,
            griffe.BreakageKind.PARAMETER_ADDED_REQUIRED,
            griffe.BreakageKind.PARAMETER_CHANGED_DEFAULT,
            griffe.BreakageKind.PARAMETER_CHANGED_KIND,
            griffe.BreakageKind.PARAMETER_MOVED,
        }:
            param = b.old_value if b.old_value is not None else b.new_value
            return {f"{base}({param.name})"}
        return {base}
    if area == "models":
        return {"models." + ".".join(parts[3:])}
    return {b.obj.path}


def _covered(b: griffe.Breakage, changes: list[Change]) -> bool:
    names = _loom_names(b)
    for c in changes:
        if not c.breaking:
            continue
        if c.python in names or (c.old is not None and f"client.{c.old}" in names):
            return True
    return False


def test_griffe_finds_breaking_changes_in_the_generated_packages(sdks: _Sdks) -> None:
    kinds = {b.kind for b in sdks.griffe}
    assert griffe.BreakageKind.OBJECT_REMOVED in kinds
    assert griffe.BreakageKind.PARAMETER_CHANGED_REQUIRED in kinds


def test_every_break_griffe_reports_is_in_loom_report(sdks: _Sdks) -> None:
    missing = [f"{b.kind.name} {b.obj.path}" for b in sdks.griffe if not _covered(b, sdks.loom)]
    assert missing == []


def test_loom_reports_the_parameter_type_change_griffe_misses(sdks: _Sdks) -> None:
    assert not [b for b in sdks.griffe if b.obj.path.endswith(".list") and "limit" in str(b)]
    change = next(c for c in sdks.loom if c.python == "client.pets.list(limit)")
    assert (change.kind, change.breaking, change.old, change.new) == (
        "parameter-type",
        True,
        "int",
        "str",
    )


def test_loom_reports_the_changed_class_attribute_default_griffe_misses(sdks: _Sdks) -> None:
    assert not [b for b in sdks.griffe if "NewPet" in b.obj.path]
    change = next(c for c in sdks.loom if c.python == "models.NewPet.age")
    assert (change.kind, change.breaking, change.old, change.new) == (
        "field-default",
        True,
        "1",
        "2",
    )
