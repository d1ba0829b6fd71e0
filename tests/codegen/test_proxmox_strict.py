"""The Proxmox SDKs in the paths layout pass ruff, pyright --strict and mypy --strict.

PVE 9.1.2 runs in the normal suite (``slow``: a few minutes); 7.4-2 and 8.3.2 with ``make corpus``
(marker ``corpus``, deselected by default).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from types import ModuleType

import pytest

from loom.codegen.config import load_config
from loom.codegen.pipeline import generate
from tests.codegen.test_golden import _check_all  # pyright: ignore[reportPrivateUsage]

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "proxmox"
CONFIG = Path(__file__).resolve().parent.parent.parent / "examples" / "proxmox" / "loom.toml"


@pytest.mark.slow
def test_pve_91_paths_sdk_passes_ruff_pyright_and_mypy_strict(
    pve: tuple[Path, ModuleType],
) -> None:
    _check_all(pve[0], "pve_sdk")


@pytest.mark.corpus
@pytest.mark.parametrize("version", ["7.4-2", "8.3.2"])
def test_older_pve_paths_sdks_pass_ruff_pyright_and_mypy_strict(
    version: str, tmp_path: Path
) -> None:
    schema = tmp_path / f"apidata-pve-docs-{version}.js"
    schema.write_bytes(gzip.decompress((FIXTURE / f"{schema.name}.gz").read_bytes()))
    generate(schema, tmp_path / "sdk", load_config(CONFIG))
    _check_all(tmp_path / "sdk", "pve_sdk")
