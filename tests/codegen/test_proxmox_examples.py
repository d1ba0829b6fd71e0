"""``examples/proxmox``: the scripts run against a loopback fake PVE and pass pyright strict."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from loom.codegen.config import load_config
from tests.codegen.support import RecordingServer, Reply
from tests.codegen.test_proxmox_auth import PASSWORD, USER, FakePve

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples" / "proxmox"
VENV_BIN = Path(sys.executable).parent


def run_example(sdk: Path, server: RecordingServer, *args: str) -> str:
    env = {
        **os.environ,
        "PYTHONPATH": str(sdk),
        "PROXMOX_BASE_URL": server.url,
        "PROXMOX_USER": USER,
        "PROXMOX_PASSWORD": PASSWORD,
    }
    done = subprocess.run(
        [sys.executable, *args],
        check=False,
        cwd=EXAMPLES,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_example_configuration_is_the_one_the_tests_generate() -> None:
    config = load_config(EXAMPLES / "loom.toml")
    assert (config.package, config.layout, config.source, config.prefix) == (
        "pve_sdk",
        "paths",
        "proxmox",
        "PROXMOX",
    )


def test_examples_list_start_and_wait_against_a_fake_pve(
    pve: tuple[Path, ModuleType], server: RecordingServer
) -> None:
    fake = FakePve(server)
    server.routes[("GET", "/nodes/pve1/qemu")] = fake.authorized(
        lambda _: Reply(200, {"data": [{"vmid": 100, "status": "stopped", "name": "web"}]}),
        "/nodes/{node}/qemu",
    )
    assert run_example(pve[0], server, "list_vms.py").split("\n")[:2] == [
        "node pve1: online",
        "  vm 100 web stopped",
    ]
    assert run_example(pve[0], server, "start_vm.py", "pve1", "100").strip() == "OK"
    fake.task_polls = 0
    out = run_example(pve[0], server, "async_start.py", "pve1", "100")
    assert out.split("\n")[0] == "100:stopped"
    assert out.strip().endswith(": OK")


@pytest.mark.slow
def test_examples_pass_pyright_strict(pve: tuple[Path, ModuleType], tmp_path: Path) -> None:
    config = tmp_path / "pyrightconfig.json"
    config.write_text(
        '{"typeCheckingMode": "strict", "pythonVersion": "3.11", '
        f'"extraPaths": ["{pve[0]}"], "include": ["{EXAMPLES}"]}}'
    )
    done = subprocess.run(
        [str(VENV_BIN / "pyright"), "--pythonpath", sys.executable, "-p", str(config)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
