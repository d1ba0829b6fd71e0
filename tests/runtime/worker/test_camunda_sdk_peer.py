"""camunda-orchestration-sdk 10.0.1's own worker runs against the fake Camunda.

This proves the fake's job shape is what the real SDK accepts (its worker stops for good when
one of the required fields is missing) and that its commands are what the fake checks.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from bench.peers import CAMUNDA, ROOT

from tests.runtime.worker.fake_camunda import FakeCamunda
from tests.runtime.worker.helpers import Control

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CAMUNDA.python.exists(), reason="run `make peers` first"),
]


def test_camunda_sdk_worker_completes_fails_and_throws_against_the_fake(
    fake: FakeCamunda, control: Control
) -> None:
    [ok] = control.create("peer-ok", variables={"n": 21})
    [flaky] = control.create("peer-flaky", retries=3)
    [biz] = control.create("peer-biz")
    result = subprocess.run(
        [str(CAMUNDA.python), str(ROOT / "bench" / "_camunda_peer_worker.py"), "scenario"],
        env={**os.environ, "CAMUNDA_REST_ADDRESS": fake.url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == {"handled": 4}
    jobs = control.jobs()
    assert [jobs[k]["state"] for k in (ok, flaky, biz)] == ["completed", "completed", "error"]
    assert control.events(ok, "complete")[0]["variables"] == {"seen": 42, "worker": "camunda-sdk"}
    [failure] = control.events(flaky, "fail")
    assert failure["retries"] == 2
    [error] = control.events(biz, "error")
    assert (error["code"], error["variables"]) == ("NOT_ALLOWED", {"why": "policy"})
    # Every request the SDK sent passed the fake's schema validation (a 400 would have
    # stopped the job from reaching these states); its activations asked as documented.
    asked = control.state()["activations"]
    assert {a["type"] for a in asked} >= {"peer-ok", "peer-flaky", "peer-biz"}
