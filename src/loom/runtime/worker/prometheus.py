"""Prometheus metrics for the worker (the ``loom[prometheus]`` extra: ``prometheus-client``).

``PrometheusMetrics()`` registers, in the default registry unless one is given:
``loom_worker_jobs_activated_total{type}``, ``loom_worker_jobs_finished_total{type,outcome}``,
``loom_worker_jobs_in_flight{type}``, ``loom_worker_poll_errors_total{type,reason}`` and the
histogram ``loom_worker_handler_duration_seconds{type}``.
"""

from __future__ import annotations

from typing import Any

from .metrics import Outcome

__all__ = ["PrometheusMetrics"]


class PrometheusMetrics:
    """The worker's metrics as prometheus-client collectors."""

    def __init__(self, *, registry: Any = None, namespace: str = "loom_worker") -> None:
        try:
            import prometheus_client as prom
        except ImportError as exc:  # the extra is not installed
            raise ImportError(
                "PrometheusMetrics needs prometheus-client: pip install 'loom[prometheus]' "
                "(or prometheus-client)"
            ) from exc
        kwargs: dict[str, Any] = {"namespace": namespace}
        if registry is not None:
            kwargs["registry"] = registry
        self._activated = prom.Counter("jobs_activated", "Jobs activated.", ["type"], **kwargs)
        self._finished = prom.Counter(
            "jobs_finished", "Jobs finished, by outcome.", ["type", "outcome"], **kwargs
        )
        self._in_flight = prom.Gauge("jobs_in_flight", "Jobs running now.", ["type"], **kwargs)
        self._poll_errors = prom.Counter(
            "poll_errors", "Failed activations, by reason.", ["type", "reason"], **kwargs
        )
        self._duration = prom.Histogram(
            "handler_duration_seconds", "Handler run time.", ["type"], **kwargs
        )

    def activated(self, job_type: str, count: int) -> None:
        """Count activations."""
        self._activated.labels(job_type).inc(count)

    def finished(self, job_type: str, outcome: Outcome, duration_seconds: float) -> None:
        """Count the outcome and observe the handler's duration."""
        self._finished.labels(job_type, outcome).inc()
        self._duration.labels(job_type).observe(duration_seconds)

    def in_flight(self, job_type: str, count: int) -> None:
        """Set the gauge."""
        self._in_flight.labels(job_type).set(count)

    def poll_error(self, job_type: str, reason: str) -> None:
        """Count a failed activation."""
        self._poll_errors.labels(job_type, reason).inc()
