"""``loom worker MODULE[:ATTR]``: run the job handlers of a module until SIGTERM/SIGINT.

``ATTR`` names a ``Router`` or a ``JobWorker`` in the module (default: ``router``, then
``worker``). A router runs on the adapter chosen here:

- ``--adapter camunda``: ``--url`` or ``CAMUNDA_REST_ADDRESS`` (``ZEEBE_REST_ADDRESS``), with
  ``/v2`` appended when missing;
- ``--adapter conductor``: ``--url`` or ``CONDUCTOR_SERVER_URL`` (ending in ``/api``, as
  conductor-python reads it).

SIGTERM or SIGINT stops polling, lets running jobs finish within ``--drain-timeout``, then fails
what is left back to the server; a second signal skips the drain. The exit line counts outcomes.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loom.runtime.worker import CountingMetrics, JobAdapter

__all__ = ["add_command"]


def add_command(sub: Any) -> None:
    """Add ``worker`` to the ``loom`` command."""
    p = sub.add_parser(
        "worker",
        help="run job handlers (a Router or JobWorker in MODULE) until SIGTERM",
        description="Run the job handlers of a Router or JobWorker in MODULE until SIGTERM or "
        "SIGINT, then drain within --drain-timeout and fail what is left back to the server.",
    )
    p.add_argument("target", metavar="MODULE[:ATTR]", help="e.g. app.jobs:router")
    p.add_argument("--adapter", choices=("camunda", "conductor"), default="camunda")
    p.add_argument("--url", help="the engine's REST address (default: from the environment)")
    p.add_argument("--name", default=None, help="worker name (default loom-worker-<pid>)")
    p.add_argument("--max-in-flight", type=int, default=16, help="jobs per type at once")
    p.add_argument("--request-timeout", type=float, default=20.0, help="long-poll seconds")
    p.add_argument("--drain-timeout", type=float, default=30.0, help="seconds to finish jobs")
    p.add_argument("--with-lease", action="store_true", help="Camunda 8.10 job leases")
    p.add_argument("--domain", help="Conductor task domain")
    p.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Load the target, build the worker, run it; return the exit code."""
    from loom.runtime.worker import CountingMetrics, JobWorker, RegistrationError, Router

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    sys.path.insert(0, os.getcwd())  # `loom worker app.jobs` finds ./app, as uvicorn does
    try:
        target = _load(args.target)
    except (ImportError, AttributeError, RegistrationError, ValueError) as exc:
        print(f"loom worker: {exc}", file=sys.stderr)
        return 2
    metrics: CountingMetrics | None = None
    if isinstance(target, JobWorker):
        worker = target
    elif isinstance(target, Router):
        try:
            adapter = _adapter(args)
        except ValueError as exc:
            print(f"loom worker: {exc}", file=sys.stderr)
            return 2
        metrics = CountingMetrics()
        worker = JobWorker(
            adapter,
            name=args.name or f"loom-worker-{os.getpid()}",
            max_in_flight=args.max_in_flight,
            request_timeout_seconds=args.request_timeout,
            drain_timeout_seconds=args.drain_timeout,
            metrics=metrics,
        )
        worker.include_router(target)
    else:
        print(
            f"loom worker: {args.target} is a {type(target).__name__}, not a Router or JobWorker",
            file=sys.stderr,
        )
        return 2
    types = ", ".join(spec.job_type for spec in worker.router)
    print(
        f"loom worker: {worker.name} polling {types} (SIGTERM or Ctrl-C stops it)",
        file=sys.stderr,
        flush=True,
    )
    began = time.monotonic()
    asyncio.run(worker.run(handle_signals=True))
    print(
        f"loom worker: stopped after {time.monotonic() - began:.1f} s{_counts(metrics)}",
        file=sys.stderr,
        flush=True,
    )
    return 0


def _load(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    if not module_name:
        raise ValueError(f"{target!r}: give a module, e.g. app.jobs:router")
    module = importlib.import_module(module_name)
    names = [attr] if attr else ["router", "worker"]
    for name in names:
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(
        f"module {module_name} has no {' or '.join(repr(n) for n in names)}; name the Router "
        f"or JobWorker: loom worker {module_name}:NAME"
    )


def _adapter(args: argparse.Namespace) -> JobAdapter:
    if args.adapter == "camunda":
        from loom.runtime.worker.camunda import CamundaAdapter

        url = (
            args.url
            or os.environ.get("CAMUNDA_REST_ADDRESS")
            or os.environ.get("ZEEBE_REST_ADDRESS")
        )
        if not url:
            raise ValueError("no Camunda address: pass --url or set CAMUNDA_REST_ADDRESS")
        url = url.rstrip("/")
        return CamundaAdapter(
            url if url.endswith("/v2") else f"{url}/v2", with_lease=args.with_lease
        )
    from loom.runtime.worker.conductor import ConductorAdapter

    url = args.url or os.environ.get("CONDUCTOR_SERVER_URL")
    if not url:
        raise ValueError("no Conductor address: pass --url or set CONDUCTOR_SERVER_URL")
    return ConductorAdapter(url, domain=args.domain)


def _counts(metrics: CountingMetrics | None) -> str:
    if metrics is None:
        return ""
    totals: dict[str, int] = {}
    for (_, outcome), n in metrics.outcomes.items():
        totals[outcome] = totals.get(outcome, 0) + n
    order = ("completed", "failed", "error", "abandoned", "lost")
    return ": " + ", ".join(f"{totals.get(k, 0)} {k}" for k in order)
