"""Helpers of the engine benchmark: the diamond, timed scenarios, processes on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench" / "engine"


DIAMOND: dict[str, Any] = {
    "name": "diamond",
    "steps": [
        {"id": "a", "action": "set_output"},
        {"id": "b", "action": "set_output", "depends_on": ["a"]},
        {"id": "c", "action": "set_output", "depends_on": ["a"]},
        {"id": "d", "action": "set_output", "depends_on": ["a"]},
        {"id": "e", "action": "set_output", "depends_on": ["b", "c", "d"]},
    ],
}


@dataclass
class Run:
    """One scenario: executions, wall time and per-execution latencies."""

    label: str
    executions: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list[float])
    failures: int = 0

    @property
    def per_second(self) -> float:
        """Executions per second."""
        return self.executions / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        """A latency percentile in milliseconds."""
        return percentile(self.latencies_ms, q)


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank; NaN without values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(url: str, *, timeout_seconds: float = 60.0, proc: subprocess.Popen[bytes]) -> float:
    """Poll ``url`` every 5 ms until it answers 200; returns the seconds it took.

    A plain ``http.client`` request per try: an ``httpx.get`` builds a client with an SSL
    context each time, several milliseconds of CPU taken from the starting server on a
    two-core machine, 100 times a second.
    """
    parts = urllib.parse.urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_seconds:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before answering {url}")
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=1.0)
        try:
            conn.request("GET", target)
            if conn.getresponse().status == 200:
                return time.perf_counter() - started
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer within {timeout_seconds:.0f} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def engine_env(database_url: str, src: Path = ROOT / "src") -> dict[str, str]:
    """Environment of a ``loom serve`` process (``src``: the checkout whose loom it runs)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), env.get("PYTHONPATH", "")) if p)
    env.update(LOOM_DATABASE_URL=database_url, LOOM_LOG_LEVEL="WARNING", LOOM_AUTO_MIGRATE="0")
    return env


def start_engine(
    database_url: str, port: int, *, src: Path = ROOT / "src", **env: str
) -> tuple[subprocess.Popen[bytes], float]:
    """Start ``loom serve`` and return it with its start-up time (spawn → ``/readyz`` 200)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "loom", "serve", "--port", str(port)],
        cwd=src.parent,
        env={**engine_env(database_url, src), **env},
        stdout=subprocess.DEVNULL,
        stderr=(BUILD / f"engine-{port}.log").open("wb"),
    )
    wait_http(f"http://127.0.0.1:{port}/readyz", proc=proc)
    return proc, time.perf_counter() - started


def import_floor_seconds(database_url: str) -> float:
    """Spawn → exit of a Python that only imports what ``loom serve`` cannot start without:
    FastAPI, SQLAlchemy's asyncio engine and its dialect for the database, the driver, and
    uvicorn. The start-up of the engine minus this is loom's own share (its modules, routes,
    connecting to the database, the scheduler's first round)."""
    if database_url.startswith("postgresql"):
        modules = "sqlalchemy.dialects.postgresql.asyncpg, asyncpg"
    else:
        modules = "sqlalchemy.dialects.sqlite.aiosqlite, aiosqlite"
    started = time.perf_counter()
    subprocess.run(
        # os._exit: the engine's start-up ends at /readyz, so the interpreter's teardown
        # (0.3-0.5 s after these imports on this machine) is left out here too.
        [
            sys.executable,
            "-c",
            "import gc; gc.disable(); "  # as loom serve imports (see loom.engine.cli)
            f"import fastapi, sqlalchemy.ext.asyncio, uvicorn, {modules}, os; os._exit(0)",
        ],
        cwd=ROOT,
        env=engine_env(database_url),
        check=True,
    )
    return time.perf_counter() - started


