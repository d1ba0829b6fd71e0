"""The action protocol, its context and results, and the registry of actions.

An action is an object with metadata (name, description, JSON schemas of its parameters and
outputs, whether it is idempotent) and an ``async run(ctx)``. ``run`` returns an
:class:`ActionResult`, raises :class:`ActionError`, or returns :class:`Suspend` to be called
again later: the scheduler persists the suspension, releases the step and calls ``run`` again
at ``resume_at`` with ``ctx.resume_state`` set, which is how waiting survives a restart.

Actions come from the built-ins (:mod:`loom.engine.actions.builtin`) and from the Python entry
points of the group ``loom.actions`` (each entry point names an action instance, an action
class, or a zero-argument factory returning one action or a list of them).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from typing import Any, Protocol, runtime_checkable

from loom.engine.actions.schema import validate_schema

__all__ = [
    "ENTRY_POINT_GROUP",
    "Action",
    "ActionContext",
    "ActionError",
    "ActionRegistry",
    "ActionResult",
    "ActionSettings",
    "Suspend",
    "check_params",
    "is_templated",
]

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "loom.actions"


@dataclass(frozen=True, slots=True)
class ActionSettings:
    """Engine-wide settings that actions read.

    Attributes:
        allow_private_networks: let ``http_request`` reach private, loopback, link-local and
            reserved addresses (off by default: a pipeline author must not be able to reach
            the engine's own network).
        http_timeout_seconds: the default timeout of ``http_request``.
        http_max_response_bytes: responses larger than this fail the step.
    """

    allow_private_networks: bool = False
    http_timeout_seconds: float = 30.0
    http_max_response_bytes: int = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ActionContext:
    """What an action receives for one attempt of one step.

    Attributes:
        execution_id: the execution the step belongs to.
        step_id: the step's id in the pipeline.
        attempt: 1 for the first attempt.
        params: the step's parameters, templates already rendered.
        logger: a logger bound to the execution (correlation id already set).
        settings: engine-wide action settings.
        resume_state: the ``state`` of the :class:`Suspend` this run resumes, else ``None``.
        now: the current time, timezone-aware UTC.
    """

    execution_id: str
    step_id: str
    attempt: int
    params: Mapping[str, Any]
    logger: logging.Logger
    settings: ActionSettings
    resume_state: Mapping[str, Any] | None
    now: datetime


@dataclass(frozen=True, slots=True)
class ActionResult:
    """A finished step.

    Attributes:
        outputs: what later templates read as ``steps.<id>.outputs``.
        skip_steps: steps to skip (``conditional``: the targets that were not taken).
    """

    outputs: dict[str, Any] = field(default_factory=dict[str, Any])
    skip_steps: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Suspend:
    """Run this step again later.

    Attributes:
        resume_at: when to call ``run`` again, timezone-aware UTC.
        state: JSON-serialisable state handed back as ``ctx.resume_state``.
    """

    resume_at: datetime
    state: dict[str, Any] = field(default_factory=dict[str, Any])


class ActionError(Exception):
    """A step failed.

    Attributes:
        message: what went wrong, for the user.
        retryable: whether another attempt may succeed (the step's retry policy decides
            whether there is one).
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


@runtime_checkable
class Action(Protocol):
    """What every action provides."""

    name: str
    description: str
    params_schema: dict[str, Any]
    outputs_schema: dict[str, Any]
    idempotent: bool

    async def run(self, ctx: ActionContext) -> ActionResult | Suspend:
        """Run one attempt of a step."""
        ...


def check_params(action: Action, params: Mapping[str, Any]) -> None:
    """Check an action's rendered parameters against its schema at run time.

    Validation at create time skips templated values; once rendered, their types are known.

    Raises:
        ActionError: not retryable, listing up to five problems.
    """
    problems = validate_schema(params, action.params_schema)
    if problems:
        summary = "; ".join(f"{pointer or '/'} {message}" for pointer, message in problems[:5])
        raise ActionError(f"invalid parameters for {action.name}: {summary}", retryable=False)


def is_templated(value: object) -> bool:
    """Whether ``value`` is a string holding a ``{{ template }}``."""
    return isinstance(value, str) and "{{" in value


class ActionRegistry:
    """Actions by name."""

    def __init__(self, actions: Iterable[Action] = ()) -> None:
        self._actions: dict[str, Action] = {}
        for action in actions:
            self.register(action)

    def register(self, action: Action, *, replace: bool = False) -> None:
        """Add an action.

        Args:
            action: the action.
            replace: allow replacing an action registered under the same name.

        Raises:
            ValueError: the name is taken (and ``replace`` is false) or the object is not
                an action.
        """
        if not isinstance(action, Action):  # pyright: ignore[reportUnnecessaryIsInstance] -- plug-ins are untyped
            raise ValueError(f"{action!r} is not an action (see loom.engine.actions.Action)")
        if not action.name:
            raise ValueError(f"{action!r} has an empty name")
        if action.name in self._actions and not replace:
            raise ValueError(f"an action named {action.name!r} is already registered")
        self._actions[action.name] = action

    def get(self, name: str) -> Action | None:
        """The action with this name, or ``None``."""
        return self._actions.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._actions)

    def catalog(self) -> list[dict[str, Any]]:
        """One entry per action, sorted by name, for ``GET /v1/actions``."""
        return [
            {
                "name": action.name,
                "description": action.description,
                "params_schema": action.params_schema,
                "outputs_schema": action.outputs_schema,
                "idempotent": action.idempotent,
            }
            for action in (self._actions[name] for name in self.names())
        ]

    def validate_params(self, name: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Check a step's parameters against the action's schema.

        Values that hold a template are skipped (their type is known only at run time), but a
        templated value still counts as present for ``required``.

        Args:
            name: the action's name.
            params: the step's (unrendered) parameters.

        Returns:
            Problems as ``(pointer relative to params, message)``; empty when valid.
        """
        action = self._actions.get(name)
        if action is None:
            return [("", f"unknown action {name!r}")]
        return validate_schema(params, action.params_schema, skip=is_templated)

    @classmethod
    def default(cls, *, entry_points: bool = True) -> ActionRegistry:
        """The built-in actions plus those of the ``loom.actions`` entry points.

        A broken entry point is logged and skipped; it never stops the engine.

        Args:
            entry_points: also load the entry points (tests may turn this off).
        """
        # builtin imports this module, so it can only be imported here.
        from loom.engine.actions.builtin import builtin_actions

        registry = cls(builtin_actions())
        if entry_points:
            for action in _load_entry_point_actions():
                try:
                    registry.register(action)
                except ValueError as exc:
                    logger.warning("action plug-in skipped: %s", exc)
        return registry


def _load_entry_point_actions() -> list[Action]:
    found: list[Action] = []
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded: object = entry_point.load()
            if isinstance(loaded, type) or (not isinstance(loaded, Action) and callable(loaded)):
                loaded = loaded()
        except Exception:  # a plug-in must never stop the engine
            logger.exception("action plug-in %s failed to load", entry_point.name)
            continue
        candidates: list[object] = (
            list(loaded) if isinstance(loaded, list | tuple) else [loaded]  # pyright: ignore[reportUnknownArgumentType] -- plug-in output is untyped by nature
        )
        for candidate in candidates:
            if isinstance(candidate, Action):
                found.append(candidate)
            else:
                logger.warning(
                    "action plug-in %s gave %r, which is not an action",
                    entry_point.name,
                    candidate,
                )
    return found
