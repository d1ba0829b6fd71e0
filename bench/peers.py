"""Peer tools the benchmarks compare loom with, each in its own virtualenv under ``build/peers``.

- ``opc``: openapi-python-client 0.29.1 (plus ruff, which it runs to format its output, and the
  libraries its generated SDKs import, so pyright can check them in the same environment).
- ``camunda``: camunda-orchestration-sdk 10.0.1, Camunda's own generated Python SDK.
- ``runtime``: only the libraries a generated SDK's runtime needs, to time imports in.
- ``prmxctrl``: prmxctrl 0.1.2, a generated pydantic SDK for Proxmox VE 7.4.

Creating a peer is idempotent: a marker file records what was installed, and a second call
returns at once. Run ``python -m bench.peers`` to create all of them.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
PEERS_DIR = ROOT / "build" / "peers"
UV = ROOT / ".tools" / "bin" / "uv"


@dataclass(frozen=True)
class Peer:
    """One peer virtualenv: its folder name and the requirements installed into it."""

    name: str
    requirements: tuple[str, ...]

    @property
    def venv(self) -> Path:
        """The virtualenv folder."""
        return PEERS_DIR / self.name

    @property
    def python(self) -> Path:
        """The virtualenv's interpreter."""
        return self.venv / "bin" / "python"

    def bin(self, name: str) -> Path:
        """A console script installed in the virtualenv."""
        return self.venv / "bin" / name


OPC = Peer(
    "opc",
    (
        "openapi-python-client==0.29.1",
        "ruff==0.17.6",
        "httpx",
        "attrs",
        "python-dateutil",
    ),
)
CAMUNDA = Peer("camunda", ("camunda-orchestration-sdk==10.0.1",))
# Only what a generated SDK's runtime declares (httpx, pydantic, sniffio), at loom's locked
# versions: bench.worker_throughput imports the worker here (PYTHONPATH=src) as camunda's peer
# is imported in its own venv. In loom's venv, httpx also imports its CLI (click, rich,
# pygments), which the dev tools installed there.
RUNTIME = Peer("runtime", ("httpx==0.28.1", "pydantic==2.14.3", "sniffio==1.3.1"))
PRMXCTRL = Peer("prmxctrl", ("prmxctrl==0.1.2",))
ALL_PEERS = (OPC, CAMUNDA, RUNTIME, PRMXCTRL)


def ensure_peer(peer: Peer) -> Path:
    """Create ``peer``'s virtualenv and install its requirements unless already done.

    Args:
        peer: the peer to set up.

    Returns:
        The virtualenv's Python interpreter.

    Raises:
        RuntimeError: when uv is missing or an install fails (the message says what to do).
    """
    marker = peer.venv / ".loom-peer"
    wanted = "\n".join(peer.requirements)
    if marker.exists() and marker.read_text() == wanted and peer.python.exists():
        return peer.python
    if not UV.exists():
        raise RuntimeError(f"{UV} is missing: run `make install` first")
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    print(f"peers: creating {peer.venv} with {', '.join(peer.requirements)}", file=sys.stderr)
    steps = [
        [str(UV), "venv", "--quiet", "--clear", "--python", "python3", str(peer.venv)],
        [str(UV), "pip", "install", "--quiet", "--python", str(peer.python), *peer.requirements],
    ]
    for cmd in steps:
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"peers: `{' '.join(cmd)}` failed ({result.returncode}):\n{result.stderr[-2000:]}"
                "\nfix the cause above (often: no access to PyPI), then run "
                "`python -m bench.peers` again"
            )
    marker.write_text(wanted)
    return peer.python


def main() -> int:
    """Create every peer virtualenv; print one line per peer."""
    for peer in ALL_PEERS:
        try:
            python = ensure_peer(peer)
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"peers: {peer.name} ready at {python}")
    print(f"peers: {len(ALL_PEERS)} peers ready under {PEERS_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
