"""Job worker throughput and import cost: loom.runtime.worker vs camunda-orchestration-sdk 10.0.1.

Both workers run in their own process against one fake Camunda server process
(``tests/runtime/worker/fake_camunda.py``: the REST v2 job endpoints, long-poll, leases,
schema-validated bodies), at 1, 4 and 16 jobs in flight, in the same run:

- jobs/s end to end (activate + complete, a no-op handler): COUNT jobs are created, the worker
  starts, the time runs until its handler has run COUNT times; afterwards the fake must report
  every one of them completed;
- cold import: ``import loom.runtime.worker.camunda, httpx`` (what a worker needs before its
  first poll) against ``import camunda_orchestration_sdk``, each minus a bare interpreter start,
  medians of interleaved runs without bytecode writing disabled.

The peer sleeps 1 s after every poll, so it gets fewer jobs (``--peer-jobs``) to keep the run
short. Targets: loom ≥ 10x the peer and ≥ 300 jobs/s at 16 in flight; import < 1/5.

    python -m bench.worker_throughput [--jobs 1000] [--peer-jobs 3] [--imports 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from typing import Any

import httpx

from bench._common import LOOM_PYTHON, ROOT, command_line, median, stamp, write_section
from bench.peers import CAMUNDA

CONCURRENCY = (1, 4, 16)
PEER_SCRIPT = ROOT / "bench" / "_camunda_peer_worker.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_fake() -> tuple[subprocess.Popen[bytes], str]:
    """The fake Camunda in its own process; its URL once it listens."""
    port = _free_port()
    proc = subprocess.Popen(
        [str(LOOM_PYTHON), "-m", "tests.runtime.worker.fake_camunda", "--port", str(port)],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the fake Camunda server did not start within 30 s")


async def loom_noop(url: str, job_type: str, count: int, concurrency: int) -> dict[str, Any]:
    """Run loom's worker until its no-op handler ran ``count`` times (in this process)."""
    from loom.runtime.worker import JobWorker
    from loom.runtime.worker.camunda import CamundaAdapter

    worker = JobWorker(
        CamundaAdapter(f"{url}/v2"),
        name="bench-loom",
        max_in_flight=concurrency,
        request_timeout_seconds=10.0,
    )
    done = asyncio.Event()
    handled = 0

    @worker.job(job_type, lease_seconds=30)
    async def noop() -> None:
        nonlocal handled
        handled += 1
        if handled >= count:
            done.set()

    began = time.perf_counter()
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(done.wait(), 600)
    seconds = time.perf_counter() - began
    await worker.stop()
    await task
    return {"jobs": handled, "seconds": seconds}


