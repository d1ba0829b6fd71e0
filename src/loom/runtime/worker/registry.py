"""Handler registration: ``@router.job("type")``, routers grouped across modules, checked up front.

A handler is checked when it is registered, so a wrong signature stops the worker at start-up,
not at its first job:

- at most one parameter receives the variables: unannotated, ``dict``/``Mapping``/``Any`` (the
  variables as a dict) or a pydantic model class (the variables validated into it);
- at most one parameter annotated ``JobContext`` receives the job's context;
- no other parameter may be required;
- the return annotation, when there is one, is ``None``, a dict/mapping or a pydantic model;
- ``strategy="process"`` needs a plain function that pickles (a module-level ``def``), and its
  model classes must pickle too; it cannot take a ``JobContext`` (the context's heartbeat lives
  in the worker's process).
"""

from __future__ import annotations

import inspect
import pickle
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from .context import JobContext
from .errors import RegistrationError

__all__ = ["HandlerSpec", "Router", "Strategy"]

Strategy: TypeAlias = Literal["auto", "async", "thread", "process"]
Handler: TypeAlias = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    """A checked handler and its settings.

    Attributes:
        job_type: the job type it handles.
        func: the handler.
        strategy: ``async`` (awaited on the loop), ``thread`` or ``process`` (pools).
        variables_param: the parameter that receives the variables, if any.
        model: the pydantic model the variables are validated into, or ``None`` for a dict.
        context_param: the parameter that receives the ``JobContext``, if any.
        lease_seconds: the lease asked for at activation (heartbeats extend it).
        max_in_flight: this type's capacity, or ``None`` for the worker's default.
        fetch_variables: variables to fetch, or ``None`` for all.
        retry_backoff_seconds: back-off sent with a failure the handler did not decide.
    """

    job_type: str
    func: Handler
    strategy: Literal["async", "thread", "process"]
    variables_param: str | None
    model: type[Any] | None
    context_param: str | None
    lease_seconds: float
    max_in_flight: int | None
    fetch_variables: tuple[str, ...] | None
    retry_backoff_seconds: float

    def arguments(self, variables: Any, context: Any) -> dict[str, Any]:
        """The keyword arguments of one call."""
        kwargs: dict[str, Any] = {}
        if self.variables_param is not None:
            kwargs[self.variables_param] = variables
        if self.context_param is not None:
            kwargs[self.context_param] = context
        return kwargs


