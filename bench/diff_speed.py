"""``loom diff`` on Camunda 8.9 → main, against griffe on the two generated packages, one run.

Three commands, each a whole process (bytecode caches written, one untimed warm-up each, the
runs interleaved), medians compared:

- ``loom diff`` of the two schemas (both loaded and built into the IR): target under 1 s;
- ``loom diff`` of the two generated SDK trees (their ``loom-api.json``);
- the peer, griffe: ``griffe.load`` of both generated packages and ``find_breaking_changes``
  (what ``griffe check`` runs, without its git worktrees).

    python -m bench.diff_speed [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from bench._common import (
    BENCH_BUILD,
    CAMUNDA_CONFIG,
    CAMUNDA_SCHEMA,
    LOOM_PYTHON,
    ROOT,
    command_line,
    fail_tail,
    median,
    stamp,
    timed_run,
    write_section,
)

SECTION = "diff_speed"
OLD_SCHEMA = ROOT / "examples" / "camunda" / "rest-api-8.9.bundle.json"
TARGET = 1.0

_GRIFFE = """
import sys, griffe
old = griffe.load("camunda_sdk", search_paths=[sys.argv[1]], resolve_aliases=False)
new = griffe.load("camunda_sdk", search_paths=[sys.argv[2]], resolve_aliases=False)
print(sum(1 for _ in griffe.find_breaking_changes(old, new)), "breakages")
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # any value disables .pyc writing
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _trees() -> tuple[Path, Path]:
    out = BENCH_BUILD / "diff"
    trees = (out / "camunda-8.9", out / "camunda-main")
    for schema, tree in zip((OLD_SCHEMA, CAMUNDA_SCHEMA), trees, strict=True):
        cmd = [str(LOOM_PYTHON), "-m", "loom", "generate", str(schema), "-o", str(tree)]
        subprocess.run([*cmd, "--config", str(CAMUNDA_CONFIG), "-q"], check=True, env=_env())
    return trees


def main(argv: list[str] | None = None) -> int:
    """Measure, print the ratios, write the ``diff_speed`` section of docs/benchmarks.md."""
    parser = argparse.ArgumentParser(prog="python -m bench.diff_speed")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    old_tree, new_tree = _trees()
    loom = [str(LOOM_PYTHON), "-m", "loom", "diff"]
    commands = {
        "loom diff, two schemas": [
            *loom,
            str(OLD_SCHEMA),
            str(CAMUNDA_SCHEMA),
            "--config",
            str(CAMUNDA_CONFIG),
            "-o",
            os.devnull,
        ],
        "loom diff, two SDK trees": [*loom, str(old_tree), str(new_tree), "-o", os.devnull],
        f"griffe {version('griffe')}, two SDK packages": [
            str(LOOM_PYTHON),
            "-c",
            _GRIFFE,
            str(old_tree),
            str(new_tree),
        ],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    env = _env()
    for run in range(args.runs + 1):
        for name, cmd in commands.items():
            before = _children_cpu()
            result = timed_run(cmd, env=env)
            if result.returncode not in (0, 1):  # loom diff exits 1: Camunda's changes break
                print(f"{name} failed:\n{fail_tail(result.output)}", file=sys.stderr)
                return 1
            if run > 0:
                times[name].append(result.seconds)
                cpu[name].append(_children_cpu() - before)
        print(f"  run {run}/{args.runs} done", file=sys.stderr, flush=True)
    medians = {name: median(values) for name, values in times.items()}
    peer = next(name for name in commands if name.startswith("griffe"))
    cpus = {name: median(values) for name, values in cpu.items()}
    rows = [
        f"| {name} | {medians[name]:.2f} s | {cpus[name]:.2f} s | "
        f"{medians[name] / medians[peer]:.2f} | " + ", ".join(f"{t:.2f}" for t in values) + " |"
        for name, values in times.items()
    ]
    load = os.getloadavg()[0]
    schemas = medians["loom diff, two schemas"]
    verdict = "meets it" if schemas < TARGET else "misses it"
    body = "\n".join(
        [
            "## `loom diff`: Camunda 8.9 → main (loom vs griffe)",
            "",
            stamp(command_line("bench.diff_speed", argv)),
            "",
            "Whole process each, bytecode caches written, one untimed warm-up, runs interleaved. "
            "griffe loads both generated packages and runs `find_breaking_changes` (what "
            "`griffe check` runs, without its git worktrees); loom reads the schemas (or the "
            "trees' `loom-api.json`) and compares the Python API.",
            "",
            f"Load average during the run: {load:.1f} on {os.cpu_count()} cores (CPU time is the "
            "process's user + system time, less sensitive to other load than wall time).",
            "",
            "| command | median wall time | median CPU time | wall / griffe | runs (wall) |",
            "|---|---:|---:|---:|---|",
            *rows,
            "",
            f"`loom diff` of the two schemas: **{schemas:.2f} s** wall (target < {TARGET:.0f} s: "
            f"{verdict} at this load), {cpus['loom diff, two schemas']:.2f} s of CPU in two "
            "processes (the old schema is built in a forked process while the new one is built).",
        ]
    )
    write_section(SECTION, body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
