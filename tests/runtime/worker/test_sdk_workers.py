"""A generated SDK whose configuration names a worker adapter carries the worker.

The golden ``camunda_jobs`` SDK (``[worker] adapter = "camunda"``) is used as users would:
``AsyncClient()`` from ``CAMUNDA_*`` variables, ``@client.job_worker``, ``run_workers()``.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

from loom.codegen.config import load_config
from loom.codegen.diagnostics import FatalSchemaError
from tests.codegen.golden_cases import GOLDEN
from tests.runtime.worker.fake_camunda import FakeCamunda
from tests.runtime.worker.helpers import Control, states, wait_until

SDK_DIR = str(GOLDEN / "camunda_jobs")


def import_sdk(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The golden SDK package, importable for this test only."""
    monkeypatch.setattr("sys.path", [SDK_DIR, *sys.path])
    return importlib.import_module("camunda_jobs")


async def test_generated_async_client_runs_job_workers_on_its_own_connection(
    fake: FakeCamunda, control: Control, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMUNDA_BASE_URL", fake.url)  # /v2 is appended by the SDK
    sdk = import_sdk(monkeypatch)
    client = sdk.AsyncClient()
    seen: list[str] = []

    @client.job_worker("sdk-job", max_in_flight=2, request_timeout_seconds=1.0)
    async def handle(variables: dict[str, Any]) -> dict[str, Any]:
        seen.append(variables["who"])
        return {"greeting": f"hi {variables['who']}"}

    keys = [control.create("sdk-job", variables={"who": w})[0] for w in ("a", "b", "c")]
    runner = asyncio.create_task(client.run_workers(handle_signals=False))
    await wait_until(lambda: states(control, keys) == ["completed"] * 3, what="three jobs")
    await client.stop_workers()
    await runner
    assert sorted(seen) == ["a", "b", "c"]
    assert control.events(keys[0], "complete")[0]["variables"] == {"greeting": "hi a"}
    assert not client._http().is_closed  # the SDK's pool is the client's; the worker left it open  # pyright: ignore[reportPrivateUsage]
    await client.aclose()


async def test_run_workers_refuses_when_no_worker_was_created(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sdk = import_sdk(monkeypatch)
    with pytest.raises(RuntimeError, match="no job workers"):
        await sdk.AsyncClient(base_url="http://127.0.0.1:9").run_workers()


def test_worker_adapter_is_read_from_the_config_and_a_wrong_one_is_refused(
    tmp_path: Path,
) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[worker]\nadapter = "conductor"\n')
    assert load_config(good).worker_adapter == "conductor"
    bad = tmp_path / "bad.toml"
    bad.write_text('[worker]\nadapter = "zeebe"\n')
    with pytest.raises(FatalSchemaError, match=r"worker\.adapter"):
        load_config(bad)


def test_sdks_without_a_worker_adapter_carry_no_worker_code() -> None:
    assert not (GOLDEN / "petstore" / "petstore" / "_runtime" / "worker").exists()
    assert (GOLDEN / "camunda_jobs" / "camunda_jobs" / "_runtime" / "worker" / "sdk.py").exists()