class Router:
    """Handlers grouped by job type; ``include`` merges routers from other modules.

    Example::

        router = Router()

        @router.job("charge-card", lease_seconds=60)
        async def charge(order: Order, ctx: JobContext) -> Receipt: ...
    """

    def __init__(self) -> None:
        self._specs: dict[str, HandlerSpec] = {}

    def job(
        self,
        job_type: str,
        *,
        strategy: Strategy = "auto",
        lease_seconds: float = 30.0,
        max_in_flight: int | None = None,
        fetch_variables: tuple[str, ...] | list[str] | None = None,
        retry_backoff_seconds: float = 1.0,
    ) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of ``job_type``.

        Args:
            job_type: the job type.
            strategy: ``auto`` (coroutine functions on the loop, plain functions in threads),
                ``async``, ``thread`` or ``process`` (only when asked: the function and its
                models must pickle).
            lease_seconds: the lease asked for at activation.
            max_in_flight: jobs of this type run at once (default: the worker's).
            fetch_variables: only these variables are fetched.
            retry_backoff_seconds: back-off of failures the handler did not decide.

        Raises:
            RegistrationError: the handler's signature, strategy or type is not usable.
        """

        def register(func: Handler) -> Handler:
            self.add(
                check_handler(
                    job_type,
                    func,
                    strategy=strategy,
                    lease_seconds=lease_seconds,
                    max_in_flight=max_in_flight,
                    fetch_variables=tuple(fetch_variables) if fetch_variables else None,
                    retry_backoff_seconds=retry_backoff_seconds,
                )
            )
            return func

        return register

    def add(self, spec: HandlerSpec) -> None:
        """Add a checked handler; a second handler for one job type is an error."""
        if spec.job_type in self._specs:
            other = self._specs[spec.job_type].func
            raise RegistrationError(
                f"job type {spec.job_type!r} already has a handler ({_name(other)}); "
                f"cannot register {_name(spec.func)} too"
            )
        self._specs[spec.job_type] = spec

    def include(self, other: Router) -> None:
        """Add every handler of ``other`` (job types must not collide)."""
        for spec in other:
            self.add(spec)

    def __iter__(self) -> Iterator[HandlerSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, job_type: object) -> bool:
        return job_type in self._specs


def check_handler(
    job_type: str,
    func: Handler,
    *,
    strategy: Strategy,
    lease_seconds: float,
    max_in_flight: int | None,
    fetch_variables: tuple[str, ...] | None,
    retry_backoff_seconds: float,
) -> HandlerSpec:
    """Check ``func`` as the handler of ``job_type`` and describe how to call it."""
    where = f"handler {_name(func)} for job type {job_type!r}"
    if not job_type:
        raise RegistrationError(f"{where}: the job type is empty")
    if not callable(func):
        raise RegistrationError(f"{where} is not callable")
    if lease_seconds <= 0 or (max_in_flight is not None and max_in_flight < 1):
        raise RegistrationError(f"{where}: lease_seconds and max_in_flight must be positive")
    is_coroutine = inspect.iscoroutinefunction(func)
    resolved = _strategy(where, strategy, is_coroutine=is_coroutine)
    try:
        signature = inspect.signature(func)
        hints = typing.get_type_hints(func)
    except (NameError, TypeError, ValueError) as exc:
        raise RegistrationError(f"{where}: cannot read its annotations ({exc})") from exc
    variables_param, model, context_param = _parameters(where, signature, hints)
    _check_return(where, hints.get("return", inspect.Parameter.empty))
    if resolved == "process":
        if context_param is not None:
            raise RegistrationError(
                f"{where}: a process-pool handler cannot take a JobContext (its heartbeat runs "
                "in the worker's process); drop the parameter or use strategy='thread'"
            )
        _check_picklable(where, func, model)
    return HandlerSpec(
        job_type=job_type,
        func=func,
        strategy=resolved,
        variables_param=variables_param,
        model=model,
        context_param=context_param,
        lease_seconds=lease_seconds,
        max_in_flight=max_in_flight,
        fetch_variables=fetch_variables,
        retry_backoff_seconds=retry_backoff_seconds,
    )


def _strategy(
    where: str, strategy: Strategy, *, is_coroutine: bool
) -> Literal["async", "thread", "process"]:
    if strategy == "auto":
        return "async" if is_coroutine else "thread"
    if strategy == "async" and not is_coroutine:
        raise RegistrationError(
            f"{where}: strategy='async' needs an `async def` handler; use strategy='thread' "
            "for a blocking function"
        )
    if strategy in ("thread", "process") and is_coroutine:
        raise RegistrationError(
            f"{where}: strategy={strategy!r} needs a plain `def` handler, not a coroutine function"
        )
    if strategy not in ("async", "thread", "process"):
        raise RegistrationError(f"{where}: unknown strategy {strategy!r}")
    return strategy


def _parameters(
    where: str, signature: inspect.Signature, hints: Mapping[str, Any]
) -> tuple[str | None, type[Any] | None, str | None]:
    variables_param: str | None = None
    model: type[Any] | None = None
    context_param: str | None = None
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = hints.get(param.name, inspect.Parameter.empty)
        if annotation is JobContext:
            if context_param is not None:
                raise RegistrationError(f"{where}: two parameters take the JobContext")
            context_param = param.name
            continue
        if param.kind is param.POSITIONAL_ONLY:
            raise RegistrationError(
                f"{where}: parameter {param.name!r} is positional-only; handlers are called "
                "with keyword arguments"
            )
        if variables_param is not None:
            if param.default is param.empty:
                raise RegistrationError(
                    f"{where}: parameter {param.name!r} has no value to receive (one parameter "
                    f"takes the variables, {variables_param!r}, and one the JobContext)"
                )
            continue
        variables_param = param.name
        model = _variables_type(where, param.name, annotation)
    return variables_param, model, context_param


def _variables_type(where: str, name: str, annotation: Any) -> type[Any] | None:
    if annotation is inspect.Parameter.empty or annotation is Any:
        return None
    origin = typing.get_origin(annotation) or annotation
    if origin in (dict, Mapping):
        return None
    if isinstance(origin, type) and _is_model(origin):
        return origin
    raise RegistrationError(
        f"{where}: parameter {name!r} is annotated {annotation!r}; the variables arrive as a "
        "dict (annotate dict[str, Any]) or as a pydantic model (annotate the model class)"
    )


def _check_return(where: str, annotation: Any) -> None:
    if annotation is inspect.Parameter.empty or annotation is None or annotation is Any:
        return
    if annotation is type(None):
        return
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        for arg in typing.get_args(annotation):
            _check_return(where, arg)
        return
    base = origin or annotation
    if base in (dict, Mapping) or (isinstance(base, type) and _is_model(base)):
        return
    raise RegistrationError(
        f"{where}: returns {annotation!r}; a handler returns None, a dict or a pydantic model "
        "(it becomes the completion variables)"
    )


def _is_model(cls: type[Any]) -> bool:
    return callable(getattr(cls, "model_validate", None)) and callable(
        getattr(cls, "model_dump", None)
    )


def _check_picklable(where: str, func: Handler, model: type[Any] | None) -> None:
    for what, obj in (("the handler", func), ("its variables model", model)):
        if obj is None:
            continue
        try:
            pickle.dumps(obj)
        except Exception as exc:
            raise RegistrationError(
                f"{where}: strategy='process' needs {what} to pickle, and it does not ({exc}); "
                "define it at module level (not inside a function or as a lambda)"
            ) from exc


def _name(func: object) -> str:
    module = getattr(func, "__module__", None) or "?"
    return f"{module}.{getattr(func, '__qualname__', repr(func))}"
