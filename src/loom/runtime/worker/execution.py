"""Running one handler and turning what it did into an outcome (complete, fail, throw error).

The handler runs on the event loop (``async``), in the worker's thread pool (``thread``) or in
its process pool (``process``). Variables are validated into the handler's model here, in the
worker's process; what crosses into a pool process is the function (by reference) and its
keyword arguments.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, TypeAlias

from .context import JobContext
from .errors import BusinessError, JobFailure
from .job import Job
from .registry import HandlerSpec

__all__ = ["Complete", "Fail", "Outcome", "ThrowError", "run_handler"]

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Complete:
    """Complete the job with these variables."""

    variables: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Fail:
    """Fail the job."""

    message: str
    retries: int
    retry_backoff_seconds: float
    variables: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ThrowError:
    """Throw a business error."""

    code: str
    message: str
    variables: dict[str, Any] | None = None


Outcome: TypeAlias = Complete | Fail | ThrowError


@dataclass(frozen=True, slots=True)
class Executors:
    """The pools of the ``thread`` and ``process`` strategies (created on first use)."""

    threads: Executor | None
    processes: Executor | None


async def run_handler(
    spec: HandlerSpec, job: Job, context: JobContext, executors: Executors
) -> Outcome:
    """Run ``spec``'s handler for ``job``; every exception becomes an outcome.

    ``asyncio.CancelledError`` is not caught: the worker cancels a handler only at shutdown,
    and then reports the job itself.
    """
    try:
        variables = _variables(spec, job)
        result = await _call(spec, spec.arguments(variables, context), executors)
        return Complete(_completion_variables(spec, result))
    except BusinessError as exc:
        return ThrowError(exc.code, _clip(exc.message), exc.variables or None)
    except JobFailure as exc:
        retries = job.retries - 1 if exc.retries is None else exc.retries
        return Fail(_clip(exc.message), max(retries, 0), exc.retry_backoff_seconds, exc.variables)
    except Exception as exc:
        # The type and the text of the exception, never the traceback or the variables: the
        # message is stored on the server, where operators and other tools read it.
        logger.warning(
            "job %s (%s) failed in %s", job.key, job.type, _qualname(spec), exc_info=True
        )
        message = _clip(f"{type(exc).__name__}: {exc}")
        return Fail(message, max(job.retries - 1, 0), spec.retry_backoff_seconds)


def _variables(spec: HandlerSpec, job: Job) -> Any:
    if spec.model is None:
        return dict(job.variables)
    from pydantic import ValidationError

    try:
        return spec.model.model_validate(dict(job.variables))
    except ValidationError as exc:
        # ``include_input=False``: the rejected values may be secrets.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        )
        raise JobFailure(
            f"variables do not match {spec.model.__name__}: {problems}",
            retries=max(job.retries - 1, 0),
            retry_backoff_seconds=spec.retry_backoff_seconds,
        ) from None


async def _call(spec: HandlerSpec, kwargs: dict[str, Any], executors: Executors) -> Any:
    if spec.strategy == "async":
        return await spec.func(**kwargs)
    pool = executors.threads if spec.strategy == "thread" else executors.processes
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool, functools.partial(_call_plain, spec.func, kwargs))


def _call_plain(func: Any, kwargs: dict[str, Any]) -> Any:
    # Module level, so the process pool can pickle it by reference.
    return func(**kwargs)


def _completion_variables(spec: HandlerSpec, result: Any) -> dict[str, Any]:
    if result is None:
        return {}
    if isinstance(result, Mapping):
        return dict(result)  # pyright: ignore[reportUnknownArgumentType]
    dump = getattr(result, "model_dump", None)
    if callable(dump):
        dumped = dump(mode="json", by_alias=True)
        if isinstance(dumped, dict):
            return dumped  # pyright: ignore[reportUnknownVariableType]
    raise TypeError(
        f"handler {_qualname(spec)} returned {type(result).__name__}; return None, a dict or a "
        "pydantic model (it becomes the completion variables)"
    )


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def _qualname(spec: HandlerSpec) -> str:
    return getattr(spec.func, "__qualname__", repr(spec.func))
