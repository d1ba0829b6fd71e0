"""Swagger 2.0 input and the Conductor SDK, each against a named peer in the same run.

1. Swagger 2.0 → OpenAPI 3: the largest 2.0 document the tests use (Kubernetes 1.13, 1,014
   operations, from ``tests/fixtures/swagger2/public/kubernetes``), converted by loom and by
   swagger2openapi 7.0.8 (Node, the converter the tests use as their oracle); then the whole SDK
   generation from the 2.0 document (loom converts inside ``loom generate``) against
   swagger2openapi's conversion followed by ``loom generate`` on its output.
2. The Conductor SDK (``examples/conductor``, 272 operations): ``loom generate`` against
   openapi-python-client 0.29.1 (+ its ruff passes) on the same schema.

Every measurement is a whole process, runs interleaved, medians compared.

    python -m bench.swagger_conductor [--runs 3]
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bench._common import (
    BENCH_BUILD,
    LOOM_PYTHON,
    ROOT,
    Timed,
    command_line,
    fail_tail,
    median,
    opc_env,
    stamp,
    timed_run,
    write_section,
)
from bench.peers import OPC, ensure_peer

SECTION = "swagger_conductor"
KUBERNETES = ROOT / "tests" / "fixtures" / "swagger2" / "public" / "kubernetes"
CONDUCTOR = ROOT / "examples" / "conductor"
S2O = ROOT / "node_modules" / ".bin" / "swagger2openapi"
CONVERT = (
    "import json, sys; from pathlib import Path; "
    "from loom.codegen.diagnostics import DiagnosticSink; "
    "from loom.codegen.sources import load_document; "
    "doc = load_document(Path(sys.argv[1]), sink=DiagnosticSink()).document; "
    "Path(sys.argv[2]).write_text(json.dumps(doc))"
)


def _loom_generate(schema: Path, out: Path, config: Path | None = None) -> list[str]:
    cmd = [str(LOOM_PYTHON), "-m", "loom", "generate", str(schema), "-o", str(out), "-q"]
    return [*cmd, "--config", str(config)] if config else cmd


def _interleaved(runs: int, commands: dict[str, Callable[[int], Timed]]) -> dict[str, list[float]]:
    """Run each named command once per round, in turn; fail loudly on a non-zero exit."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(runs):
        for name, run in commands.items():
            os.sync()  # the previous run's writes are not charged to this one
            result = run(i)
            if result.returncode != 0:
                raise SystemExit(f"swagger_conductor: {name} failed:\n{fail_tail(result.output)}")
            times[name].append(result.seconds)
            print(f"[{i + 1}/{runs}] {name:<34} {result.seconds:6.2f} s", file=sys.stderr)
    return times


def _row(name: str, values: Sequence[float]) -> str:
    return f"| {name} | {median(values):.2f} s | {', '.join(f'{v:.2f}' for v in values)} |"


def main(argv: list[str] | None = None) -> int:
    """Time both comparisons; write the ``swagger_conductor`` section."""
    parser = argparse.ArgumentParser(prog="python -m bench.swagger_conductor", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per command (default 3)")
    args = parser.parse_args(argv)
    ensure_peer(OPC)
    work = BENCH_BUILD / "swagger_conductor"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    k8s = work / "kubernetes-1.13.json"
    k8s.write_bytes(gzip.decompress((KUBERNETES / "swagger-1.13.json.gz").read_bytes()))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    peer_env = {k: v for k, v in opc_env().items() if k != "PYTHONDONTWRITEBYTECODE"}

    def loom_convert(i: int) -> Timed:
        return timed_run(
            [str(LOOM_PYTHON), "-c", CONVERT, str(k8s), str(work / f"l{i}.json")], env=env
        )

    def s2o_convert(i: int) -> Timed:
        return timed_run([str(S2O), "--patch", str(k8s), "-o", str(work / f"s{i}.json")], env=env)

    def loom_from_swagger(i: int) -> Timed:
        return timed_run(_loom_generate(k8s, work / f"sdk-loom-{i}"), env=env)

    def s2o_then_loom(i: int) -> Timed:
        converted = work / f"s2o-{i}.json"
        first = timed_run([str(S2O), "--patch", str(k8s), "-o", str(converted)], env=env)
        if first.returncode != 0:
            return first
        second = timed_run(_loom_generate(converted, work / f"sdk-s2o-{i}"), env=env)
        return Timed(first.seconds + second.seconds, second.returncode, second.output)

    def loom_conductor(i: int) -> Timed:
        schema, config = CONDUCTOR / "orkes-conductor-api.json", CONDUCTOR / "loom.toml"
        return timed_run(_loom_generate(schema, work / f"conductor-loom-{i}", config), env=env)

    def opc_conductor(i: int) -> Timed:
        cmd = [
            str(OPC.bin("openapi-python-client")),
            "generate",
            "--path",
            str(CONDUCTOR / "orkes-conductor-api.json"),
            "--output-path",
            str(work / f"conductor-opc-{i}"),
            "--overwrite",
        ]
        return timed_run(cmd, env=peer_env, cwd=work)

    # One untimed warm-up of each (bytecode caches, Node's module cache, the page cache).
    for warm in (loom_convert, s2o_convert, loom_conductor, opc_conductor):
        warm(99)
    convert = _interleaved(
        args.runs, {"loom convert": loom_convert, "swagger2openapi": s2o_convert}
    )
    whole = _interleaved(
        args.runs,
        {
            "loom generate (2.0 input)": loom_from_swagger,
            "swagger2openapi + loom generate": s2o_then_loom,
        },
    )
    conductor = _interleaved(
        args.runs, {"loom": loom_conductor, "openapi-python-client 0.29.1": opc_conductor}
    )
    convert_ratio = median(convert["loom convert"]) / median(convert["swagger2openapi"])
    whole_ratio = median(whole["loom generate (2.0 input)"]) / median(
        whole["swagger2openapi + loom generate"]
    )
    conductor_ratio = median(conductor["loom"]) / median(conductor["openapi-python-client 0.29.1"])
    body = "\n".join(
        [
            "## Swagger 2.0 input (Kubernetes 1.13) and the Conductor SDK",
            "",
            stamp(command_line("bench.swagger_conductor", argv)),
            "",
            "Whole processes (interpreter or Node start-up included), runs interleaved, one "
            "untimed warm-up each. Kubernetes 1.13 is the largest Swagger 2.0 document in the "
            "tests (1,014 operations, 891 definitions, 3.6 MB).",
            "",
            "| Kubernetes 1.13: conversion to OpenAPI 3 | median | runs |",
            "|---|---:|---|",
            *(_row(name, values) for name, values in convert.items()),
            "",
            f"Ratio loom / swagger2openapi: **{convert_ratio:.2f}** (loom's time includes "
            "parsing, converting and bundling the document and writing it as JSON).",
            "",
            "| Kubernetes 1.13: Swagger 2.0 to SDK | median | runs |",
            "|---|---:|---|",
            *(_row(name, values) for name, values in whole.items()),
            "",
            f"Ratio: **{whole_ratio:.2f}**.",
            "",
            "| Conductor (272 operations): generation | median | runs |",
            "|---|---:|---|",
            *(_row(name, values) for name, values in conductor.items()),
            "",
            f"Ratio loom / openapi-python-client: **{conductor_ratio:.3f}**.",
        ]
    )
    write_section(SECTION, body)
    print(
        f"swagger_conductor: Kubernetes conversion loom/swagger2openapi {convert_ratio:.2f}, "
        f"2.0 to SDK {whole_ratio:.2f}; Conductor loom/openapi-python-client {conductor_ratio:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
