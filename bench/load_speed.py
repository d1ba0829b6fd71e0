"""Loading and bundling the Camunda schema: loom against json-schema-ref-parser, in one run.

The peer is ``json-schema-ref-parser`` 6.1 (Node, already in ``node_modules`` through Prism):
its ``$RefParser.bundle()`` is what ``SwaggerParser.bundle()`` — and so Camunda's own
``camunda-schema-bundler`` — runs. Both read and bundle the same inputs, each in its own process,
timed inside the process (no interpreter start-up) over several runs; medians are compared:

- ``examples/camunda/rest-api.bundle.json`` (4 MB, already bundled): target well under 0.2 s;
- ``examples/camunda/upstream/rest-api.yaml`` (the multi-file source): target under 1 s.

    python -m bench.load_speed [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench._common import ROOT, command_line, median, stamp, write_section

SECTION = "load_speed"
INPUTS = {
    "bundle JSON (1 file, 4 MB)": ROOT / "examples" / "camunda" / "rest-api.bundle.json",
    "upstream YAML (49 files read)": ROOT / "examples" / "camunda" / "upstream" / "rest-api.yaml",
}
TARGETS = {"bundle JSON (1 file, 4 MB)": 0.2, "upstream YAML (49 files read)": 1.0}
PEER = "json-schema-ref-parser"

_PEER_JS = """
const $RefParser = require('json-schema-ref-parser');
(async () => {
  const times = [];
  for (let i = 0; i < Number(process.argv[2]); i++) {
    const t = process.hrtime.bigint();
    await $RefParser.bundle(process.argv[1]);
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  console.log(JSON.stringify(times));
})().catch((e) => { console.error(String(e)); process.exit(1); });
"""


def _peer_version() -> str:
    package = ROOT / "node_modules" / PEER / "package.json"
    return str(json.loads(package.read_text())["version"]) if package.exists() else "absent"


def _loom_times(path: Path, runs: int) -> list[float]:
    from loom.codegen.diagnostics import DiagnosticSink
    from loom.codegen.sources import load_document

    times: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        load_document(path, sink=DiagnosticSink())
        times.append(time.perf_counter() - started)
    return times


def _peer_times(path: Path, runs: int) -> list[float]:
    env = dict(os.environ, NODE_PATH=str(ROOT / "node_modules"))
    result = subprocess.run(
        ["node", "-e", _PEER_JS, str(path), str(runs)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{PEER} failed: {result.stderr.strip()[-300:]}")
    return [float(t) for t in json.loads(result.stdout)]


def main(argv: list[str] | None = None) -> int:
    """Time both loaders on both inputs; write the ``load_speed`` section; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.load_speed", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs per loader and input")
    args = parser.parse_args(argv)
    version = _peer_version()
    if version == "absent":
        print(f"load_speed: node_modules/{PEER} is missing; run `make install`", file=sys.stderr)
        return 1
    rows: list[str] = []
    summary: list[str] = []
    missed = 0
    for i, (label, path) in enumerate(INPUTS.items(), start=1):
        print(f"[{i}/{len(INPUTS)}] {label}: loom …", file=sys.stderr, flush=True)
        ours = _loom_times(path, args.runs)
        print(f"[{i}/{len(INPUTS)}] {label}: {PEER} …", file=sys.stderr, flush=True)
        theirs = _peer_times(path, args.runs)
        loom_s, peer_s = median(ours), median(theirs)
        target = TARGETS[label]
        ok = loom_s < target
        missed += not ok
        rows.append(
            f"| {label} | {loom_s * 1000:.0f} ms | {peer_s * 1000:.0f} ms | "
            f"{loom_s / peer_s:.2f} | < {target:g} s: {'yes' if ok else 'NO'} |"
        )
        summary.append(f"{label.split(' (')[0]} {loom_s * 1000:.0f} ms vs {peer_s * 1000:.0f} ms")
    body = "\n".join(
        [
            f"## Loading and bundling the Camunda schema (loom vs {PEER} {version})",
            "",
            stamp(command_line("bench.load_speed")),
            "",
            f"Median of {args.runs} in-process runs each (no interpreter start-up); the peer is",
            "the bundler under `SwaggerParser.bundle()` and Camunda's `camunda-schema-bundler`.",
            "loom also checks every `$ref`, hoists external targets into `components` and",
            "refuses hostile input (alias bombs, deep nesting).",
            "",
            f"| input | loom | {PEER} | ratio loom / peer | target |",
            "|---|---:|---:|---:|---|",
            *rows,
        ]
    )
    write_section(SECTION, body)
    print(f"load_speed: {'; '.join(summary)} ({PEER} {version}); {missed} target(s) missed")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
