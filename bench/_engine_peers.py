"""The engine benchmark's peers: Prefect 3.9.1 (own local server) and a BudPipeline-style
in-request baseline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bench._engine_common import (
    BUILD,
    DIAMOND,
    ROOT,
    LoadClient,
    Run,
    drive,
    engine_env,
    free_port,
    peer_runs,
    stop,
    wait_http,
)

PREFECT_VENV = ROOT / "build" / "peers" / "prefect"
PREFECT_VERSION = "3.9.1"


# -- BudPipeline-style baseline: the whole pipeline inside the request, one step at a time --


def baseline_app(database_path: Path) -> Any:
    """A FastAPI app that runs the diamond inside ``POST /run``, committing each step."""
    from fastapi import FastAPI

    engine = create_async_engine(f"sqlite+aiosqlite:///{database_path}")
    order = [step["id"] for step in DIAMOND["steps"]]

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncGenerator[None, None]:
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "CREATE TABLE IF NOT EXISTS steps (execution TEXT, step TEXT, "
                    "status TEXT, outputs TEXT)"
                )
            )
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.post("/run")
    async def _run() -> dict[str, Any]:  # pyright: ignore[reportUnusedFunction]
        execution = str(uuid.uuid4())
        outputs: dict[str, Any] = {}
        for step in order:  # strictly one step at a time, like BudPipeline
            async with engine.begin() as conn:
                await conn.execute(
                    sa.text("INSERT INTO steps VALUES (:e, :s, 'running', NULL)"),
                    {"e": execution, "s": step},
                )
            outputs[step] = {}
            async with engine.begin() as conn:
                await conn.execute(
                    sa.text(
                        "UPDATE steps SET status='completed', outputs='{}' "
                        "WHERE execution=:e AND step=:s"
                    ),
                    {"e": execution, "s": step},
                )
        return {"id": execution, "status": "completed", "outputs": outputs}

    return app


async def bench_baseline(sequential: int, concurrent: int) -> list[Run]:
    """Measure the BudPipeline-style baseline."""
    path = BUILD / "baseline.db"
    path.unlink(missing_ok=True)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.engine_throughput", "--serve-baseline", str(port), str(path)],
        cwd=ROOT,
        env=engine_env("sqlite:///unused"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/docs", proc=proc)

        async def one(client: LoadClient) -> bool:
            status, body = await client.post("/run")
            return status == 200 and body["status"] == "completed"

        base = f"http://127.0.0.1:{port}"
        await drive("warm-up", 10, 1, one, base)
        return [
            await drive("baseline, sequential", sequential, 1, one, base),
            await drive("baseline, 4 at a time", concurrent, 4, one, base),
        ]
    finally:
        stop(proc)


# -- Prefect 3.9.1 with its own local server ---------------------------------------------------

PREFECT_CLIENT = r"""
import asyncio, json, sys, time
from prefect import flow, task

@task(persist_result=False)
async def noop() -> int:
    return 1

@flow(persist_result=False, log_prints=False)
async def diamond() -> int:
    await noop()
    await asyncio.gather(noop(), noop(), noop())
    return await noop()

async def scenario(total: int, concurrency: int) -> dict:
    latencies = []
    todo = list(range(total))
    async def worker():
        while todo:
            todo.pop()
            began = time.perf_counter()
            await diamond()
            latencies.append((time.perf_counter() - began) * 1000)
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"seconds": time.perf_counter() - began, "latencies_ms": latencies}

async def main() -> None:
    sequential, concurrent = int(sys.argv[1]), int(sys.argv[2])
    await scenario(2, 1)
    result = {"sequential": await scenario(sequential, 1),
              "concurrent": await scenario(concurrent, 4)}
    print("RESULT " + json.dumps(result))

asyncio.run(main())
"""


def ensure_prefect() -> Path:
    """Prefect 3.9.1 in ``build/peers/prefect``: its dependencies with the newest certifi (the
    wheel pins a certifi newer than the registry serves), then the wheel with ``--no-deps``."""
    python = PREFECT_VENV / "bin" / "python"
    if python.exists():
        check = subprocess.run(
            [str(python), "-c", "import prefect; print(prefect.__version__)"],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.stdout.strip() == PREFECT_VERSION:
            return python
    uv = ROOT / ".tools" / "bin" / "uv"
    wheels = PREFECT_VENV.parent / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(uv), "venv", str(PREFECT_VENV), "--python", "3.11"], check=True)
    subprocess.run(
        [
            str(ROOT / ".tools" / "bin" / "pip"),
            "download",
            f"prefect=={PREFECT_VERSION}",
            "--no-deps",
            "-d",
            str(wheels),
            "-q",
        ],
        check=True,
    )
    wheel = next(wheels.glob(f"prefect-{PREFECT_VERSION}-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(meta).decode().splitlines()
    requirements: list[str] = []
    for line in lines:
        if line.startswith("Requires-Dist:") and "extra ==" not in line:
            requirement = line.split(":", 1)[1].strip()
            requirements.append("certifi" if requirement.startswith("certifi") else requirement)
    env = dict(os.environ, VIRTUAL_ENV=str(PREFECT_VENV))
    subprocess.run([str(uv), "pip", "install", *requirements], check=True, env=env)
    subprocess.run([str(uv), "pip", "install", "--no-deps", str(wheel)], check=True, env=env)
    return python


def bench_prefect(sequential: int, concurrent: int) -> tuple[list[Run], str | None]:
    """Measure Prefect against its own local server; returns the runs or why it could not."""
    try:
        python = ensure_prefect()
    except (subprocess.CalledProcessError, StopIteration, OSError) as exc:
        return [], f"Prefect {PREFECT_VERSION} could not be installed: {exc}"
    home = BUILD / "prefect-home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
    )
    server = subprocess.Popen(
        [
            str(python),
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=(BUILD / "prefect-server.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/api/health", proc=server, timeout_seconds=120)
        script = BUILD / "prefect_diamond.py"
        script.write_text(PREFECT_CLIENT)
        done = subprocess.run(
            [str(python), str(script), str(sequential), str(concurrent)],
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return [], f"Prefect {PREFECT_VERSION} did not run: {exc}"
    finally:
        stop(server)
    return peer_runs(
        done, f"Prefect {PREFECT_VERSION}", lambda what: f"Prefect {PREFECT_VERSION}, {what}"
    )
