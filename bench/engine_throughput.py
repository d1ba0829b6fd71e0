"""Engine throughput: the diamond pipeline (a → b, c, d → e, no-op steps) end to end.

    python -m bench.engine_throughput [--sequential N] [--concurrent N] [--no-prefect]
        [--no-dbos] [--against CHECKOUT]

For SQLite and PostgreSQL it starts ``loom serve`` (a real process on loopback), measures its
start-up time and resident memory, runs the diamond sequentially and 4 at a time over HTTP
(start and wait in one request, ``POST /v1/executions?wait_seconds=30``, then
``GET /v1/executions/{id}?wait_seconds=30`` should it not have ended; the load generator is
a minimal keep-alive HTTP/1.1 client, ``LoadClient``),
and reads the runnable → started latency of every step from the database. Peers measured in
the same run: DBOS Transact 3.4 in-process on the same PostgreSQL (the same diamond as
durable workflows and steps), Prefect 3.9.1 against its own local server (a flow of five
tasks), and a
BudPipeline-style baseline (the same five steps run one at a time inside the HTTP request,
each step's state committed to SQLite). ``--against`` also measures the loom of another
checkout (a worktree of an older commit) in the same run. Results go to
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bench._common import command_line, cpu_reference_seconds, stamp, write_section
from bench._engine_common import (
    BUILD,
    DIAMOND,
    ROOT,
    LoadClient,
    Run,
    drive,
    engine_env,
    free_port,
    git_commit,
    import_floor_seconds,
    percentile,
    reset_postgres,
    start_engine,
    stop,
)
from bench._engine_dbos import DBOS_VERSION, bench_dbos
from bench._engine_peers import PREFECT_VERSION, baseline_app, bench_baseline, bench_prefect
from loom.engine.db.models import Execution, StepRun

PG_BENCH_DB = "loom_bench_engine"
SECTION = "engine_throughput"


@dataclass
class EngineResult:
    """What one database backend measured."""

    backend: str
    startup_seconds: float
    import_floor_seconds: float
    rss_mib: float
    runs: list[Run]
    start_latency_ms: list[float]
    polled_latency_ms: list[float] = field(default_factory=list[float])
    name: str = "loom"  # "loom", or "loom@<commit>" for the checkout compared against


def loom_one(
    pipeline_id: str, *, initiator: str = "bench"
) -> Callable[[LoadClient], Awaitable[bool]]:
    """Start one execution and wait for its end."""

    async def one(client: LoadClient) -> bool:
        status, body = await client.post(
            "/v1/executions?wait_seconds=30", {"pipeline_id": pipeline_id, "initiator": initiator}
        )
        if status != 201:
            return False
        while body["status"] not in {"completed", "failed", "cancelled"}:
            status, body = await client.get(f"/v1/executions/{body['id']}", {"wait_seconds": 30})
            if status != 200:
                return False
        return body["status"] == "completed"

    return one


async def start_latencies(
    database_url: str, *, initiator: str | None = None, step_id: str | None = None
) -> list[float]:
    """Milliseconds from runnable to started for the steps in the database (optionally only
    one step of the executions started by one initiator)."""
    engine = create_async_engine(database_url)
    query = sa.select(StepRun.runnable_since, StepRun.started_at).where(
        StepRun.runnable_since.is_not(None), StepRun.started_at.is_not(None)
    )
    if initiator is not None:
        query = query.join(Execution, Execution.id == StepRun.execution_id).where(
            Execution.initiator == initiator
        )
    if step_id is not None:
        query = query.where(StepRun.step_id == step_id)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(query)).all()
    finally:
        await engine.dispose()
    return [
        max((started - runnable).total_seconds() * 1000, 0.0)
        for runnable, started in rows
        if runnable is not None and started is not None
    ]


def migrate(database_url: str, src: Path = ROOT / "src") -> None:
    """``loom db upgrade`` (of the checkout ``src``)."""
    subprocess.run(
        [sys.executable, "-m", "loom", "db", "upgrade"],
        cwd=src.parent,
        env=engine_env(database_url, src),
        check=True,
        capture_output=True,
    )


async def bench_engine(
    backend: str,
    sequential: int,
    concurrent: int,
    *,
    src: Path = ROOT / "src",
    name: str = "loom",
    replicas: bool = True,
) -> EngineResult:
    """Measure loom (the checkout ``src``, reported as ``name``) on one backend; ``replicas``:
    the PostgreSQL scenarios with two processes and with an API-only replica too."""
    if backend == "sqlite":
        path = BUILD / f"engine-{name.replace('@', '-')}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        database_url = f"sqlite+aiosqlite:///{path}"
    else:
        database_url = await reset_postgres(PG_BENCH_DB if replicas else f"{PG_BENCH_DB}_old")
    migrate(database_url, src)
    polled: list[float] = []
    startups: list[float] = []
    floors: list[float] = []
    for _ in range(5):  # interleaved: the speed of this machine drifts by tens of percent
        floors.append(import_floor_seconds(database_url))
        proc, seconds = start_engine(database_url, free_port(), src=src)
        startups.append(seconds)
        stop(proc)
    port = free_port()
    proc, _ = start_engine(database_url, port, src=src)
    base = f"http://127.0.0.1:{port}"
    try:
        created = httpx.post(f"{base}/v1/pipelines", json=DIAMOND, timeout=30).json()
        one = loom_one(created["id"])
        await drive("warm-up", 20, 4, one, base)
        runs = [
            await drive(f"{name} {backend}, sequential", sequential, 1, one, base),
            await drive(f"{name} {backend}, 4 at a time", concurrent, 4, one, base),
        ]
        rss = psutil.Process(proc.pid).memory_info().rss / (1024 * 1024)
        if backend == "postgresql" and replicas:
            # The production shape: replicas on one database (one per core here).
            second_port = free_port()
            second, _ = start_engine(database_url, second_port)
            try:
                urls = [base, f"http://127.0.0.1:{second_port}"]
                for concurrency in (4, 8):
                    runs.append(
                        await drive(
                            f"loom {backend}, 2 processes, {concurrency} at a time",
                            concurrent,
                            concurrency,
                            one,
                            urls,
                        )
                    )
            finally:
                stop(second)
            # An API-only replica (no scheduler): the root step is claimed by the other
            # process's claim loop, so this measures the poll path.
            api_port = free_port()
            api_only, _ = start_engine(database_url, api_port, LOOM_RUN_SCHEDULER="0")
            try:
                runs.append(
                    await drive(
                        f"loom {backend}, API-only replica + 1 worker, 4 at a time",
                        concurrent // 2,
                        4,
                        loom_one(created["id"], initiator="api-only"),
                        f"http://127.0.0.1:{api_port}",
                    )
                )
            finally:
                stop(api_only)
            polled = await start_latencies(database_url, initiator="api-only", step_id="a")
    finally:
        stop(proc)
    latencies = await start_latencies(database_url)
    startup = statistics.median(startups)
    floor = statistics.median(floors)
    print(
        f"   {name} {backend}: start-up {startup:.2f} s (importing the libraries alone: "
        f"{floor:.2f} s), "
        f"RSS {rss:.0f} MiB, runnable→started "
        f"p50 {percentile(latencies, 0.5):.1f} ms p99 {percentile(latencies, 0.99):.1f} ms",
        flush=True,
    )
    if polled:
        print(
            f"   {backend}: root step started by another process: runnable→started p50 "
            f"{percentile(polled, 0.5):.1f} ms p99 {percentile(polled, 0.99):.1f} ms",
            flush=True,
        )
    return EngineResult(backend, startup, floor, rss, runs, latencies, polled, name)


# -- report ------------------------------------------------------------------------------------


def _row(run: Run) -> str:
    return (
        f"| {run.label} | {run.executions} | {run.per_second:.1f} | {run.pct(0.5):.1f} | "
        f"{run.pct(0.99):.1f} |"
    )


@dataclass
class Peers:
    """What the peers measured (an empty list and a reason when one did not run)."""

    baseline: list[Run]
    prefect: list[Run]
    prefect_problem: str | None
    dbos: list[Run]
    dbos_problem: str | None


def _against(engines: list[EngineResult]) -> list[str]:
    """This checkout against the one given with ``--against``, per backend."""
    out: list[str] = []
    for old in (e for e in engines if e.name != "loom"):
        new = next(e for e in engines if e.name == "loom" and e.backend == old.backend)
        parts = [
            f"{label} {n.per_second / o.per_second:.2f}x throughput, p50 "
            f"{n.pct(0.5) / o.pct(0.5):.2f}x"
            for label, n, o in (
                ("sequential", new.runs[0], old.runs[0]),
                ("4 at a time", new.runs[1], old.runs[1]),
            )
        ]
        out.append(f"loom / {old.name} on {old.backend}: " + ", ".join(parts))
    return out


def _dbos(engines: list[EngineResult], dbos: list[Run]) -> list[str]:
    pg = next((e for e in engines if e.backend == "postgresql" and e.name == "loom"), None)
    if pg is None or len(dbos) < 2:
        return []
    seq = pg.runs[0].per_second / dbos[0].per_second
    conc = pg.runs[1].per_second / dbos[1].per_second
    met = "met" if conc >= 3 else "missed"
    return [
        f"loom postgresql over HTTP / DBOS in-process: {seq:.1f}x sequential, {conc:.1f}x at "
        f"4 concurrent (target >= 3x: {met}); "
        f"p50 {pg.runs[0].pct(0.5):.1f} vs {dbos[0].pct(0.5):.1f} ms sequential, "
        f"{pg.runs[1].pct(0.5):.1f} vs {dbos[1].pct(0.5):.1f} ms at 4 concurrent (target lower: "
        f"{'met' if pg.runs[1].pct(0.5) < dbos[1].pct(0.5) else 'missed'})"
    ]


def report(
    engines: list[EngineResult], peers: Peers, load_at_start: float, cpu_seconds: float
) -> tuple[str, str]:
    """The Markdown section and the one-line summary."""
    baseline, prefect, prefect_problem = peers.baseline, peers.prefect, peers.prefect_problem
    lines = [
        "## Engine throughput: diamond pipeline (loom vs DBOS 3.4 vs Prefect 3.9.1 vs "
        "in-request baseline)",
        "",
        stamp(command_line("bench.engine_throughput")),
        "",
        "Five no-op steps (a → b, c, d → e) over HTTP on loopback; end-to-end latency is what "
        "the client sees from sending `POST /v1/executions?wait_seconds=30` (start and wait in "
        "one request; the BudPipeline-style baseline answers `POST /run` when done) to an "
        "answer reporting `completed`. The load generator is a minimal keep-alive HTTP/1.1 "
        "client (`bench._engine_common.LoadClient`; httpx took a third of the CPU of a run). "
        "The machine's two cores are shared with the load generator and the database server, and "
        f"with whatever else runs: load average {load_at_start:.1f} at the start of this run, "
        f"{os.getloadavg()[0]:.1f} at the end (numbers here move by up to 2x with it). "
        f"CPU reference (`bench._common.cpu_reference_seconds`, a fixed pure-Python loop): "
        f"{cpu_seconds:.2f} s on this machine; the absolute targets below assume a core "
        "about as fast as the one they were set on.",
        "",
        "| scenario | executions | executions/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for engine in engines:
        lines.extend(_row(run) for run in engine.runs)
    lines.extend(_row(run) for run in peers.dbos)
    lines.extend(_row(run) for run in baseline)
    lines.extend(_row(run) for run in prefect)
    lines += [
        "",
        "| loom on | start-up (spawn → /readyz) | importing the libraries alone | RSS after the "
        "runs | runnable → started p50 / p99 |",
        "|---|---:|---:|---:|---:|",
    ]
    for engine in engines:
        polled = ""
        if engine.polled_latency_ms:
            polled = (
                f"; root steps started by another process (API-only replica): "
                f"{percentile(engine.polled_latency_ms, 0.5):.1f} / "
                f"{percentile(engine.polled_latency_ms, 0.99):.1f} ms"
            )
        lines.append(
            f"| {engine.name} {engine.backend} | {engine.startup_seconds:.2f} s | "
            f"{engine.import_floor_seconds:.2f} s | {engine.rss_mib:.0f} MiB | "
            f"{percentile(engine.start_latency_ms, 0.5):.1f} / "
            f"{percentile(engine.start_latency_ms, 0.99):.1f} ms{polled} |"
        )
    lines += [
        "",
        "Start-up is the median of 5 spawns of `loom serve` until `/readyz` answers 200 (the "
        "database migrated, connected and listening, the scheduler running); interleaved with "
        "them, 5 spawns of a Python that only imports FastAPI, SQLAlchemy's asyncio engine and "
        "dialect, the driver and uvicorn, then exits at once "
        "(`bench._engine_common.import_floor_seconds`): what the engine cannot start without, "
        "measured in the same minutes. The difference is loom's share: its own modules and "
        "routes, connecting to the database, checking its migration, the first scheduler round. "
        "Both import with the cyclic garbage collector off, as `loom serve` does "
        "(`loom.engine.cli`: its passes over the objects made at start-up find nothing).",
        "",
        "Runnable → started is 0 when a step is claimed in the very transaction that makes it "
        "runnable: the request that creates an execution claims its root steps, and the commit "
        "of a step's outcome claims its successors. Steps made runnable by another process "
        "(an API-only replica) are claimed by a process that PostgreSQL's `NOTIFY` wakes, and "
        "the long poll of the API-only replica is answered when the worker's `NOTIFY` says the "
        "execution ended; the API-only row measures that path. A `delay` that ends is claimed "
        "by a timer of the process that suspended it; the poll loop "
        "(`LOOM_POLL_INTERVAL_SECONDS`, 0.2 s) is only the safety net for lost wake-ups.",
    ]
    current = [e for e in engines if e.name == "loom"]
    pg = next((e for e in current if e.backend == "postgresql"), None)
    ratios: list[str] = [*_against(engines), *_dbos(engines, peers.dbos)]
    if prefect and current:
        for engine in current:
            seq = engine.runs[0].per_second / prefect[0].per_second
            conc = engine.runs[1].per_second / prefect[1].per_second
            ratios.append(
                f"loom {engine.backend} / Prefect: {seq:.0f}x sequential, {conc:.0f}x at 4 "
                f"concurrent (p50 {prefect[0].pct(0.5) / engine.runs[0].pct(0.5):.0f}x lower)"
            )
    if baseline and current:
        for engine in current:
            ratios.append(
                f"loom {engine.backend} / baseline at 4 concurrent: "
                f"{engine.runs[1].per_second / baseline[1].per_second:.2f}x"
            )
    lines += ["", "Ratios: " + ("; ".join(ratios) if ratios else "none (a peer did not run)")]
    if prefect_problem:
        lines += ["", f"Prefect: {prefect_problem}"]
    if peers.dbos_problem:
        lines += ["", f"DBOS: {peers.dbos_problem}"]
    if pg is not None:
        best_run = max(pg.runs, key=lambda run: run.per_second)
        best = best_run.per_second
        targets = [
            f"{best:.0f} executions/s on PostgreSQL ({best_run.label}; target >= 100: "
            f"{'met' if best >= 100 else 'missed'})",
            f"p50 {pg.runs[0].pct(0.5):.0f} ms sequential (target < 50 ms: "
            f"{'met' if pg.runs[0].pct(0.5) < 50 else 'missed'})",
            *(
                f"start-up on {e.backend} {e.startup_seconds:.2f} s = "
                f"{e.startup_seconds / e.import_floor_seconds:.2f}x importing its libraries "
                f"alone ({e.import_floor_seconds:.2f} s; target <= 1.3x: "
                f"{'met' if e.startup_seconds <= 1.3 * e.import_floor_seconds else 'missed'})"
                for e in current
            ),
            f"RSS {pg.rss_mib:.0f} MiB (target < 100 MiB: "
            f"{'met' if pg.rss_mib < 100 else 'missed'})",
        ]
        lines += ["", "Targets: " + "; ".join(targets) + "."]
    summary_parts = [
        f"{e.name} {e.backend} {max(r.per_second for r in e.runs):.0f}/s "
        f"p50 {e.runs[0].pct(0.5):.0f} ms"
        for e in engines
    ]
    if peers.dbos:
        summary_parts.append(f"DBOS {max(r.per_second for r in peers.dbos):.1f}/s")
    if prefect:
        summary_parts.append(f"Prefect {max(r.per_second for r in prefect):.1f}/s")
    if baseline:
        summary_parts.append(f"baseline {max(r.per_second for r in baseline):.0f}/s")
    return "\n".join(lines) + "\n", "engine_throughput: " + ", ".join(summary_parts)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write its section of ``docs/benchmarks.md``."""
    parser = argparse.ArgumentParser(prog="python -m bench.engine_throughput", description=__doc__)
    parser.add_argument("--sequential", type=int, default=100, help="executions run one by one")
    parser.add_argument("--concurrent", type=int, default=200, help="executions run 4 at a time")
    parser.add_argument("--prefect-sequential", type=int, default=10)
    parser.add_argument("--prefect-concurrent", type=int, default=20)
    parser.add_argument("--no-prefect", action="store_true", help="skip the Prefect peer")
    parser.add_argument("--no-dbos", action="store_true", help="skip the DBOS peer")
    parser.add_argument(
        "--against",
        type=Path,
        metavar="CHECKOUT",
        help="also measure the loom of another checkout (e.g. a worktree of an older commit)",
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument("--serve-baseline", nargs=2, metavar=("PORT", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_baseline:
        import uvicorn

        uvicorn.run(
            baseline_app(Path(args.serve_baseline[1])),
            host="127.0.0.1",
            port=int(args.serve_baseline[0]),
            log_level="warning",
        )
        return 0
    BUILD.mkdir(parents=True, exist_ok=True)
    load_at_start = os.getloadavg()[0]
    cpu_seconds = cpu_reference_seconds()
    print(f"CPU reference: {cpu_seconds:.2f} s", flush=True)
    engines: list[EngineResult] = []
    against: Path | None = args.against
    for backend in ("sqlite", "postgresql"):
        print(f"[{backend}] loom", flush=True)
        engines.append(asyncio.run(bench_engine(backend, args.sequential, args.concurrent)))
        if against is not None:
            name = f"loom@{git_commit(against)}"
            print(f"[{backend}] {name} ({against})", flush=True)
            engines.append(
                asyncio.run(
                    bench_engine(
                        backend,
                        args.sequential,
                        args.concurrent,
                        src=against / "src",
                        name=name,
                        replicas=False,
                    )
                )
            )
    print("[peers] BudPipeline-style baseline (in-request, one step at a time)", flush=True)
    baseline = asyncio.run(bench_baseline(max(args.sequential // 2, 10), args.concurrent // 2))
    dbos: list[Run] = []
    dbos_problem: str | None = "skipped (--no-dbos)" if args.no_dbos else None
    if not args.no_dbos:
        print(f"[peers] DBOS {DBOS_VERSION} in-process on PostgreSQL", flush=True)
        dbos, dbos_problem = asyncio.run(bench_dbos(args.sequential, args.concurrent))
        if dbos_problem:
            print(f"   {dbos_problem}", flush=True)
    prefect: list[Run] = []
    problem: str | None = "skipped (--no-prefect)" if args.no_prefect else None
    if not args.no_prefect:
        print(f"[peers] Prefect {PREFECT_VERSION} with its local server", flush=True)
        prefect, problem = bench_prefect(args.prefect_sequential, args.prefect_concurrent)
        if problem:
            print(f"   {problem}", flush=True)
    peers = Peers(baseline, prefect, problem, dbos, dbos_problem)
    body, summary = report(engines, peers, load_at_start, cpu_seconds)
    if not args.no_write:
        write_section(SECTION, body)
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
