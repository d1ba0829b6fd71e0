"""``[renames]``: the SDK keeps old names for one major version, deprecated.

The new schema renames an operation, a model (its component key), a field and a parameter (their
wire names); the configuration maps the old Python names to the new ones. The generated SDK is
imported and called against a loopback server, and user code written against the old names is
type-checked against it.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from loom.codegen.config import GeneratorConfig, Renames
from loom.codegen.diagnostics import Severity
from loom.codegen.diff.compare import compare
from loom.codegen.diff.load import load_surface
from loom.codegen.pipeline import generate
from tests.codegen.diff_cases import BASE, Doc, op, schema
from tests.codegen.support import RecordingServer, Reply, generate_sdk, recording_server

ROOT = Path(__file__).parent.parent.parent
RENAMES = Renames(
    operations={"pets.create": "pets.add"},
    models={"Pet": "Animal"},
    fields={"NewPet.tag": "label"},
    parameters={"pets.list.limit": "max_items"},
)


def _renamed_schema() -> Doc:
    new = copy.deepcopy(BASE)
    op(new, "/pets", "post")["operationId"] = "addPet"
    op(new, "/pets", "get")["parameters"][0]["name"] = "maxItems"
    props = schema(new, "NewPet")["properties"]
    props["label"] = props.pop("tag")
    schemas = new["components"]["schemas"]
    schemas["Animal"] = schemas.pop("Pet")
    text = json.dumps(new).replace('#/components/schemas/Pet"', '#/components/schemas/Animal"')
    return json.loads(text)


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("renames")
    out: dict[str, Path] = {}
    for name, doc in (("old", BASE), ("new", _renamed_schema())):
        (tmp / f"{name}.json").write_text(json.dumps(doc), encoding="utf-8")
        out[name + "_schema"] = tmp / f"{name}.json"
    out["old"] = tmp / "old"
    out["new"] = tmp / "new"
    generate_sdk(out["old_schema"], out["old"], package="pets_old")
    return out


@pytest.fixture(scope="module")
def sdk(trees: dict[str, Path]) -> ModuleType:
    result, module = generate_sdk(
        trees["new_schema"], trees["new"], package="pets", renames=RENAMES
    )
    assert [d for d in result.diagnostics if d.code == "rename"] == []
    return module


def _client(sdk: ModuleType, server: RecordingServer) -> Any:
    return sdk.Client(base_url=server.url, max_retries=0)


def _pet(status: int = 201) -> Reply:
    return Reply(status, {"id": 1, "name": "Rex"})


def test_old_method_name_calls_the_new_one_and_warns(sdk: ModuleType) -> None:
    with recording_server() as server:
        server.routes[("POST", "/pets")] = _pet()
        with pytest.warns(DeprecationWarning, match=r"create is renamed add"):
            pet = _client(sdk, server).pets.create(name="Rex")
        assert pet.name == "Rex"
        assert server.last.json() == {"name": "Rex"}


def test_old_method_name_works_on_the_async_client_too(sdk: ModuleType) -> None:
    async def call(url: str) -> Any:
        async with sdk.AsyncClient(base_url=url, max_retries=0) as client:
            return await client.pets.create(name="Rex")

    with recording_server() as server:
        server.routes[("POST", "/pets")] = _pet()
        with pytest.warns(DeprecationWarning, match=r"create is renamed add"):
            pet = asyncio.run(call(server.url))
        assert pet.id == 1


def test_new_method_name_does_not_warn(sdk: ModuleType) -> None:
    with recording_server() as server:
        server.routes[("POST", "/pets")] = _pet()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _client(sdk, server).pets.add(name="Rex")


def test_old_model_name_is_the_new_class_and_warns(sdk: ModuleType) -> None:
    with pytest.warns(DeprecationWarning, match=r"models.Pet is renamed Animal"):
        old = sdk.models.Pet
    assert old is sdk.models.Animal
    assert "Pet" not in sdk.models.__all__


def test_old_field_name_is_accepted_on_input_with_a_warning(sdk: ModuleType) -> None:
    with pytest.warns(DeprecationWarning, match=r"NewPet: field 'tag' is renamed 'label'"):
        pet = sdk.models.NewPet.model_validate({"name": "Rex", "tag": "good"})
    assert pet.label == "good"
    assert pet.to_dict() == {"name": "Rex", "label": "good"}
    with pytest.warns(DeprecationWarning, match=r"NewPet.tag is renamed label"):
        assert pet.tag == "good"


def test_removed_keyword_raises_a_type_error_naming_its_replacement(sdk: ModuleType) -> None:
    with recording_server() as server:
        client = _client(sdk, server)
        with pytest.raises(TypeError, match=r"'limit': it is renamed 'max_items'"):
            client.pets.list(limit=3)
        server.routes[("GET", "/pets")] = Reply(200, [])
        assert client.pets.list(max_items=3) == []
        assert server.last.query == [("maxItems", "3")]


def test_renames_that_do_not_fit_the_api_are_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "api.json"
    path.write_text(json.dumps(_renamed_schema()), encoding="utf-8")
    bad = Renames(
        operations={"pets.create": "pets.nope", "pets.add": "pets.list"},
        models={"Pet": "Nope"},
        fields={"NewPet.name": "label"},
        parameters={"pets.list.limit": "nope"},
    )
    result, _ = generate_sdk(path, tmp_path / "out", package="pets_bad", renames=bad)
    messages = sorted(d.message for d in result.diagnostics if d.code == "rename")
    assert len(messages) == 5
    assert all(d.severity is Severity.WARNING for d in result.diagnostics if d.code == "rename")
    assert (
        "[renames] operations.pets.create: no operation is called pets.nope; no alias is generated"
        in messages
    )
    assert (
        "[renames] operations.pets.add: that name is still an operation; no alias is generated"
        in (messages)
    )


def test_loom_diff_counts_aliased_renames_as_not_breaking(trees: dict[str, Path], sdk: Any) -> None:
    del sdk
    changes = compare(
        load_surface(trees["old_schema"], GeneratorConfig()),
        load_surface(trees["new"], GeneratorConfig()),
    )
    by_kind = {(c.kind, c.python): c for c in changes}
    operation = by_kind["operation-renamed", "client.pets.add"]
    model = by_kind["model-renamed", "models.Animal"]
    assert (operation.aliased, operation.breaking) == (True, False)
    assert (model.aliased, model.breaking) == (True, False)
    # a renamed keyword still breaks a call (it fails, with a message naming the new keyword)
    assert by_kind["parameter-renamed", "client.pets.list(max_items)"].breaking


# -- type checkers on user code written against the old names ----------------------------------

USER_CODE = """
from pets import Client
from pets.models import NewPet, Pet