class LoadClient:
    """The load generator's HTTP/1.1 client: one keep-alive connection on raw asyncio streams.

    The benchmark shares the machine's two cores with the servers it measures; httpx spent
    about a third of the CPU of a run (7 ms per execution here), taken from the servers. This
    client does the same requests for a fraction of that, so the numbers say more about the
    server and less about the client (as ``wrk`` would, which cannot do the long poll).
    """

    def __init__(self, base_url: str) -> None:
        address = base_url.removeprefix("http://").rstrip("/")
        host, _, port = address.partition(":")
        self._host, self._port = host, int(port or 80)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: object = None) -> tuple[int, Any]:
        """``POST`` a JSON body; the status and the decoded JSON answer."""
        return await self._request("POST", path, b"" if body is None else json.dumps(body).encode())

    async def get(self, path: str, params: dict[str, object] | None = None) -> tuple[int, Any]:
        """``GET`` with query parameters; the status and the decoded JSON answer."""
        query = "?" + urllib.parse.urlencode(params) if params else ""
        return await self._request("GET", path + query, None)

    async def close(self) -> None:
        """Close the connection."""
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None

    async def _request(self, method: str, target: str, body: bytes | None) -> tuple[int, Any]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        head = f"{method} {target} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self._writer.write(head.encode() + b"\r\n" + (body or b""))
        status_line, *header_lines = (
            (await self._reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        )
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in header_lines if line)
        }
        if headers.get("transfer-encoding", "").lower() == "chunked":
            payload = b""
            while size := int((await self._reader.readline()).split(b";")[0], 16):
                payload += await self._reader.readexactly(size + 2)
                payload = payload[:-2]
            await self._reader.readline()
        else:
            payload = await self._reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return int(status_line.split(" ", 2)[1]), json.loads(payload) if payload else None


async def drive(
    label: str,
    total: int,
    concurrency: int,
    one: Callable[[LoadClient], Awaitable[bool]],
    base_url: str | list[str],
) -> Run:
    """Run ``one`` ``total`` times, ``concurrency`` at a time, and time each call.

    Each worker has its own connection; with several base URLs (several engine processes),
    worker ``i`` talks to URL ``i mod n``.
    """
    run = Run(label)
    queue = list(range(total))
    urls = [base_url] if isinstance(base_url, str) else base_url
    clients = [LoadClient(urls[i % len(urls)]) for i in range(concurrency)]

    async def worker(client: LoadClient) -> None:
        while queue:
            queue.pop()
            began = time.perf_counter()
            ok = await one(client)
            run.latencies_ms.append((time.perf_counter() - began) * 1000)
            run.executions += 1
            run.failures += 0 if ok else 1

    began = time.perf_counter()
    try:
        await asyncio.gather(*(worker(client) for client in clients))
    finally:
        run.seconds = time.perf_counter() - began
        for client in clients:
            await client.close()
    print(
        f"   {label}: {run.per_second:.1f} executions/s, p50 {run.pct(0.5):.1f} ms, "
        f"p99 {run.pct(0.99):.1f} ms ({run.failures} failed)",
        flush=True,
    )
    return run


PG_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


async def reset_postgres(name: str) -> str:
    """Re-create a bench database on the local PostgreSQL; returns its async URL."""
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


def git_commit(checkout: Path) -> str:
    """The short commit a checkout is at (its folder name when git cannot tell)."""
    done = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or checkout.name


def peer_runs(
    done: subprocess.CompletedProcess[str], peer: str, label: Callable[[str], str]
) -> tuple[list[Run], str | None]:
    """The sequential and 4-at-a-time runs a peer's script printed as ``RESULT {json}``, or why
    there are none."""
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        return [], f"{peer} failed (exit {done.returncode}): {tail}"
    data = json.loads(line.removeprefix("RESULT "))
    runs: list[Run] = []
    for key, what in (("sequential", "sequential"), ("concurrent", "4 at a time")):
        latencies: list[float] = data[key]["latencies_ms"]
        run = Run(label(what), len(latencies), data[key]["seconds"], latencies)
        print(
            f"   {run.label}: {run.per_second:.2f} executions/s, p50 {run.pct(0.5):.1f} ms",
            flush=True,
        )
        runs.append(run)
    return runs, None
