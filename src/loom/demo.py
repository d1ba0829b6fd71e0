"""``loom demo``: loom's main job end to end on one machine, with nothing to configure.

1. Generate the Camunda 8 SDK from the bundled schema into ``build/camunda``.
2. Serve that schema with the Prism mock server (request validation on) and use the SDK against
   it, sync and async: topology, start a process instance, search with paging.
3. Run a pipeline on loom's engine on the embedded default (SQLite under ``build/``).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CAMUNDA = ROOT / "examples" / "camunda"
BUILD = ROOT / "build"


def _say(text: str) -> None:
    print(text, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _prism_binary() -> Path | None:
    local = ROOT / "node_modules" / ".bin" / "prism"
    if local.exists():
        return local
    found = shutil.which("prism")
    return Path(found) if found else None


def _start_prism(spec: Path) -> tuple[subprocess.Popen[bytes], str]:
    prism = _prism_binary()
    if prism is None:
        raise RuntimeError("the Prism mock server is not installed: run `make install` (npm ci)")
    port = _free_port()
    proc = subprocess.Popen(
        [str(prism), "mock", str(spec), "-h", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Prism exited with code {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"http://127.0.0.1:{port}"
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("Prism did not start listening within 60 s")


def _generate() -> ModuleType:
    from loom.codegen.config import load_config
    from loom.codegen.pipeline import generate

    out = BUILD / "camunda"
    result = generate(CAMUNDA / "rest-api.bundle.json", out, load_config(CAMUNDA / "loom.toml"))
    api = result.api
    assert api is not None
    _say(
        f"  generated {len(api.operations)} operations, "
        f"{len(api.models) + len(api.enums) + len(api.aliases)} models, "
        f"{len(result.files)} files in {result.seconds:.2f} s → {out}"
    )
    sys.path.insert(0, str(out))
    return importlib.import_module("camunda_sdk")


def _use_sync(sdk: Any, base_url: str) -> int:
    calls = 0
    # Prism serves the paths without the server's /v2 base path: use base_url verbatim.
    with sdk.Client(
        base_url=base_url, base_url_exact=True, username="demo", password="demo"
    ) as client:
        topology = client.cluster.get_topology()
        calls += 1
        brokers, version = len(topology.brokers), topology.gateway_version
        _say(f"  sync  topology: {brokers} broker(s), gateway {version}")
        created = client.process_instance.create(body={"processDefinitionId": "order-process"})
        calls += 1
        _say(f"  sync  started process instance {created.process_instance_key}")
        page = client.process_instance.search(body={"filter": {"state": "ACTIVE"}})
        calls += 1
        _say(f"  sync  search: {len(page.items)} instance(s) on the first page")
        raw = client.process_instance.with_raw_response.search(body={})
        calls += 1
        _say(f"  sync  raw response: HTTP {raw.status_code}, {raw.headers.get('content-type')}")
    return calls


async def _use_async(sdk: Any, base_url: str) -> int:
    client: Any = sdk.AsyncClient(
        base_url=base_url, base_url_exact=True, username="demo", password="demo"
    )
    try:
        calls: list[Any] = [
            client.cluster.get_topology(),
            client.process_definition.search(body={}),
            client.process_instance.search(body={}),
        ]
        results: list[Any] = await asyncio.gather(*calls)
    finally:
        await client.aclose()
    brokers = len(results[0].brokers)
    definitions = len(results[1].items)
    instances = len(results[2].items)
    _say(
        f"  async 3 calls at once: {brokers} broker(s), "
        f"{definitions} definition(s), {instances} instance(s)"
    )
    return 3


def main(*, skip_engine: bool = False) -> int:
    """Run the demo; returns the exit code."""
    started = time.perf_counter()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    _say("loom demo 1/3: generate the Camunda 8 SDK")
    sdk = _generate()
    _say("loom demo 2/3: call it against Prism serving the same schema")
    prism, base_url = _start_prism(CAMUNDA / "rest-api.bundle.json")
    try:
        calls = _use_sync(sdk, base_url)
        calls += asyncio.run(_use_async(sdk, base_url))
    finally:
        prism.terminate()
        prism.wait(timeout=10)
    engine = "skipped"
    if not skip_engine:
        _say("loom demo 3/3: run a pipeline on the engine (SQLite, embedded)")
        try:
            engine_demo = importlib.import_module("loom.engine.demo")
        except ImportError:
            _say("  the engine is not part of this build yet")
            engine = "not available"
        else:
            code: int = engine_demo.run_demo()
            if code != 0:
                _say(f"loom demo: the engine demo failed (exit {code})")
                return code
            engine = "pipeline completed"
    _say(
        f"loom demo: SDK generated, {calls} API calls succeeded (sync and async), "
        f"engine: {engine}; {time.perf_counter() - started:.1f} s"
    )
    return 0
