"""``loom worker MODULE[:ROUTER]`` in a real subprocess: SIGTERM drains, kill -9 loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loom.runtime.worker import JobWorker
from loom.runtime.worker.camunda import CamundaAdapter
from tests.runtime.worker.fake_camunda import FakeCamunda
from tests.runtime.worker.helpers import Control, running, states, wait_until

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


def start_worker(
    fake: FakeCamunda, *extra: str, target: str = "cli_handlers:router"
) -> subprocess.Popen[str]:
    env = {**os.environ, "CAMUNDA_REST_ADDRESS": fake.url, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loom",
            "worker",
            f"tests.runtime.worker.{target}",
            "--request-timeout",
            "1",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


async def test_sigterm_drains_then_fails_back_what_is_left_so_no_job_stays_locked(
    fake: FakeCamunda, control: Control, processes: list[subprocess.Popen[str]]
) -> None:
    proc = start_worker(fake, "--drain-timeout", "1")
    processes.append(proc)
    quick = control.create("cli-echo", variables={"value": 7}, count=2)
    slow = control.create("cli-slow", count=2, retries=3)
    await wait_until(
        lambda: (
            states(control, quick) == ["completed"] * 2
            and states(control, slow) == ["activated"] * 2
        ),
        timeout_seconds=30,
        what="the worker to complete two jobs and run two",
    )
    proc.send_signal(signal.SIGTERM)
    began = time.monotonic()
    _, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0, stderr
    assert time.monotonic() - began < 8
    assert states(control, slow) == ["activatable"] * 2
    for key in slow:
        [failure] = control.events(key, "fail")
        assert failure["retries"] == 3
        assert "drain timeout of 1 s" in failure["message"]
    assert "SIGTERM, stopping (drain up to 1.0 s)" in stderr
    assert (
        stderr.rstrip()
        .splitlines()[-1]
        .endswith("2 completed, 0 failed, 0 error, 2 abandoned, 0 lost")
    )
    assert control.events(quick[0], "complete")[0]["variables"] == {"echoed": 7}


async def test_job_is_completed_once_by_another_worker_when_the_first_is_killed_mid_job(
    fake: FakeCamunda, control: Control, processes: list[subprocess.Popen[str]]
) -> None:
    proc = start_worker(fake, "--with-lease")
    processes.append(proc)
    [key] = control.create("cli-hang")
    await wait_until(
        lambda: states(control, [key]) == ["activated"],
        timeout_seconds=30,
        what="the first worker to take the job",
    )
    first = control.jobs()[key]["worker"]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)

    second = JobWorker(
        CamundaAdapter(fake.base_url, with_lease=True), name="second", request_timeout_seconds=1.0
    )

    @second.job("cli-hang")
    async def finish() -> dict[str, str]:
        return {"by": "second"}

    async with running(second):
        await wait_until(
            lambda: states(control, [key]) == ["completed"],
            timeout_seconds=15,
            what="the second worker to complete the job",
        )
    history = [(h["event"], h["worker"]) for h in control.jobs()[key]["history"]]
    assert history == [
        ("activated", first),
        ("timed_out", first),
        ("activated", "second"),
        ("complete", "second"),
    ]
    assert first.startswith("loom-worker-")


def test_cli_refuses_to_start_when_a_handler_signature_is_wrong(fake: FakeCamunda) -> None:
    proc = start_worker(fake, target="bad_handlers")
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "parameter 'extra' has no value to receive" in stderr
    assert "Traceback" not in stderr
