"""Golden SDK trees are current, and every SDK loom writes passes ruff, pyright and mypy strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from loom.codegen.config import GeneratorConfig, load_config
from loom.codegen.pipeline import generate
from tests.codegen.golden_cases import CASES, GOLDEN

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
CAMUNDA = ROOT / "examples" / "camunda"


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_tree_is_current_when_regenerated(name: str) -> None:
    schema, options = CASES[name]
    result = generate(schema, GOLDEN / name, GeneratorConfig(**options), check=True)
    assert result.stale == [], "golden tree is stale: run `make golden` and review the diff"


@pytest.fixture(scope="module")
def camunda_sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("camunda")
    generate(CAMUNDA / "rest-api.bundle.json", out, load_config(CAMUNDA / "loom.toml"))
    return out


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} failed:\n{proc.stdout[-6000:]}{proc.stderr[-2000:]}"
    )


def _check_all(folder: Path, package: str) -> None:
    ruff = str(VENV_BIN / "ruff")
    # Import order and __all__ too: the generator renders them sorted and runs no fix pass.
    _run([ruff, "check", "--no-cache", "--extend-select", "I,RUF022", "."], folder)
    _run([ruff, "format", "--check", "--no-cache", "."], folder)
    _run([str(VENV_BIN / "pyright"), "--pythonpath", sys.executable, "."], folder)
    _run(
        [
            str(VENV_BIN / "mypy"),
            "--strict",
            "--no-incremental",
            "--python-executable",
            sys.executable,
            package,
        ],
        folder,
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_sdk_passes_ruff_pyright_and_mypy_strict(name: str) -> None:
    _check_all(GOLDEN / name, CASES[name][1]["package"])


@pytest.mark.slow
def test_camunda_sdk_passes_ruff_pyright_and_mypy_strict(camunda_sdk: Path) -> None:
    _check_all(camunda_sdk, "camunda_sdk")
