"""Client-side overhead per call: loom's generated SDK vs raw httpx vs openapi-python-client.

One small JSON GET (``/things/{id}`` → ``{"id", "name", "tags"}``) against a uvicorn server in a
separate process on loopback, so the client's CPU time is its own. In one run, interleaved in
rounds, each client makes the same calls:

- ``httpx``: a persistent ``httpx.Client``, ``client.get(url).json()`` (the floor);
- ``loom``: the SDK ``loom generate`` writes for ``bench/schemas/tiny_things.yaml``
  (``client.things.get(1)`` → a validated pydantic model, with retries, timeouts, auth hooks);
- ``opc``: the SDK openapi-python-client 0.29.1 writes for the same schema
  (``get_thing.sync(1, client=c)`` → an attrs model).

Reported per call: median wall time and median client CPU time (``time.process_time``, which
excludes waiting for the server); the target is loom ≤ 1.3x raw httpx in client CPU.

    python -m bench.runtime_overhead [--calls 300] [--rounds 15]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._common import BENCH_BUILD, LOOM_PYTHON, ROOT, command_line, median, stamp, write_section
from bench.peers import OPC, ensure_peer

SCHEMA = ROOT / "bench" / "schemas" / "tiny_things.yaml"
WORK = BENCH_BUILD / "runtime_overhead"
BODY = json.dumps({"id": 1, "name": "thing one", "tags": ["a", "b"]}).encode()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A minimal ASGI app: every GET answers the same small JSON body."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(LOOM_PYTHON),
            "-m",
            "uvicorn",
            "bench.runtime_overhead:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the benchmark server did not start within 20 s")


def _generate() -> None:
    """Generate both SDKs into build/bench/runtime_overhead (skipped when up to date)."""
    WORK.mkdir(parents=True, exist_ok=True)
    loom_out = WORK / "loom"
    print("runtime_overhead: generating the loom SDK", file=sys.stderr)
    subprocess.run(
        [
            str(LOOM_PYTHON),
            "-m",
            "loom",
            "generate",
            str(SCHEMA),
            "-o",
            str(loom_out),
            "--package",
            "api_client",
            "-q",
        ],
        check=True,
        cwd=ROOT,
    )
    ensure_peer(OPC)
    print("runtime_overhead: generating the openapi-python-client SDK", file=sys.stderr)
    env_path = f"{OPC.venv / 'bin'}"
    subprocess.run(
        [
            str(OPC.bin("openapi-python-client")),
            "generate",
            "--path",
            str(SCHEMA),
            "--output-path",
            str(WORK / "opc"),
            "--overwrite",
        ],
        check=True,
        cwd=WORK,
        capture_output=True,
        env={"PATH": env_path, "HOME": str(Path.home())},
    )


def _clients(url: str) -> dict[str, tuple[Callable[[], object], Callable[[], None]]]:
    """Each client as (one call, close)."""
    import httpx

    sys.path.insert(0, str(WORK / "loom"))
    sys.path.insert(0, str(WORK / "opc"))
    # The opc SDK needs attrs and python-dateutil, which live in its peer venv (same Python).
    site = next((OPC.venv / "lib").glob("python3*/site-packages"))
    sys.path.append(str(site))

    raw = httpx.Client()
    thing_url = f"{url}/things/1"

    loom_sdk = importlib.import_module("api_client")
    loom_client = loom_sdk.Client(base_url=url)

    opc_sdk = importlib.import_module("tiny_things_client")
    opc_get = importlib.import_module("tiny_things_client.api.things.get_thing")
    opc_client = opc_sdk.Client(base_url=url)

    def raw_call() -> object:
        return raw.get(thing_url).json()

    def loom_call() -> object:
        return loom_client.things.get(1)

    def opc_call() -> object:
        return opc_get.sync(1, client=opc_client)

    return {
        "httpx": (raw_call, raw.close),
        "loom": (loom_call, loom_client.close),
        "opc": (opc_call, lambda: opc_client.get_httpx_client().close()),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print a table and a summary line, write docs/benchmarks.md."""
    parser = argparse.ArgumentParser(prog="python -m bench.runtime_overhead", description=__doc__)
    parser.add_argument("--calls", type=int, default=300, help="calls per client per round")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds")
    args = parser.parse_args(argv)

    _generate()
    proc, url = _start_server()
    try:
        clients = _clients(url)
        for call, _ in clients.values():  # warm up: connections, validators, imports
            for _ in range(50):
                call()
        wall: dict[str, list[float]] = {name: [] for name in clients}
        cpu: dict[str, list[float]] = {name: [] for name in clients}
        for round_no in range(1, args.rounds + 1):
            for name, (call, _) in clients.items():
                w0, c0 = time.perf_counter(), time.process_time()
                for _ in range(args.calls):
                    call()
                wall[name].append((time.perf_counter() - w0) / args.calls * 1e6)
                cpu[name].append((time.process_time() - c0) / args.calls * 1e6)
            print(
                f"runtime_overhead: round {round_no}/{args.rounds}: "
                + ", ".join(f"{n} {cpu[n][-1]:.0f} µs cpu" for n in clients),
                file=sys.stderr,
            )
        for _, close in clients.values():
            close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    w = {n: median(v) for n, v in wall.items()}
    c = {n: median(v) for n, v in cpu.items()}
    best = {n: min(v) for n, v in cpu.items()}
    rows = [
        f"| {name} | {w[name]:.0f} | {c[name]:.0f} | {best[name]:.0f} | "
        f"{c[name] / c['httpx']:.2f}x | {best[name] / best['httpx']:.2f}x | "
        f"{w[name] / w['httpx']:.2f}x |"
        for name in ("httpx", "loom", "opc")
    ]
    ratio = c["loom"] / c["httpx"]
    verdict = "meets" if ratio <= 1.3 else "misses"
    body = "\n".join(
        [
            "## Runtime overhead per call (small JSON GET on loopback)",
            "",
            stamp(command_line("bench.runtime_overhead")),
            "",
            f"{args.rounds} interleaved rounds x {args.calls} calls per client against one "
            "uvicorn process; medians of the per-round means. CPU is the client process's own "
            "time (`time.process_time`), i.e. the client-side overhead; wall includes the server "
            f"and is noisy on a shared machine (load average {os.getloadavg()[0]:.1f} on "
            f"{os.cpu_count()} CPUs during this run).",
            "",
            "| client | wall µs/call | client CPU µs/call (median) | (best round) "
            "| CPU vs httpx (median) | (best) | wall vs httpx |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"loom's generated SDK costs {ratio:.2f}x raw httpx in client CPU per call "
            f"(target ≤ 1.3x: {verdict}); openapi-python-client costs "
            f"{c['opc'] / c['httpx']:.2f}x. loom validates the body into a pydantic model and runs "
            "its retry/timeout/auth loop; raw httpx only decodes JSON.",
        ]
    )
    write_section("runtime_overhead", body)
    print(
        f"runtime_overhead: loom {c['loom']:.0f} µs vs httpx {c['httpx']:.0f} µs vs opc "
        f"{c['opc']:.0f} µs client CPU per call → loom/httpx {ratio:.2f}x ({verdict} ≤ 1.3x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
