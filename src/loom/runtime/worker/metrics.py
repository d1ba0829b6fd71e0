"""The metrics hook: activated, completed, failed, in flight, handler duration.

``JobWorker(metrics=...)`` takes anything with these four methods; ``CountingMetrics`` keeps
totals in memory, ``prometheus.PrometheusMetrics`` (the ``loom[prometheus]`` extra) exports them.
Outcomes are ``completed``, ``failed``, ``error`` (business error), ``lost`` (the server dropped
the lease) and ``abandoned`` (failed back at shutdown).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Literal, Protocol, TypeAlias

__all__ = ["CountingMetrics", "NullMetrics", "Outcome", "WorkerMetrics"]

Outcome: TypeAlias = Literal["completed", "failed", "error", "lost", "abandoned"]


class WorkerMetrics(Protocol):
    """What the worker reports; every call is cheap and never raises."""

    def activated(self, job_type: str, count: int) -> None:
        """``count`` jobs of ``job_type`` were activated."""
        ...

    def finished(self, job_type: str, outcome: Outcome, duration_seconds: float) -> None:
        """A job ended with ``outcome`` after its handler ran ``duration_seconds``."""
        ...

    def in_flight(self, job_type: str, count: int) -> None:
        """``count`` jobs of ``job_type`` are running now."""
        ...

    def poll_error(self, job_type: str, reason: str) -> None:
        """An activation failed (``reason``: backpressure, unavailable, error)."""
        ...


class NullMetrics:
    """Reports nothing."""

    def activated(self, job_type: str, count: int) -> None:
        """Nothing."""

    def finished(self, job_type: str, outcome: Outcome, duration_seconds: float) -> None:
        """Nothing."""

    def in_flight(self, job_type: str, count: int) -> None:
        """Nothing."""

    def poll_error(self, job_type: str, reason: str) -> None:
        """Nothing."""


class CountingMetrics:
    """Totals in memory (thread-safe): ``outcomes[(type, outcome)]``, ``activations[type]``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.activations: Counter[str] = Counter()
        self.outcomes: Counter[tuple[str, str]] = Counter()
        self.poll_errors: Counter[tuple[str, str]] = Counter()
        self.current: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.durations: list[float] = []

    def activated(self, job_type: str, count: int) -> None:
        """Count activations."""
        with self._lock:
            self.activations[job_type] += count

    def finished(self, job_type: str, outcome: Outcome, duration_seconds: float) -> None:
        """Count one outcome and keep its duration."""
        with self._lock:
            self.outcomes[job_type, outcome] += 1
            self.durations.append(duration_seconds)

    def in_flight(self, job_type: str, count: int) -> None:
        """Keep the current and the highest count."""
        with self._lock:
            self.current[job_type] = count
            self.peak[job_type] = max(self.peak.get(job_type, 0), count)

    def poll_error(self, job_type: str, reason: str) -> None:
        """Count activation errors by reason."""
        with self._lock:
            self.poll_errors[job_type, reason] += 1
