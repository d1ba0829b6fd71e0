"""The generator's TOML configuration: strict tables, errors that name the key, its line and
the nearest valid spelling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from loom.codegen.config import load_config
from loom.codegen.config_file import line_of
from loom.codegen.diagnostics import FatalSchemaError

ROOT = Path(__file__).parent.parent.parent
PETSTORE = ROOT / "tests" / "fixtures" / "codegen" / "petstore.yaml"


def _error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "loom.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FatalSchemaError) as info:
        load_config(path)
    return str(info.value)


def test_misspelt_key_is_an_error_naming_the_line_and_the_nearest_spelling(
    tmp_path: Path,
) -> None:
    message = _error(tmp_path, '[sdk]\npackage = "pets"\nlayuot = "flat"\n')
    assert message.startswith(f"{tmp_path / 'loom.toml'}:3: sdk.layuot: unknown key")
    assert "(did you mean 'layout'?)" in message


def test_unknown_table_is_an_error_when_it_is_misspelt(tmp_path: Path) -> None:
    message = _error(tmp_path, '[renamse.models]\nOld = "New"\n')
    assert ":1: renamse: unknown key (did you mean 'renames'?)" in message


def test_unknown_key_without_a_near_spelling_lists_the_valid_keys(tmp_path: Path) -> None:
    message = _error(tmp_path, "[hooks]\nzzz = 1\n")
    assert "did you mean" not in message
    assert "valid keys here: pre, post" in message


def test_pagination_tables_are_strict_too(tmp_path: Path) -> None:
    message = _error(tmp_path, '[pagination.listPets]\nkind = "offset"\nitmes_field = "data"\n')
    assert ":3: pagination.listPets.itmes_field: unknown key (did you mean 'items_field'?)" in (
        message
    )


def test_every_problem_is_reported_in_file_order(tmp_path: Path) -> None:
    message = _error(
        tmp_path,
        '[sdk]\nlayout = "flta"\ninclude_tags = ["a", 3]\n\n[runtime]\nenv_prefix = "lower"\n',
    )
    lines = message.splitlines()
    assert len(lines) == 3
    assert ":2: sdk.layout: must be 'resources' or 'flat' (got 'flta')" in lines[0]
    assert ":3: sdk.include_tags.1: must be a valid string (got 3)" in lines[1]
    assert ":6: runtime.env_prefix: must be upper-case letters" in lines[2]


def test_bad_package_name_says_what_a_package_name_is(tmp_path: Path) -> None:
    message = _error(tmp_path, '[sdk]\npackage = "Not-A-Package"\n')
    assert ":2: sdk.package: must be a lower-case Python identifier" in message


def test_values_are_read_into_the_generator_config_when_the_file_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "loom.toml"
    path.write_text(
        "\n".join(
            [
                "[sdk]",
                'package = "pets"',
                'layout = "flat"',
                'idempotent = ["*/search"]',
                "[runtime]",
                'env_aliases = { base_url = "PETS_URL", client_id = ["A", "B"] }',
                'setting_defaults = { audience = "x", scopes = ["a"], retries = 3 }',
                "[pagination.listPets]",
                'kind = "offset"',
                'total_field = "total"',
                "[renames.models]",
                'OldPet = "Pet"',
                "[renames.parameters]",
                '"pets.list.max" = "limit"',
            ]
        ),
        encoding="utf-8",
    )
    config = load_config(path)
    assert (config.package, config.layout, config.idempotent) == ("pets", "flat", ("*/search",))
    assert config.env_aliases == {"base_url": ("PETS_URL",), "client_id": ("A", "B")}
    assert config.setting_defaults == {"audience": "x", "scopes": ("a",), "retries": 3}
    assert config.pagination == {
        "listPets": {"kind": "offset", "items_field": "items", "total_field": "total"}
    }
    assert config.renames.models == {"OldPet": "Pet"}
    assert config.renames.parameters == {"pets.list.max": "limit"}


def test_line_of_finds_dotted_and_quoted_keys() -> None:
    text = '[a]\nx = 1\n[b."c.d"]\ny.z = 2\n'
    assert line_of(text, ["a", "x"]) == 2
    assert line_of(text, ["b", "c.d", "y", "z"]) == 4
    assert line_of(text, ["b", "c.d", "nope"]) == 3
    assert line_of(text, ["q"]) is None


def test_loom_generate_exits_2_with_the_message_when_the_config_has_a_typo(
    tmp_path: Path,
) -> None:
    config = tmp_path / "loom.toml"
    config.write_text('[sdk]\nlayuot = "flat"\n', encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "loom", "generate", PETSTORE, "-o", out, "--config", config],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert f"loom: error: {config}:2: sdk.layuot: unknown key (did you mean 'layout'?)" in (
        proc.stderr
    )
    assert "Traceback" not in proc.stderr
    assert not out.exists()
