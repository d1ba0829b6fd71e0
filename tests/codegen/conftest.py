"""Fixtures shared by the Proxmox SDK tests: the PVE 9.1 SDK (paths layout) and a recorder."""

from __future__ import annotations

import gzip
from collections.abc import Generator
from pathlib import Path
from types import ModuleType

import pytest

from tests.codegen.support import RecordingServer, generate_sdk, recording_server

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "proxmox"


@pytest.fixture(scope="session")
def pve(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ModuleType]:
    """The PVE 9.1.2 SDK generated in the paths layout (env prefix PROXMOX), imported."""
    folder = tmp_path_factory.mktemp("pve")
    schema = folder / "apidata-pve-docs-9.1.2.js"
    schema.write_bytes(gzip.decompress((FIXTURE / "apidata-pve-docs-9.1.2.js.gz").read_bytes()))
    out = folder / "sdk"
    _, module = generate_sdk(schema, out, package="pve_sdk", layout="paths", env_prefix="PROXMOX")
    return out, module


@pytest.fixture
def server() -> Generator[RecordingServer]:
    """A started recording server."""
    with recording_server() as s:
        yield s
