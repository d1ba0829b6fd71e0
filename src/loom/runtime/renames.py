"""What keeps old names working for one major version after a rename (``[renames]``).

The generator emits, for each rename in its configuration:

- an old method name: a ``@deprecated`` (PEP 702) wrapper typed like the new method through
  ``same_signature``, so type checkers check the call and report the deprecation, and the call
  warns at run time;
- an old keyword argument: ``renamed_keywords`` on the new method, so passing it raises a
  ``TypeError`` that names its replacement;
- an old field name: ``accept_renamed_fields`` in the model's ``before`` validator (the old
  name is accepted with a ``DeprecationWarning``) and a deprecated read-only property;
- an old model name: a lazy name of ``models`` that warns when imported (``renamed_model``).
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar, cast

P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])


def same_signature(target: Callable[P, R]) -> Callable[[Callable[..., Any]], Callable[P, R]]:
    """Type the decorated alias exactly as ``target``: its calls are checked against it."""

    def wrap(alias: Callable[..., Any]) -> Callable[P, R]:
        return cast(Callable[P, R], alias)

    return wrap


def renamed_keywords(**renamed: str) -> Callable[[F], F]:
    """Make ``old=`` (a keyword the method no longer has) a ``TypeError`` naming the new one."""

    def wrap(method: F) -> F:
        name = method.__name__

        def check(kwargs: Mapping[str, object]) -> None:
            for old, new in renamed.items():
                if old in kwargs:
                    raise TypeError(
                        f"{name}() got an unexpected keyword argument {old!r}: it is renamed "
                        f"{new!r}"
                    )

        if inspect.iscoroutinefunction(method):

            @functools.wraps(method)
            async def async_inner(*args: Any, **kwargs: Any) -> Any:
                check(kwargs)
                return await method(*args, **kwargs)

            return cast(F, async_inner)

        @functools.wraps(method)
        def inner(*args: Any, **kwargs: Any) -> Any:
            check(kwargs)
            return method(*args, **kwargs)

        return cast(F, inner)

    return wrap


def accept_renamed_fields(model: str, data: Any, renamed: Mapping[str, str]) -> Any:
    """Input under an old field name moves to the new one, with a ``DeprecationWarning``.

    Args:
        model: the model's class name (for the message).
        data: what the model is validated from.
        renamed: old name (Python or wire) → new wire name.
    """
    if not isinstance(data, dict):
        return data
    source = cast(dict[str, Any], data)
    found = [old for old in renamed if old in source]
    if not found:
        return source
    moved = dict(source)
    for old in found:
        new = renamed[old]
        warnings.warn(
            f"{model}: field {old!r} is renamed {new!r}; the old name goes away in the next "
            "major version",
            DeprecationWarning,
            stacklevel=4,
        )
        value = moved.pop(old)
        moved.setdefault(new, value)
    return moved


def renamed_model(old: str, new: str, value: object) -> object:
    """Warn that ``old`` is now ``new`` and give the class (the same class: ``isinstance`` and
    annotations keep working)."""
    warnings.warn(
        f"models.{old} is renamed {new}; the old name goes away in the next major version",
        DeprecationWarning,
        stacklevel=3,
    )
    return value