def run_worker(who: str, url: str, job_type: str, count: int, concurrency: int) -> float:
    """Create the jobs, run one worker process over them, check them; jobs per second."""
    with httpx.Client(base_url=url, timeout=60) as http:
        http.post("/_fake/jobs", json={"type": job_type, "count": count}).raise_for_status()
        if who == "loom":
            cmd = [
                str(LOOM_PYTHON),
                "-m",
                "bench.worker_throughput",
                "--run-loom",
                url,
                job_type,
                str(count),
                str(concurrency),
            ]
        else:
            cmd = [
                str(CAMUNDA.python),
                str(PEER_SCRIPT),
                "noop",
                job_type,
                str(count),
                str(concurrency),
            ]
        env = {**os.environ, "CAMUNDA_REST_ADDRESS": url}
        result = subprocess.run(
            cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{who} worker failed:\n{result.stderr[-2000:]}")
        measured = json.loads(result.stdout.strip().splitlines()[-1])
        time.sleep(0.5)  # the last completions of a stopped worker reach the server
        jobs = [j for j in http.get("/_fake/jobs").json()["jobs"] if j["type"] == job_type]
    completed = sum(1 for j in jobs if j["state"] == "completed")
    if measured["jobs"] < count or completed < count:
        raise RuntimeError(
            f"{who} at {concurrency}: handled {measured['jobs']}, completed {completed} of {count}"
        )
    return count / float(measured["seconds"])


def import_seconds(python: str, statement: str, runs: int) -> list[float]:
    """Wall times of ``python -c statement`` (bytecode cache on)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times: list[float] = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([python, "-c", statement], cwd=ROOT, env=env, check=True)
        times.append(time.perf_counter() - began)
    return times


def measure_imports(runs: int) -> dict[str, float]:
    """Median import cost of each side, minus the bare interpreter start of that interpreter."""
    loom_stmt = "import loom.runtime.worker.camunda, httpx"
    peer_stmt = "import camunda_orchestration_sdk"
    samples: dict[str, list[float]] = {"loom": [], "loom_base": [], "peer": [], "peer_base": []}
    for python, stmt in ((str(LOOM_PYTHON), loom_stmt), (str(CAMUNDA.python), peer_stmt)):
        import_seconds(python, stmt, 1)  # write the bytecode caches
    for _ in range(runs):  # interleaved, so both see the same machine load
        samples["loom"] += import_seconds(str(LOOM_PYTHON), loom_stmt, 1)
        samples["loom_base"] += import_seconds(str(LOOM_PYTHON), "pass", 1)
        samples["peer"] += import_seconds(str(CAMUNDA.python), peer_stmt, 1)
        samples["peer_base"] += import_seconds(str(CAMUNDA.python), "pass", 1)
    med = {k: median(v) for k, v in samples.items()}
    return {"loom": med["loom"] - med["loom_base"], "peer": med["peer"] - med["peer_base"]}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print a table and the ratios, record them in docs/benchmarks.md."""
    parser = argparse.ArgumentParser(prog="python -m bench.worker_throughput", description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000, help="jobs per loom run")
    parser.add_argument(
        "--peer-jobs",
        type=int,
        default=3,
        help="peer jobs per run, times the concurrency (default 3)",
    )
    parser.add_argument("--imports", type=int, default=7, help="interleaved import runs")
    parser.add_argument(
        "--run-loom", nargs=4, metavar=("URL", "TYPE", "COUNT", "CONC"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.run_loom:
        url, job_type, count, conc = args.run_loom
        print(json.dumps(asyncio.run(loom_noop(url, job_type, int(count), int(conc)))))
        return 0
    if not CAMUNDA.python.exists():
        print("worker_throughput: run `make peers` first", file=sys.stderr)
        return 1
    fake, url = start_fake()
    rows: list[tuple[int, float, float]] = []
    try:
        for conc in CONCURRENCY:
            loom_rate = run_worker("loom", url, f"loom-{conc}", args.jobs, conc)
            peer_rate = run_worker("peer", url, f"peer-{conc}", args.peer_jobs * conc, conc)
            rows.append((conc, loom_rate, peer_rate))
            print(
                f"worker_throughput: {conc:>2} in flight: loom {loom_rate:8.1f} jobs/s, "
                f"camunda-orchestration-sdk {peer_rate:6.1f} jobs/s, "
                f"{loom_rate / peer_rate:5.1f}x",
                file=sys.stderr,
            )
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    imports = measure_imports(args.imports)
    ratio = imports["loom"] / imports["peer"]
    table = [
        "| in flight | loom.runtime.worker | camunda-orchestration-sdk 10.0.1 | ratio |",
        "|---:|---:|---:|---:|",
        *(f"| {c} | {lr:.0f} jobs/s | {pr:.1f} jobs/s | {lr / pr:.1f}x |" for c, lr, pr in rows),
    ]
    body = "\n".join(
        [
            "## Job worker throughput and import (fake Camunda REST v2 on loopback)",
            "",
            stamp(command_line("bench.worker_throughput", argv)),
            "",
            f"No-op handler, activate + complete end to end; {args.jobs} jobs per loom run, "
            f"{args.peer_jobs} x in-flight jobs per peer run (it sleeps 1 s after every poll); "
            "each worker in its own process, the fake Camunda in a third; every job checked "
            f"completed on the server. Load average {os.getloadavg()[0]:.1f} on "
            f"{os.cpu_count()} CPUs.",
            "",
            *table,
            "",
            f"Cold import, minus a bare interpreter start (median of {args.imports} interleaved "
            f"runs): `import loom.runtime.worker.camunda, httpx` {imports['loom'] * 1000:.0f} ms, "
            f"`import camunda_orchestration_sdk` {imports['peer'] * 1000:.0f} ms: "
            f"**{ratio:.2f}** of the peer's (target < 0.2).",
        ]
    )
    write_section("worker_throughput", body)
    print(body)
    best = rows[-1]
    print(
        f"worker_throughput: {best[1]:.0f} jobs/s at 16 in flight ({best[1] / best[2]:.1f}x the "
        f"peer), import {ratio:.2f} of the peer's"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
