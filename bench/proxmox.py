"""Proxmox VE SDKs: cold import + ``Client()`` + one navigation, and generation time.

loom's PVE 9.1.2 SDK (``examples/proxmox/loom.toml``: paths layout) against prmxctrl 0.1.2 (a
generated pydantic SDK for PVE 7.4, in its own venv under ``build/peers``), measured in the same
run: each sample is a fresh interpreter timing
``import …; client = Client(…); client.nodes("pve1").qemu(100).status.start`` (nothing is
sent), bytecode caches written after one warm-up run, ``--runs`` alternating runs, medians.
Target: loom at most 1/6 of prmxctrl's time. Then ``loom generate`` of PVE 9.1.2, median of
``--gen-runs`` runs.

    python -m bench.proxmox [--runs 9] [--gen-runs 3]
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
from pathlib import Path

from bench._common import (
    BENCH_BUILD,
    LOOM_PYTHON,
    ROOT,
    command_line,
    fail_tail,
    median,
    stamp,
    timed_run,
    write_section,
)
from bench.import_time import Sample, Subject, measure
from bench.peers import PRMXCTRL, ensure_peer

SECTION = "proxmox"
TARGET_RATIO = 1 / 6
SCHEMA_GZ = ROOT / "tests" / "fixtures" / "proxmox" / "apidata-pve-docs-9.1.2.js.gz"
CONFIG = ROOT / "examples" / "proxmox" / "loom.toml"

_PROBE = """
import sys, time, json
before = set(sys.modules)
t0 = time.perf_counter()
{statement}
node = client.nodes("pve1").qemu(100).status.start
elapsed = time.perf_counter() - t0
print("@@" + json.dumps({{"seconds": elapsed, "modules": len(set(sys.modules) - before)}}))
"""
_LOOM = (
    "import pve_sdk\n"
    "client = pve_sdk.Client(base_url='https://pve1:8006/api2/json', user='root@pam', "
    "token_id='bench', token_secret='x')"
)
_PRMXCTRL = (
    "import prmxctrl\n"
    "client = prmxctrl.ProxmoxClient(host='https://pve1:8006', user='root@pam', "
    "token_name='bench', token_value='x')"
)


def generate(out: Path) -> float:
    """Generate the PVE 9.1.2 SDK into ``out`` afresh; return the wall seconds."""
    schema = BENCH_BUILD / "apidata-pve-docs-9.1.2.js"
    schema.write_bytes(gzip.decompress(SCHEMA_GZ.read_bytes()))
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(LOOM_PYTHON), "-m", "loom", "generate", str(schema), "-o", str(out)]
    result = timed_run([*cmd, "--config", str(CONFIG), "-q"])
    if result.returncode != 0:
        raise RuntimeError(f"loom generate failed:\n{fail_tail(result.output)}")
    return result.seconds


def main(argv: list[str] | None = None) -> int:
    """Measure both SDKs and the generation; write the ``proxmox`` section."""
    parser = argparse.ArgumentParser(prog="python -m bench.proxmox", description=__doc__)
    parser.add_argument("--runs", type=int, default=9, help="measured runs per SDK (default 9)")
    parser.add_argument("--gen-runs", type=int, default=3, help="generation runs (default 3)")
    args = parser.parse_args(argv)
    BENCH_BUILD.mkdir(parents=True, exist_ok=True)
    out = BENCH_BUILD / "proxmox" / "loom"
    try:
        peer_python = ensure_peer(PRMXCTRL)
        gen = [generate(out) for _ in range(max(1, args.gen_runs))]
        for i, seconds in enumerate(gen):
            print(
                f"[gen {i + 1}/{len(gen)}] loom generate PVE 9.1.2: {seconds:.2f} s",
                file=sys.stderr,
            )
        subjects = [
            (Subject("loom", LOOM_PYTHON, "pve_sdk", "Client", {"PYTHONPATH": str(out)}), _LOOM),
            (Subject("prmxctrl 0.1.2", peer_python, "prmxctrl", "ProxmoxClient", {}), _PRMXCTRL),
        ]
        samples: dict[str, list[Sample]] = {s.label: [] for s, _ in subjects}
        for s, statement in subjects:  # warm-up: writes the bytecode caches
            measure(s, _PROBE.format(statement=statement))
        for i in range(args.runs):
            for s, statement in subjects:
                sample = measure(s, _PROBE.format(statement=statement))
                samples[s.label].append(sample)
                print(
                    f"[{i + 1}/{args.runs}] {s.label:<16} {sample.seconds * 1000:7.1f} ms "
                    f"{sample.modules} modules",
                    file=sys.stderr,
                    flush=True,
                )
    except RuntimeError as exc:
        print(f"proxmox: {exc}", file=sys.stderr)
        return 1
    loom_s = median([x.seconds for x in samples["loom"]])
    peer_s = median([x.seconds for x in samples["prmxctrl 0.1.2"]])
    ratio = loom_s / peer_s
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    rows = [
        f"| {s.label} | {median([x.seconds for x in samples[s.label]]) * 1000:.1f} ms | "
        f"{median([x.process_seconds for x in samples[s.label]]) * 1000:.0f} ms | "
        f"{samples[s.label][-1].modules} |"
        for s, _ in subjects
    ]
    body = "\n".join(
        [
            "## Proxmox VE: cold import + Client() + one navigation, and generation",
            "",
            stamp(command_line("bench.proxmox", argv)),
            "",
            "Fresh interpreter per run: `import`, `Client(...)` (token auth, nothing sent) and "
            '`client.nodes("pve1").qemu(100).status.start`; bytecode caches written (one warm-up '
            f"run each), {args.runs} alternating runs, medians. loom: PVE 9.1.2, paths layout; "
            "prmxctrl 0.1.2: PVE 7.4.",
            "",
            "| SDK | import + Client() + navigation | whole process | modules added |",
            "|---|---:|---:|---:|",
            *rows,
            "",
            f"Ratio loom / prmxctrl 0.1.2: **{ratio:.3f}** (target <= {TARGET_RATIO:.3f}: "
            f"{verdict} it).",
            "",
            f"`loom generate` of PVE 9.1.2 (649 operations, `examples/proxmox/loom.toml`): "
            f"median **{median(gen):.2f} s** of {len(gen)} runs (whole process).",
        ]
    )
    write_section(SECTION, body)
    print(
        f"proxmox: loom {loom_s * 1000:.1f} ms, prmxctrl {peer_s * 1000:.1f} ms, ratio "
        f"{ratio:.3f} ({verdict} the 1/6 target); generation {median(gen):.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
