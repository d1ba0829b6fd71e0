"""The metrics hook, exported through prometheus-client (the loom[prometheus] extra)."""

from __future__ import annotations

import prometheus_client

from loom.runtime.worker import JobWorker
from loom.runtime.worker.camunda import CamundaAdapter
from loom.runtime.worker.prometheus import PrometheusMetrics
from tests.runtime.worker.fake_camunda import FakeCamunda
from tests.runtime.worker.helpers import Control, running, states, wait_until


async def test_prometheus_counts_activations_outcomes_and_durations_when_jobs_run(
    fake: FakeCamunda, control: Control
) -> None:
    registry = prometheus_client.CollectorRegistry()
    worker = JobWorker(
        CamundaAdapter(fake.base_url),
        request_timeout_seconds=2.0,
        metrics=PrometheusMetrics(registry=registry),
    )

    @worker.job("metered")
    async def metered(variables: dict[str, int]) -> None:
        if variables["n"] % 2:
            raise ValueError("odd")

    keys = [control.create("metered", variables={"n": n}, retries=1)[0] for n in range(4)]
    async with running(worker):
        await wait_until(
            lambda: sorted(states(control, keys)) == ["completed", "completed", "failed", "failed"],
            what="four outcomes",
        )
    text = prometheus_client.generate_latest(registry).decode()

    def value(name: str, labels: str) -> float:
        sample = registry.get_sample_value(name, dict(kv.split("=") for kv in labels.split(",")))
        assert sample is not None, f"{name}{{{labels}}} missing in\n{text}"
        return sample

    assert value("loom_worker_jobs_activated_total", "type=metered") == 4
    assert value("loom_worker_jobs_finished_total", "type=metered,outcome=completed") == 2
    assert value("loom_worker_jobs_finished_total", "type=metered,outcome=failed") == 2
    assert value("loom_worker_handler_duration_seconds_count", "type=metered") == 4
    assert value("loom_worker_jobs_in_flight", "type=metered") == 0
