"""Prometheus metrics of the engine (one registry per process, served at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

EXECUTIONS_FINISHED = Counter(
    "loom_executions_finished",
    "Executions that reached a terminal status, by outcome.",
    ["outcome"],
    registry=REGISTRY,
)
EXECUTIONS_STARTED = Counter(
    "loom_executions_started", "Executions created through the API.", registry=REGISTRY
)
STEP_DURATION = Histogram(
    "loom_step_duration_seconds",
    "Duration of one step attempt, by action and outcome.",
    ["action", "outcome"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
STEP_START_LATENCY = Histogram(
    "loom_step_start_latency_seconds",
    "Time from a step becoming runnable to its start.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
RUNNABLE_STEPS = Gauge(
    "loom_runnable_steps", "Steps that are runnable but not yet claimed.", registry=REGISTRY
)
RUNNING_STEPS = Gauge("loom_running_steps", "Steps this process is running now.", registry=REGISTRY)


def render_metrics() -> bytes:
    """The text exposition of every metric."""
    return generate_latest(REGISTRY)
