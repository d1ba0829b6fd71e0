"""Peak memory of the generator on the Camunda schema: loom and openapi-python-client 0.29.1.

Each generator runs under a small wrapper interpreter whose ``RUSAGE_CHILDREN`` ``ru_maxrss``
is the largest resident set of any process it waited for (the generator, or a formatter it
started), so every measurement starts from a clean slate.

    python -m bench.generator_memory [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
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
    write_section,
)
from bench.peers import OPC, ensure_peer

SECTION = "generator_memory"

_WRAPPER = """
import json, resource, subprocess, sys
result = subprocess.run(sys.argv[1:], capture_output=True, text=True, errors="replace")
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
print("@@" + json.dumps({"peak_kib": peak_kib, "code": result.returncode,
                        "tail": (result.stdout + result.stderr)[-600:]}))
"""


def peak_rss_mib(
    cmd: list[str], *, env: dict[str, str] | None, cwd: Path
) -> tuple[float, int, str]:
    """Run ``cmd`` under the wrapper; return (peak RSS in MiB, exit code, output tail)."""
    result = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *cmd],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    marker = result.stdout.rfind("@@")
    if marker < 0:
        return float("nan"), -1, fail_tail(result.stderr)
    data = json.loads(result.stdout[marker + 2 :])
    return int(data["peak_kib"]) / 1024, int(data["code"]), str(data["tail"])


def main(argv: list[str] | None = None) -> int:
    """Measure both generators; write the ``generator_memory`` section; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.generator_memory", description=__doc__)
    parser.add_argument("--runs", type=int, default=1, help="runs per generator (default 1)")
    args = parser.parse_args(argv)
    ensure_peer(OPC)
    out = BENCH_BUILD / "memory"
    out.mkdir(parents=True, exist_ok=True)
    peaks: dict[str, list[float]] = {"loom": [], "opc": []}
    notes: dict[str, str] = {}
    for i in range(args.runs):
        for name in ("loom", "opc"):
            target = out / name
            shutil.rmtree(target, ignore_errors=True)
            if name == "loom":
                mib, code, tail = peak_rss_mib(loom_generate_cmd(target), env=None, cwd=BENCH_BUILD)
                if code != 0:
                    print(f"generator_memory: loom failed:\n{fail_tail(tail)}", file=sys.stderr)
                    return 1
            else:
                mib, code, tail = peak_rss_mib(opc_generate_cmd(target), env=opc_env(), cwd=out)
                notes[name] = "exit 0" if code == 0 else f"exit {code}"
            peaks[name].append(mib)
            print(
                f"[{i + 1}/{args.runs}] {name:<4} peak {mib:7.1f} MiB", file=sys.stderr, flush=True
            )
    loom_mib, opc_mib = median(peaks["loom"]), median(peaks["opc"])
    body = "\n".join(
        [
            "## Peak memory of the generator: Camunda schema",
            "",
            stamp(command_line("bench.generator_memory", argv)),
            "",
            "Peak resident set (`ru_maxrss` of the generator process and any child it waited "
            "for), median of the runs.",
            "",
            "| generator | peak RSS |",
            "|---|---:|",
            f"| loom | {loom_mib:.0f} MiB |",
            f"| openapi-python-client 0.29.1 (+ ruff; {notes.get('opc', '')}) "
            f"| {opc_mib:.0f} MiB |",
            "",
            f"Ratio loom / openapi-python-client: **{loom_mib / opc_mib:.2f}**.",
        ]
    )
    write_section(SECTION, body)
    print(
        f"generator_memory: loom peak {loom_mib:.0f} MiB, openapi-python-client {opc_mib:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
