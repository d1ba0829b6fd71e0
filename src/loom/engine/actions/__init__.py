"""Actions: what a pipeline step does (built-ins, plus plug-ins from entry points)."""

from __future__ import annotations

from loom.engine.actions.base import (
    Action,
    ActionContext,
    ActionError,
    ActionRegistry,
    ActionResult,
    ActionSettings,
    Suspend,
)

__all__ = [
    "Action",
    "ActionContext",
    "ActionError",
    "ActionRegistry",
    "ActionResult",
    "ActionSettings",
    "Suspend",
]
