"""DBOS Transact 3.4 as a peer of the engine benchmark: the same diamond (one step, three in
parallel with ``asyncio.gather``, one join; no-op steps) as durable workflows, in-process, on
the same PostgreSQL server. DBOS lives in its own venv (``build/peers/dbos``): its pins are
not the engine's."""

from __future__ import annotations

import subprocess

from bench._engine_common import BUILD, ROOT, Run, peer_runs, reset_postgres

DBOS_VERSION = "3.4.0"
DBOS_VENV = BUILD / "peers" / "dbos"
DBOS_DB = "loom_bench_dbos"

DBOS_CLIENT = r"""
import asyncio, json, sys, time
from dbos import DBOS

DBOS(config={
    "name": "loom-bench-diamond",
    "system_database_url": sys.argv[3],
    "log_level": "WARNING",
})

@DBOS.step()
async def noop(n: int) -> int:
    return n

@DBOS.workflow()
async def diamond() -> int:
    a = await noop(1)
    b, c, d = await asyncio.gather(noop(2), noop(3), noop(4))
    return await noop(a + b + c + d)

async def scenario(total: int, concurrency: int) -> dict:
    latencies = []
    todo = list(range(total))
    async def worker():
        while todo:
            todo.pop()
            began = time.perf_counter()
            assert await diamond() == 10
            latencies.append((time.perf_counter() - began) * 1000)
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"seconds": time.perf_counter() - began, "latencies_ms": latencies}

async def main() -> None:
    sequential, concurrent = int(sys.argv[1]), int(sys.argv[2])
    DBOS.launch()
    await scenario(20, 4)  # warm-up, as for loom
    result = {"sequential": await scenario(sequential, 1),
              "concurrent": await scenario(concurrent, 4)}
    print("RESULT " + json.dumps(result), flush=True)
    DBOS.destroy()

asyncio.run(main())
"""


def ensure_dbos() -> str:
    """The Python of ``build/peers/dbos`` with DBOS Transact installed (made once)."""
    python = DBOS_VENV / "bin" / "python"
    check = (
        subprocess.run(
            [str(python), "-c", "import importlib.metadata as m; print(m.version('dbos'))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if python.exists()
        else None
    )
    if check is None or check.stdout.strip() != DBOS_VERSION:
        uv = str(ROOT / ".tools" / "bin" / "uv")
        subprocess.run([uv, "venv", str(DBOS_VENV), "--python", "3.11", "-q"], check=True)
        subprocess.run(
            [uv, "pip", "install", "--python", str(python), f"dbos=={DBOS_VERSION}", "-q"],
            check=True,
        )
    return str(python)


async def bench_dbos(sequential: int, concurrent: int) -> tuple[list[Run], str | None]:
    """Measure DBOS; returns the runs or why it could not."""
    try:
        python = ensure_dbos()
    except (subprocess.CalledProcessError, OSError) as exc:
        return [], f"DBOS {DBOS_VERSION} could not be installed: {exc}"
    url = (await reset_postgres(DBOS_DB)).replace("+asyncpg", "")
    script = BUILD / "dbos_diamond.py"
    script.write_text(DBOS_CLIENT)
    try:
        done = subprocess.run(
            [python, str(script), str(sequential), str(concurrent), url],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return [], f"DBOS {DBOS_VERSION} did not finish: {exc}"
    return peer_runs(
        done,
        f"DBOS {DBOS_VERSION}",
        lambda what: f"DBOS {DBOS_VERSION} (in-process, PostgreSQL), {what}",
    )
