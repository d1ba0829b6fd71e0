"""Generation time of the Camunda SDK: loom against openapi-python-client 0.29.1, in one run.

Both generate ``examples/camunda/rest-api.bundle.json`` with their formatting on (loom formats
with ruff inside the generator; openapi-python-client runs ``ruff check --fix`` and
``ruff format`` on its output by default). Runs alternate between the two so that load on the
machine hits both alike; the medians are compared. Target: loom at most 1/5 of the peer's time.

    python -m bench.codegen_speed [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from bench._common import (
    BENCH_BUILD,
    command_line,
    fail_tail,
    loom_generate_cmd,
    median,
    opc_env,
    opc_generate_cmd,
    stamp,
    timed_run,
    write_section,
)
from bench.corpus.generators import opc_diagnostics
from bench.peers import OPC, ensure_peer

SECTION = "codegen_speed"
TARGET_RATIO = 1 / 5


def _operations(loom_out: Path, opc_out: Path) -> tuple[int, int]:
    """Operations in each output: loom's manifest, opc's ``sync_detailed`` modules."""
    manifest = loom_out / "loom-manifest.json"
    loom_ops = (
        len(json.loads(manifest.read_text()).get("operations", [])) if manifest.exists() else 0
    )
    opc_ops = sum(
        1 for py in opc_out.glob("*/api/**/*.py") if "def sync_detailed(" in py.read_text()
    )
    return loom_ops, opc_ops


def main(argv: list[str] | None = None) -> int:
    """Time both generators; write the ``codegen_speed`` section; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.codegen_speed", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per generator (default 3)")
    args = parser.parse_args(argv)
    ensure_peer(OPC)
    out = BENCH_BUILD / "codegen"
    loom_times: list[float] = []
    opc_times: list[float] = []
    opc_warnings = 0
    opc_outcome = ""
    # As installed packages run: bytecode caches written (this machine's shell sets
    # PYTHONDONTWRITEBYTECODE; a non-empty value disables them), one untimed warm-up each.
    loom_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    peer_env = {k: v for k, v in opc_env().items() if k != "PYTHONDONTWRITEBYTECODE"}
    timed_run(loom_generate_cmd(out / "warm-loom"), env=loom_env)
    out.mkdir(parents=True, exist_ok=True)
    timed_run(opc_generate_cmd(out / "warm-opc"), env=peer_env, cwd=out)
    for i in range(args.runs):
        for name in ("loom", "opc"):
            target = out / name
            shutil.rmtree(target, ignore_errors=True)
            # Flush the previous run's dirty pages so neither generator pays for the other's
            # writes (both write hundreds of files; ext4 writeback otherwise lands in the next run).
            os.sync()
            if name == "loom":
                run = timed_run(loom_generate_cmd(target), env=loom_env)
                if run.returncode != 0:
                    print(f"codegen_speed: loom failed:\n{fail_tail(run.output)}", file=sys.stderr)
                    return 1
                loom_times.append(run.seconds)
            else:
                run = timed_run(opc_generate_cmd(target), env=peer_env, cwd=out)
                opc_times.append(run.seconds)
                opc_warnings = len(opc_diagnostics(run.output))
                opc_outcome = (
                    "exit 0"
                    if run.returncode == 0
                    else f"exit {run.returncode}: " + fail_tail(run.output, 1)[:120]
                )
            print(
                f"[{i + 1}/{args.runs}] {name:<4} {run.seconds:6.2f} s", file=sys.stderr, flush=True
            )
    loom_ops, opc_ops = _operations(out / "loom", out / "opc")
    loom_s, opc_s = median(loom_times), median(opc_times)
    ratio = loom_s / opc_s
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    body = "\n".join(
        [
            "## Generation time: Camunda schema (loom vs openapi-python-client 0.29.1)",
            "",
            stamp(command_line("bench.codegen_speed", argv)),
            "",
            "Whole process, fresh output folder each run, `sync` before each run, bytecode caches "
            "written (one untimed warm-up each), the runs of the two generators interleaved.",
            "",
            "| generator | median wall time | runs |",
            "|---|---:|---|",
            f"| loom | {loom_s:.2f} s | {', '.join(f'{t:.2f}' for t in loom_times)} |",
            f"| openapi-python-client 0.29.1 (+ ruff) | {opc_s:.2f} s | "
            f"{', '.join(f'{t:.2f}' for t in opc_times)} |",
            "",
            f"Ratio loom / openapi-python-client: **{ratio:.3f}** (target <= {TARGET_RATIO:.2f}: "
            f"{verdict} it). Output: loom {loom_ops} operations; openapi-python-client "
            f"{opc_ops} operations, {opc_warnings} warning lines ({opc_outcome}), so the two "
            "outputs are not equivalent (see `docs/corpus.md` for what each loses on real "
            "schemas).",
        ]
    )
    write_section(SECTION, body)
    print(
        f"codegen_speed: loom {loom_s:.2f} s, openapi-python-client {opc_s:.2f} s, "
        f"ratio {ratio:.3f} ({verdict} the 1/5 target)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