def use(client: Client) -> str:
    created: Pet = client.pets.create(name="Rex")
    again = client.pets.create(name="Rex")
    new_pet = NewPet(name="Rex", label="good")
    return created.name + again.name + (new_pet.tag or "")
"""


def _checker(tool: str, folder: Path, sdk_tree: Path) -> subprocess.CompletedProcess[str]:
    env_path = f"{sdk_tree}"
    if tool == "pyright":
        (folder / "pyrightconfig.json").write_text(
            json.dumps({"typeCheckingMode": "strict", "extraPaths": [env_path]}), encoding="utf-8"
        )
        cmd = [str(ROOT / ".venv" / "bin" / "pyright"), "--pythonpath", sys.executable, "user.py"]
    else:
        cmd = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "user.py"]
    return subprocess.run(
        cmd,
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "MYPYPATH": env_path, "HOME": str(folder)},
    )


def test_pyright_reports_only_deprecations_on_user_code_using_old_names(
    sdk: ModuleType, trees: dict[str, Path], tmp_path: Path
) -> None:
    del sdk
    (tmp_path / "user.py").write_text(USER_CODE, encoding="utf-8")
    proc = _checker("pyright", tmp_path, trees["new"])
    rules = re.findall(r"\(report(\w+)\)", proc.stdout)
    # create twice, and NewPet.tag; the model alias is not reported (PEP 702 has no alias form)
    assert rules == ["Deprecated", "Deprecated", "Deprecated"], proc.stdout


def test_mypy_strict_accepts_user_code_using_old_names(
    sdk: ModuleType, trees: dict[str, Path], tmp_path: Path
) -> None:
    del sdk
    (tmp_path / "user.py").write_text(USER_CODE, encoding="utf-8")
    proc = _checker("mypy", tmp_path, trees["new"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_sdk_with_aliases_is_clean_under_ruff_pyright_and_mypy_strict(
    sdk: ModuleType, trees: dict[str, Path]
) -> None:
    del sdk
    tree = trees["new"]
    bin_dir = ROOT / ".venv" / "bin"
    for cmd in (
        [str(bin_dir / "ruff"), "check", "--no-cache", "."],
        [str(bin_dir / "ruff"), "format", "--check", "--no-cache", "."],
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "pets"],
    ):
        proc = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    (tree / "pyrightconfig.json").write_text('{"typeCheckingMode": "strict"}', encoding="utf-8")
    proc = subprocess.run(
        [str(bin_dir / "pyright"), "--pythonpath", sys.executable, "pets"],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout


# -- the version follows the changes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("renames", "version"),
    [(RENAMES, "2.0.0"), (Renames(), "2.0.0")],
)
def test_version_bumps_the_major_when_a_break_is_not_covered_by_an_alias(
    trees: dict[str, Path], tmp_path: Path, renames: Renames, version: str
) -> None:
    # the renamed keyword still breaks calls, aliases or not
    previous = dataclasses.replace(load_surface(trees["old"], GeneratorConfig()), version="1.2.0")
    config = GeneratorConfig(package="pets", renames=renames)
    result = generate(trees["new_schema"], tmp_path / "out", config, previous=previous)
    assert result.version == version
    init = (tmp_path / "out" / "pets" / "__init__.py").read_text(encoding="utf-8")
    assert f'__version__ = "{version}"' in init


def test_version_bumps_the_minor_when_every_break_is_covered_by_an_alias(
    trees: dict[str, Path], tmp_path: Path
) -> None:
    doc = _renamed_schema()
    op(doc, "/pets", "get")["parameters"][0]["name"] = "limit"  # no keyword rename this time
    path = tmp_path / "api.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    renames = Renames(operations=RENAMES.operations, models=RENAMES.models, fields=RENAMES.fields)
    previous = dataclasses.replace(load_surface(trees["old"], GeneratorConfig()), version="1.2.0")
    config = GeneratorConfig(package="pets", renames=renames)
    result = generate(path, tmp_path / "out", config, previous=previous)
    assert result.changes is not None
    assert not [c for c in result.changes if c.breaking]
    assert result.version == "1.3.0"


def test_version_stays_when_nothing_changed_and_never_goes_below_the_configured_one(
    trees: dict[str, Path], tmp_path: Path
) -> None:
    previous = load_surface(trees["old"], GeneratorConfig())  # version 0.1.0
    same = generate(trees["old_schema"], tmp_path / "a", GeneratorConfig(), previous=previous)
    assert (same.changes, same.version) == ([], "0.1.0")
    higher = GeneratorConfig(version="3.0.0")
    assert generate(trees["old_schema"], tmp_path / "b", higher, previous=previous).version == (
        "3.0.0"
    )


def test_loom_generate_previous_prints_the_version_it_chose(
    trees: dict[str, Path], tmp_path: Path
) -> None:
    args = ["generate", trees["new_schema"], "-o", tmp_path, "--previous", trees["old"]]
    proc = subprocess.run(
        [sys.executable, "-m", "loom", *map(str, args), "--package", "pets"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "version 1.0.0 (previous 0.1.0; " in proc.stderr


def test_aliases_the_previous_major_version_had_are_dropped_on_the_next_major(
    trees: dict[str, Path], sdk: ModuleType, tmp_path: Path
) -> None:
    del sdk
    previous = load_surface(trees["new"], GeneratorConfig())  # 0.1.0, with the aliases
    assert previous.aliases
    doc = _renamed_schema()
    doc["paths"].pop("/pets/{petId}")  # a break: the next version is 1.0.0
    path = tmp_path / "api.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    config = GeneratorConfig(package="pets", renames=RENAMES)
    result = generate(path, tmp_path / "out", config, previous=previous)
    assert result.version == "1.0.0"
    dropped = [d.message for d in result.diagnostics if "previous major version" in d.message]
    assert len(dropped) == 4
    resource = (tmp_path / "out" / "pets" / "resources" / "pets.py").read_text(encoding="utf-8")
    assert "def create(" not in resource
    assert "renamed_keywords" not in resource


def test_aliases_stay_while_the_major_version_does(
    trees: dict[str, Path], sdk: ModuleType, tmp_path: Path
) -> None:
    del sdk
    previous = load_surface(trees["new"], GeneratorConfig())
    config = GeneratorConfig(package="pets", renames=RENAMES)
    result = generate(trees["new_schema"], tmp_path / "out", config, previous=previous)
    assert (result.changes, result.version) == ([], "0.1.0")
    resource = (tmp_path / "out" / "pets" / "resources" / "pets.py").read_text(encoding="utf-8")
    assert "def create(" in resource
