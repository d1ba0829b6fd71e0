"""Cold import + client construction: loom's Camunda SDK against camunda-orchestration-sdk 10.0.1.

Each measurement is a fresh interpreter that times ``import <sdk>; <Client>()`` with
``time.perf_counter`` and counts the modules the import added to ``sys.modules``. Bytecode
caches are written (``PYTHONDONTWRITEBYTECODE`` is removed from the environment, not set to 0):
one warm-up run per SDK fills them, then ``--runs`` alternating runs are measured and their
medians compared. Target: loom at most 1/6 of the peer's time.

    python -m bench.import_time [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench._common import (
    BENCH_BUILD,
    LOOM_PYTHON,
    command_line,
    fail_tail,
    loom_generate_cmd,
    median,
    stamp,
    timed_run,
    write_section,
)
from bench.peers import CAMUNDA, ensure_peer

SECTION = "import_time"
TARGET_RATIO = 1 / 6
LOOM_PACKAGE = "camunda_sdk"

_PROBE = """
import sys, time, json
before = set(sys.modules)
t0 = time.perf_counter()
import {module} as sdk
client = sdk.{client}()
elapsed = time.perf_counter() - t0
print("@@" + json.dumps({{"seconds": elapsed, "modules": len(set(sys.modules) - before)}}))
"""


@dataclass(frozen=True)
class Subject:
    """One SDK to import: interpreter, import name, client class, extra environment."""

    label: str
    python: Path
    module: str
    client: str
    env: dict[str, str]


@dataclass(frozen=True)
class Sample:
    """One measured import."""

    seconds: float
    modules: int
    process_seconds: float


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
    }
    env.update(extra)
    return env


def measure(subject: Subject, code: str | None = None) -> Sample:
    """Import ``subject`` once in a fresh interpreter; raise RuntimeError when it fails.

    ``code`` replaces the probe: it must print ``@@`` and a JSON object with ``seconds`` and
    ``modules``.
    """
    code = code or _PROBE.format(module=subject.module, client=subject.client)
    started = time.perf_counter()
    result = subprocess.run(
        [str(subject.python), "-c", code],
        env=_env(subject.env),
        capture_output=True,
        text=True,
        cwd=BENCH_BUILD,
        check=False,
    )
    process_seconds = time.perf_counter() - started
    marker = result.stdout.rfind("@@")
    if result.returncode != 0 or marker < 0:
        raise RuntimeError(f"{subject.label}: import failed:\n{fail_tail(result.stderr)}")
    data = json.loads(result.stdout[marker + 2 :])
    return Sample(float(data["seconds"]), int(data["modules"]), process_seconds)


def generate_loom_sdk(out: Path) -> Path:
    """Generate loom's Camunda SDK afresh into ``out`` (the current generator); return its root."""
    shutil.rmtree(out, ignore_errors=True)
    result = timed_run(loom_generate_cmd(out))
    if result.returncode != 0:
        raise RuntimeError(f"loom generate failed:\n{fail_tail(result.output)}")
    for root in (out, out.parent):
        if (root / LOOM_PACKAGE / "__init__.py").exists():
            return root
    raise RuntimeError(f"loom generate wrote no {LOOM_PACKAGE} package under {out}")


def main(argv: list[str] | None = None) -> int:
    """Measure both SDKs; write the ``import_time`` section; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.import_time", description=__doc__)
    parser.add_argument("--runs", type=int, default=9, help="measured runs per SDK (default 9)")
    args = parser.parse_args(argv)
    BENCH_BUILD.mkdir(parents=True, exist_ok=True)
    try:
        camunda_python = ensure_peer(CAMUNDA)
        loom_root = generate_loom_sdk(BENCH_BUILD / "import" / "loom")
    except RuntimeError as exc:
        print(f"import_time: {exc}", file=sys.stderr)
        return 1
    subjects = [
        Subject("loom", LOOM_PYTHON, LOOM_PACKAGE, "Client", {"PYTHONPATH": str(loom_root)}),
        Subject(
            "camunda-orchestration-sdk",
            camunda_python,
            "camunda_orchestration_sdk",
            "CamundaClient",
            # Offline construction: an address and no authentication, so nothing is fetched.
            {"CAMUNDA_REST_ADDRESS": "http://localhost:8080", "CAMUNDA_AUTH_STRATEGY": "NONE"},
        ),
    ]
    samples: dict[str, list[Sample]] = {s.label: [] for s in subjects}
    try:
        for s in subjects:  # warm-up: writes the bytecode caches
            measure(s)
        for i in range(args.runs):
            for s in subjects:
                sample = measure(s)
                samples[s.label].append(sample)
                print(
                    f"[{i + 1}/{args.runs}] {s.label:<26} {sample.seconds * 1000:7.1f} ms "
                    f"{sample.modules} modules",
                    file=sys.stderr,
                    flush=True,
                )
    except RuntimeError as exc:
        print(f"import_time: {exc}", file=sys.stderr)
        return 1
    loom_s = median([x.seconds for x in samples["loom"]])
    peer_s = median([x.seconds for x in samples["camunda-orchestration-sdk"]])
    ratio = loom_s / peer_s
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    rows = [
        f"| {s.label} | `import {s.module}; {s.module}.{s.client}()` | "
        f"{median([x.seconds for x in samples[s.label]]) * 1000:.1f} ms | "
        f"{median([x.process_seconds for x in samples[s.label]]) * 1000:.0f} ms | "
        f"{samples[s.label][-1].modules} |"
        for s in subjects
    ]
    body = "\n".join(
        [
            "## Cold import + client construction: Camunda SDKs",
            "",
            stamp(command_line("bench.import_time", argv)),
            "",
            "Fresh interpreter per run, bytecode caches written (one warm-up run each, "
            f"`PYTHONDONTWRITEBYTECODE` removed), {args.runs} alternating runs, medians.",
            "",
            "| SDK | statement | import + construct | whole process | modules added |",
            "|---|---|---:|---:|---:|",
            *rows,
            "",
            f"Ratio loom / camunda-orchestration-sdk 10.0.1: **{ratio:.3f}** "
            f"(target <= {TARGET_RATIO:.3f}: {verdict} it).",
        ]
    )
    write_section(SECTION, body)
    print(
        f"import_time: loom {loom_s * 1000:.1f} ms, camunda-orchestration-sdk "
        f"{peer_s * 1000:.1f} ms, ratio {ratio:.3f} ({verdict} the 1/6 target)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
