"""loom's Camunda SDK now against the SDK an earlier loom commit generates, in one run.

Both SDKs are generated here (the earlier one by that commit's ``src/loom``, taken with
``git archive``), then compared on size (lines and files, the largest module, the largest
resource module) and on start-up: a fresh interpreter per run times ``import camunda_sdk;
Client()`` and, separately, the first use of a resource (``client.process_instance``: the
resource module and the models it imports). Bytecode caches are written (one warm-up run each,
``PYTHONDONTWRITEBYTECODE`` removed); ``--runs`` alternating runs, medians.

    python -m bench.sdk_regression [--against 9667c20] [--runs 9]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
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
    write_section,
)

SECTION = "sdk_regression"
PACKAGE = "camunda_sdk"

_PROBE = """
import sys, time, json
t0 = time.perf_counter()
import camunda_sdk as sdk
client = sdk.Client()
t1 = time.perf_counter()
resource = client.process_instance
t2 = time.perf_counter()
print("@@" + json.dumps({"client": t1 - t0, "resource": t2 - t1}))
"""


@dataclass(frozen=True)
class Size:
    """Lines of an SDK's Python files."""

    lines: int
    files: int
    largest: tuple[str, int]
    largest_resource: tuple[str, int]


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
    }
    env.update(extra)
    return env


def _source_of(commit: str, dest: Path) -> Path:
    """``src`` and the Camunda configuration of ``commit`` unpacked under ``dest``; returns
    ``dest``."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "src", "examples/camunda/loom.toml"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise RuntimeError(f"git archive {commit} failed: {archive.stderr.decode()[-500:]}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def _generate(out: Path, checkout: Path | None) -> float:
    """Generate the Camunda SDK into ``out`` with the loom (and the configuration) unpacked in
    ``checkout`` (``None``: this one)."""
    shutil.rmtree(out, ignore_errors=True)
    config = CAMUNDA_CONFIG if checkout is None else checkout / "examples/camunda/loom.toml"
    cmd = [str(LOOM_PYTHON), "-m", "loom", "generate", str(CAMUNDA_SCHEMA), "-o", str(out)]
    cmd += ["--config", str(config)]
    env = _clean_env({"PYTHONPATH": str(checkout / "src")} if checkout is not None else {})
    started = time.perf_counter()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"loom generate failed:\n{fail_tail(result.stdout + result.stderr)}")
    return time.perf_counter() - started


def size_of(root: Path) -> Size:
    """Line counts of every ``.py`` file under ``root``."""
    counts = {
        str(p.relative_to(root)): len(p.read_text(encoding="utf-8").splitlines())
        for p in root.rglob("*.py")
    }
    resources = {k: v for k, v in counts.items() if "/resources/" in k}
    largest = max(counts.items(), key=lambda kv: kv[1])
    largest_resource = max(resources.items(), key=lambda kv: kv[1], default=("-", 0))
    return Size(sum(counts.values()), len(counts), largest, largest_resource)


def _measure(root: Path) -> tuple[float, float]:
    result = subprocess.run(
        [str(LOOM_PYTHON), "-c", _PROBE],
        env=_clean_env({"PYTHONPATH": str(root)}),
        capture_output=True,
        text=True,
        cwd=BENCH_BUILD,
        check=False,
    )
    marker = result.stdout.rfind("@@")
    if result.returncode != 0 or marker < 0:
        raise RuntimeError(f"import of {root} failed:\n{fail_tail(result.stderr)}")
    data = json.loads(result.stdout[marker + 2 :])
    return float(data["client"]), float(data["resource"])


def main(argv: list[str] | None = None) -> int:
    """Generate both SDKs, compare them, write the ``sdk_regression`` section."""
    parser = argparse.ArgumentParser(prog="python -m bench.sdk_regression", description=__doc__)
    parser.add_argument("--against", default="9667c20", help="the earlier commit (default 9667c20)")
    parser.add_argument("--runs", type=int, default=9, help="measured runs per SDK (default 9)")
    args = parser.parse_args(argv)
    work = BENCH_BUILD / "regression"
    try:
        base_src = _source_of(args.against, work / "base-src")
        roots = {"now": work / "now", args.against: work / "base"}
        gen = {"now": _generate(roots["now"], None)}
        gen[args.against] = _generate(roots[args.against], base_src)
        sizes = {label: size_of(root) for label, root in roots.items()}
        for root in roots.values():
            _measure(root)  # warm-up: bytecode caches
        samples: dict[str, list[tuple[float, float]]] = {label: [] for label in roots}
        for i in range(args.runs):
            for label, root in roots.items():
                samples[label].append(_measure(root))
                c, r = samples[label][-1]
                print(
                    f"[{i + 1}/{args.runs}] {label:<8} Client() {c * 1000:6.1f} ms  "
                    f"first resource {r * 1000:6.1f} ms",
                    file=sys.stderr,
                    flush=True,
                )
    except RuntimeError as exc:
        print(f"sdk_regression: {exc}", file=sys.stderr)
        return 1
    client = {k: median([c for c, _ in v]) for k, v in samples.items()}
    resource = {k: median([r for _, r in v]) for k, v in samples.items()}
    rows: list[str] = []
    for label in roots:
        s = sizes[label]
        rows.append(
            f"| {label} | {s.lines:,} | {s.files} | `{s.largest[0]}` {s.largest[1]:,} | "
            f"`{s.largest_resource[0]}` {s.largest_resource[1]:,} | "
            f"{client[label] * 1000:.1f} ms | {resource[label] * 1000:.1f} ms | "
            f"{gen[label]:.2f} s |"
        )
    base = args.against
    body = "\n".join(
        [
            f"## The Camunda SDK now and at {base}",
            "",
            stamp(command_line("bench.sdk_regression", argv)),
            "",
            "Both generated in this run; start-up in a fresh interpreter per run, bytecode "
            f"caches written, {args.runs} alternating runs, medians.",
            "",
            "| SDK | lines (.py) | files | largest module | largest resource module | "
            "`import; Client()` | first `client.process_instance` | generate |",
            "|---|---:|---:|---|---|---:|---:|---:|",
            *rows,
            "",
            f"Lines now / {base}: **{sizes['now'].lines / sizes[base].lines:.2f}**; "
            f"`import; Client()` now / {base}: **{client['now'] / client[base]:.2f}**; "
            f"first resource now / {base}: **{resource['now'] / resource[base]:.2f}**.",
        ]
    )
    write_section(SECTION, body)
    print(
        f"sdk_regression: lines {sizes[base].lines:,} -> {sizes['now'].lines:,}, "
        f"Client() {client[base] * 1000:.1f} -> {client['now'] * 1000:.1f} ms, "
        f"first resource {resource[base] * 1000:.1f} -> {resource['now'] * 1000:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
