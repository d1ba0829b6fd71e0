"""``loom diff`` on real schema pairs: Camunda 8.9 → main and Conductor 2025-10 → now.

The Camunda entries below were checked by hand against the two schemas (the property, the
parameter or the path in each document). The 8.9 usage example (``examples/camunda/
usage_8_9.py``, 30 operations) is type-checked against the 8.9 SDK, against the new SDK with
the suggested ``[renames]`` (it passes), and without them (it fails: an enum lost its name).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from loom.codegen.config import load_config
from loom.codegen.diff.compare import Change, compare
from loom.codegen.diff.load import load_surface
from loom.codegen.diff.suggest import suggest
from loom.codegen.diff.surface import Surface

ROOT = Path(__file__).parent.parent.parent
CAMUNDA = ROOT / "examples" / "camunda"
CONDUCTOR = ROOT / "examples" / "conductor"
USAGE = CAMUNDA / "usage_8_9.py"
RENAME = '\n[renames.models]\nElementInstanceFilterType = "ElementInstanceFilterFieldsType"\n'

# (kind, Python name, breaking, old, new): each checked in both schemas by hand.
CAMUNDA_EXPECTED: list[tuple[str, str, bool, str | None, str | None]] = [
    ("operation-added", "client.agent_definition.get", False, None, None),
    ("operation-added", "client.exporting.pause", False, None, None),
    ("operation-added", "client.cluster.get_cluster_topology", False, None, None),
    ("response-type", "client.resource.get_content", True, "str", "dict[str, Any]"),
    ("enum-removed", "models.ElementInstanceFilterType", True, "ElementInstanceFilterType", None),
    (
        "field-type",
        "models.ElementInstanceFilter.element_id",
        False,
        "ElementId | None",
        "ElementIdFilterProperty | None",
    ),
    (
        "field-type",
        "models.ElementInstanceFilter.element_name",
        False,
        "str | None",
        "StringFilterProperty | None",
    ),
    (
        "field-type",
        "models.ElementInstanceFilter.type",
        True,
        "ElementInstanceFilterType | None",
        "ElementInstanceFilterFieldsType | None",
    ),
    ("parameter-type", "client.group.get(group_id)", True, "str", "GroupId"),
    ("parameter-type", "client.role.delete(role_id)", True, "str", "RoleId"),
    ("field-type", "models.CreateClusterVariableRequest.name", True, "str", "ClusterVariableName"),
    (
        "field-type",
        "models.BatchOperationItemResponse.process_instance_key",
        True,
        "ProcessInstanceKey",
        "ProcessInstanceKey | None",
    ),
    (
        "field-added-required",
        "models.ClusterVariableResultBase.kind",
        False,
        None,
        "ClusterVariableKindEnum",
    ),
    (
        "field-added",
        "models.CreateClusterVariableRequest.metadata",
        False,
        None,
        "dict[str, str | float] | None",
    ),
    ("field-optional", "models.CursorForwardPagination.after", False, None, None),
    ("field-type", "models.GroupResult.group_id", False, "str", "GroupId"),
    (
        "enum-value-added",
        "models.BatchOperationTypeEnum.RESUME_PROCESS_INSTANCE",
        False,
        None,
        "'RESUME_PROCESS_INSTANCE'",
    ),
    ("enum-value-added", "models.BatchOperationTypeEnum.UPDATE_JOB", False, None, "'UPDATE_JOB'"),
    ("field-added", "models.JobCompletionRequest.lease_token", False, None, "str | None"),
    ("field-added", "models.JobActivationRequest.with_lease", False, None, "bool | None"),
    ("enum-added", "models.ClusterVariableKindEnum", False, None, None),
    ("id-type-added", "models.AgentDefinitionKey", False, None, None),
]


@pytest.fixture(scope="module")
def camunda() -> tuple[Surface, Surface]:
    config = load_config(CAMUNDA / "loom.toml")
    old = load_surface(CAMUNDA / "rest-api-8.9.bundle.json", config)
    new = load_surface(CAMUNDA / "rest-api.bundle.json", config)
    return old, new


def _entry(c: Change) -> tuple[str, str, bool, str | None, str | None]:
    return (c.kind, c.python, c.breaking, c.old, c.new)


def test_camunda_report_lists_the_changes_checked_by_hand(
    camunda: tuple[Surface, Surface],
) -> None:
    entries = {_entry(c) for c in compare(*camunda)}
    missing = [e for e in CAMUNDA_EXPECTED if e not in entries]
    assert missing == []
    assert len(CAMUNDA_EXPECTED) >= 20


def test_camunda_report_counts_what_the_release_added(camunda: tuple[Surface, Surface]) -> None:
    changes = compare(*camunda)
    added = [c for c in changes if c.kind == "operation-added"]
    old, new = camunda
    assert len(added) == len(new.methods) - len(old.methods) == 58
    assert not [c for c in changes if c.kind == "operation-removed"]


def test_camunda_suggested_rename_is_the_enum_that_moved(camunda: tuple[Surface, Surface]) -> None:
    assert suggest(*camunda)["models"] == {
        "ElementInstanceFilterType": "ElementInstanceFilterFieldsType"
    }


def test_conductor_report_lists_task_runtime_metadata_and_nothing_else() -> None:
    old, new = (
        CONDUCTOR / "orkes-conductor-api-2025-10.json",
        CONDUCTOR / "orkes-conductor-api.json",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "loom", "diff", "--format", "json", str(old), str(new)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    # The other schema changes (``additionalProperties: {}`` added to 40 object schemas) keep
    # every Python type as it was: dict[str, Any] and models that already keep extra fields.
    assert [(c["kind"], c["python"], c["breaking"], c["new"]) for c in report["changes"]] == [
        ("field-added", "models.Task.runtime_metadata", False, "dict[str, str] | None")
    ]
    assert report["next_version"] == "0.2.0"


# -- user code written against 8.9, type-checked against the new SDK -----------------------------


def _generate(schema: Path, out: Path, config: Path) -> None:
    args = ["generate", schema, "-o", out, "-q", "--config", config]
    subprocess.run(
        [sys.executable, "-m", "loom", *map(str, args)],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def sdks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("camunda")
    renamed = tmp / "renamed.toml"
    renamed.write_text((CAMUNDA / "loom.toml").read_text(encoding="utf-8") + RENAME, "utf-8")
    out = {"8.9": tmp / "c89", "main": tmp / "main", "main+renames": tmp / "renamed"}
    _generate(CAMUNDA / "rest-api-8.9.bundle.json", out["8.9"], CAMUNDA / "loom.toml")
    _generate(CAMUNDA / "rest-api.bundle.json", out["main"], CAMUNDA / "loom.toml")
    _generate(CAMUNDA / "rest-api.bundle.json", out["main+renames"], renamed)
    return out


def _pyright(sdk: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    (folder / "user.py").write_text(USAGE.read_text(encoding="utf-8"), encoding="utf-8")
    config = {"typeCheckingMode": "strict", "extraPaths": [str(sdk)]}
    (folder / "pyrightconfig.json").write_text(json.dumps(config), encoding="utf-8")
    pyright = ROOT / ".venv" / "bin" / "pyright"
    return subprocess.run(
        [str(pyright), "--pythonpath", sys.executable, "user.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )


def _mypy(sdk: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    (folder / "user.py").write_text(USAGE.read_text(encoding="utf-8"), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "user.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "MYPYPATH": str(sdk), "HOME": str(folder)},
    )


@pytest.mark.slow
@pytest.mark.parametrize("sdk", ["8.9", "main+renames"])
def test_usage_written_for_8_9_type_checks_against_the_sdk(
    sdks: dict[str, Path], tmp_path: Path, sdk: str
) -> None:
    proc = _pyright(sdks[sdk], tmp_path)
    assert proc.returncode == 0, proc.stdout
    proc = _mypy(sdks[sdk], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_usage_written_for_8_9_fails_against_the_new_sdk_without_the_renames(
    sdks: dict[str, Path], tmp_path: Path
) -> None:
    proc = _pyright(sdks["main"], tmp_path)
    assert '"ElementInstanceFilterType" is unknown import symbol' in proc.stdout


# -- Proxmox VE 7.4 → 9.1 (apidata.js, ``paths`` layout) ------------------------------------------

PROXMOX = ROOT / "examples" / "proxmox"
PROXMOX_FIXTURES = ROOT / "tests" / "fixtures" / "proxmox"
_HTTP = ("get", "post", "put", "delete")


def _proxmox_ops(path: Path) -> set[tuple[str, str]]:
    from loom.codegen.diagnostics import DiagnosticSink
    from loom.codegen.sources import load_document

    document = load_document(path, sink=DiagnosticSink()).document
    return {(m.upper(), p) for p, item in document["paths"].items() for m in item if m in _HTTP}


def test_proxmox_7_4_to_9_1_reports_every_operation_that_went_or_came(tmp_path: Path) -> None:
    files: list[Path] = []
    for version in ("7.4-2", "9.1.2"):
        js = tmp_path / f"apidata-{version}.js"
        packed = PROXMOX_FIXTURES / f"apidata-pve-docs-{version}.js.gz"
        js.write_bytes(gzip.decompress(packed.read_bytes()))
        files.append(js)
    config = load_config(PROXMOX / "loom.toml")
    old, new = (load_surface(f, config) for f in files)
    assert (len(old.methods), len(new.methods)) == (540, 649)
    changes = compare(old, new)
    # Computed from the two converted documents, not from loom diff.
    old_ops, new_ops = _proxmox_ops(files[0]), _proxmox_ops(files[1])
    gone, came = old_ops - new_ops, new_ops - old_ops
    assert (len(gone), len(came)) == (11, 120)

    by_key = {m.pointer: (m.method.upper(), m.path) for m in (*old.methods, *new.methods)}
    removed = [c for c in changes if c.kind == "operation-removed"]
    added = [c for c in changes if c.kind == "operation-added"]
    renamed = [c for c in changes if c.kind == "operation-renamed"]
    old_pointer = {m.python: m.pointer for m in old.methods}
    renamed_from = {by_key[old_pointer[c.old or ""]] for c in renamed}
    renamed_to = {by_key[c.pointer] for c in renamed}
    # Two paths only renamed a parameter (pci/{pciid} → pci/{pci-id-or-mapping}).
    assert len(renamed) == 2
    assert all(c.breaking for c in renamed)
    assert {by_key[c.pointer] for c in removed} | renamed_from == gone
    assert {by_key[c.pointer] for c in added} | renamed_to == came
    assert (len(removed), len(added)) == (9, 118)
    assert all(c.breaking for c in removed)
    assert ("GET", "/nodes/{node}/scan/glusterfs") in {by_key[c.pointer] for c in removed}
    assert "client.nodes.get_nodes_node_scan_glusterfs" in {c.python for c in removed}
    assert len([c for c in changes if c.breaking]) == 123
