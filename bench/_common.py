"""Helpers shared by the bench scripts: commands for both generators, medians, docs sections.

Each bench script owns one section of ``docs/benchmarks.md`` between
``<!-- begin:NAME -->`` and ``<!-- end:NAME -->``; ``write_section`` replaces only that part.
"""

from __future__ import annotations

import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.peers import OPC

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
LOOM_PYTHON = ROOT / ".venv" / "bin" / "python"
CAMUNDA_SCHEMA = ROOT / "examples" / "camunda" / "rest-api.bundle.json"
CAMUNDA_CONFIG = ROOT / "examples" / "camunda" / "loom.toml"
BENCH_BUILD = ROOT / "build" / "bench"

_INTRO = """# Benchmarks

Side-by-side measurements of loom against named peers, each measured in the same run on the
same machine (2 cores). Every section is written by the script named in it (`make bench` runs
them all); edit the scripts, not the numbers.
"""


def write_section(name: str, body: str, *, path: Path = DOCS) -> None:
    """Replace (or append) the ``name`` section of ``docs/benchmarks.md``.

    Args:
        name: the section's marker name.
        body: Markdown for the section (without markers).
        path: the file; created with a short intro when absent.
    """
    begin, end = f"<!-- begin:{name} -->", f"<!-- end:{name} -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.exists() else _INTRO
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def stamp(command: str) -> str:
    """The line every section carries: the exact command and the date."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"Measured {now} with `{command}` (run from the repository root)."


def command_line(module: str, argv: Sequence[str] | None = None) -> str:
    """``python -m bench.x ARGS`` for the arguments ``main`` received (None: the command line)."""
    args = list(sys.argv[1:] if argv is None else argv)
    return f"python -m {module} " + shlex.join(args) if args else f"python -m {module}"


def loom_generate_cmd(
    out: Path, schema: Path = CAMUNDA_SCHEMA, config: Path | None = CAMUNDA_CONFIG
) -> list[str]:
    """loom's command for a schema (the Camunda SDK by default) into ``out``."""
    cmd = [str(LOOM_PYTHON), "-m", "loom", "generate", str(schema), "-o", str(out)]
    if config is not None:
        cmd += ["--config", str(config)]
    return [*cmd, "-q"]


def opc_generate_cmd(out: Path, schema: Path = CAMUNDA_SCHEMA) -> list[str]:
    """openapi-python-client's command for a schema (Camunda's by default) into ``out``
    (ruff formatting on)."""
    return [
        str(OPC.bin("openapi-python-client")),
        "generate",
        "--path",
        str(schema),
        "--output-path",
        str(out),
        "--overwrite",
    ]


def opc_env() -> dict[str, str]:
    """Environment for openapi-python-client: its ruff first on PATH, unwrapped output."""
    env = dict(os.environ)
    env["PATH"] = f"{OPC.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(COLUMNS="400", NO_COLOR="1", TERM="dumb")
    return env


@dataclass(frozen=True)
class Timed:
    """One timed subprocess run."""

    seconds: float
    returncode: int
    output: str


def timed_run(cmd: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path = ROOT) -> Timed:
    """Run ``cmd`` to completion and time it (wall clock)."""
    started = time.perf_counter()
    result = subprocess.run(
        list(cmd), cwd=cwd, env=env, capture_output=True, text=True, errors="replace", check=False
    )
    return Timed(time.perf_counter() - started, result.returncode, result.stdout + result.stderr)


def median(values: Sequence[float]) -> float:
    """The median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")


def fail_tail(output: str, lines: int = 5) -> str:
    """The last few non-empty lines of a command's output, for an error message."""
    kept = [ln for ln in output.strip().splitlines() if ln.strip()]
    return "\n".join(kept[-lines:])


def cpu_reference_seconds(runs: int = 3) -> float:
    """Seconds one core takes for a fixed pure-Python loop (10 million additions), the best
    of ``runs``: how fast this machine's cores are, so that absolute numbers measured on
    different machines can be put side by side."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best
