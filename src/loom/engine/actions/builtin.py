"""The built-in actions: log, set_output, transform, aggregate, conditional, fail, delay,
wait_until and http_request (the last lives in :mod:`loom.engine.actions.http`).

``delay`` and ``wait_until`` never sleep: they return :class:`Suspend`, the scheduler stores
the wake-up time and runs them again then, so a wait survives a restart of the engine.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from loom.engine.actions.base import (
    Action,
    ActionContext,
    ActionError,
    ActionResult,
    Suspend,
    check_params,
)
from loom.engine.actions.http import HttpRequestAction

__all__ = [
    "AggregateAction",
    "ConditionalAction",
    "DelayAction",
    "FailAction",
    "LogAction",
    "SetOutputAction",
    "TransformAction",
    "WaitUntilAction",
    "builtin_actions",
    "parse_datetime",
]

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"result": {"description": "the computed value"}},
}
_MAX_DELAY_SECONDS = 366 * 24 * 3600.0


class LogAction:
    """Write a message to the execution's log."""

    name = "log"
    description = "Write a message to the execution's log; the message is also the output."
    params_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "message": {"description": "text (or any value, logged as JSON)"},
            "level": {"type": "string", "enum": list(_LEVELS), "default": "info"},
        },
        "required": ["message"],
        "additionalProperties": False,
    }
    outputs_schema: dict[str, Any] = {
        "type": "object",
        "properties": {"message": {"description": "the message as given"}},
    }
    idempotent = True

    async def run(self, ctx: ActionContext) -> ActionResult:
        check_params(self, ctx.params)
        message = ctx.params.get("message")
        level = _LEVELS.get(str(ctx.params.get("level", "info")), logging.INFO)
        text = message if isinstance(message, str) else json.dumps(message, default=str)
        ctx.logger.log(level, "step %s: %s", ctx.step_id, text)
        return ActionResult(outputs={"message": message})


class SetOutputAction:
    """Publish values as the step's outputs."""

    name = "set_output"
    description = (
        "Publish values as outputs: every key of `values` becomes an output, and so does "
        "`value` under the name `key`."
    )
    params_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "values": {"type": "object", "description": "outputs by name"},
            "key": {"type": "string", "minLength": 1, "description": "one output's name"},
            "value": {"description": "that output's value"},
        },
        "additionalProperties": False,
    }
    outputs_schema: dict[str, Any] = {
        "type": "object",
        "description": "the given values",
        "additionalProperties": True,
    }
    idempotent = True

    async def run(self, ctx: ActionContext) -> ActionResult:
        check_params(self, ctx.params)
        outputs: dict[str, Any] = {}
        values = ctx.params.get("values")
        if values is not None:
            if not isinstance(values, Mapping):
                raise ActionError("`values` must be an object", retryable=False)
            outputs.update(cast("Mapping[str, Any]", values))
        if "key" in ctx.params:
            outputs[str(ctx.params["key"])] = ctx.params.get("value")
        elif "value" in ctx.params:
            raise ActionError("`value` needs a `key` to name the output", retryable=False)
        return ActionResult(outputs=outputs)


def _items(value: object, operation: str) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(cast("Sequence[Any]", value))
    if isinstance(value, Mapping):
        return list(cast("Mapping[Any, Any]", value).values())
    raise ActionError(f"operation {operation!r} needs a list", retryable=False)


def _numbers(value: object, operation: str) -> list[float]:
    items = _items(value, operation)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise ActionError(f"operation {operation!r} needs numbers", retryable=False)
    return cast("list[float]", items)


def _records(value: object, operation: str) -> list[Mapping[str, Any]]:
    items = _items(value, operation)
    if not all(isinstance(item, Mapping) for item in items):
        raise ActionError(f"operation {operation!r} needs a list of objects", retryable=False)
    return cast("list[Mapping[str, Any]]", items)


def _text(value: object, operation: str) -> str:
    if not isinstance(value, str):
        raise ActionError(f"operation {operation!r} needs a string", retryable=False)
    return value


def _mapping(value: object, operation: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ActionError(f"operation {operation!r} needs an object", retryable=False)
    return cast("Mapping[str, Any]", value)


def _transform(operation: str, value: Any, params: Mapping[str, Any]) -> Any:
    fields = [str(f) for f in cast("list[object]", params.get("fields") or [])]
    if operation == "identity":
        return value
    if operation in ("upper", "lower", "trim"):
        text = _text(value, operation)
        return (
            text.upper()
            if operation == "upper"
            else text.lower()
            if operation == "lower"
            else text.strip()
        )
    if operation == "length":
        if isinstance(value, str | list | tuple | Mapping):
            return len(cast("Sequence[Any]", value))
        raise ActionError("operation 'length' needs a string, list or object", retryable=False)
    if operation == "keys":
        return list(_mapping(value, operation))
    if operation == "values":
        return list(_mapping(value, operation).values())
    if operation in ("sort", "reverse", "unique", "flatten"):
        items = _items(value, operation)
        if operation == "sort":
            try:
                return sorted(items, key=_sort_key(params.get("field")))
            except TypeError:
                raise ActionError(
                    "items of different types cannot be sorted", retryable=False
                ) from None
        if operation == "reverse":
            return items[::-1]
        if operation == "unique":
            return _unique(items)
        return [x for item in items for x in (item if isinstance(item, list) else [item])]  # pyright: ignore[reportUnknownVariableType] -- JSON data
    if operation == "parse_json":
        try:
            return json.loads(_text(value, operation))
        except json.JSONDecodeError as exc:
            raise ActionError(
                f"not JSON: {exc.msg} at position {exc.pos}", retryable=False
            ) from None
    if operation == "to_json":
        return json.dumps(value, ensure_ascii=False, default=str)
    if operation == "pick":
        source = _mapping(value, operation)
        return {k: source[k] for k in fields if k in source}
    if operation == "omit":
        return {k: v for k, v in _mapping(value, operation).items() if k not in fields}
    if operation == "pluck":
        field = str(params.get("field", ""))
        return [record.get(field) for record in _records(value, operation)]
    if operation == "merge":
        merged: dict[str, Any] = {}
        for record in _records(value, operation):
            merged.update(record)
        return merged
    raise ActionError(f"unknown operation {operation!r}", retryable=False)


def _sort_key(field: object) -> Callable[[Any], Any] | None:
    if field is None:
        return None

    def key(item: Any) -> Any:
        return cast("Mapping[object, Any]", item).get(field) if isinstance(item, Mapping) else item

    return key


def _unique(items: list[Any]) -> list[Any]:
    seen: set[str] = set()
    result: list[Any] = []
    for item in items:
        key = json.dumps(item, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result


_TRANSFORM_OPERATIONS = [
    "identity", "upper", "lower", "trim", "length", "keys", "values", "sort", "reverse",
    "unique", "flatten", "parse_json", "to_json", "pick", "omit", "pluck", "merge",
]  # fmt: skip


class TransformAction:
    """Reshape one value."""

    name = "transform"
    description = (
        "Apply one operation to `input`: identity, upper, lower, trim, length, keys, values, "
        "sort (by `field`), reverse, unique, flatten, parse_json, to_json, pick/omit "
        "(`fields`), pluck (`field`), merge (a list of objects into one)."
    )
    params_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "input": {"description": "the value to transform"},
            "operation": {"type": "string", "enum": _TRANSFORM_OPERATIONS, "default": "identity"},
            "fields": {"type": "array", "items": {"type": "string"}},
            "field": {"type": "string"},
        },
        "required": ["input"],
        "additionalProperties": False,
    }
    outputs_schema: dict[str, Any] = _RESULT_SCHEMA
    idempotent = True

    async def run(self, ctx: ActionContext) -> ActionResult:
        check_params(self, ctx.params)
        operation = str(ctx.params.get("operation", "identity"))
        return ActionResult(
            outputs={"result": _transform(operation, ctx.params.get("input"), ctx.params)}
        )


_AGGREGATE_OPERATIONS = ["collect", "concat", "merge", "sum", "count", "min", "max", "avg"]


class AggregateAction:
    """Combine several values (typically the outputs of the steps it joins)."""

    name = "aggregate"
    description = (
        "Combine `inputs` (a list, or an object whose values are combined): collect (as a "
        "list), concat (lists into one), merge (objects into one), sum, count, min, max, avg."
    )
    params_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "inputs": {"type": ["array", "object"], "description": "the values to combine"},
            "operation": {"type": "string", "enum": _AGGREGATE_OPERATIONS, "default": "collect"},
        },
        "required": ["inputs"],
        "additionalProperties": False,
    }
    outputs_schema: dict[str, Any] = {
        "type": "object",
        "properties": {"result": {}, "count": {"type": "integer"}},
    }
    idempotent = True

    async def run(self, ctx: ActionContext) -> ActionResult:
        check_params(self, ctx.params)
        operation = str(ctx.params.get("operation", "collect"))
        items = _items(ctx.params.get("inputs"), operation)
        result: Any
        if operation == "collect":
            result = items
        elif operation == "concat":
            result = [x for item in items for x in (item if isinstance(item, list) else [item])]  # pyright: ignore[reportUnknownVariableType] -- JSON data
        elif operation == "merge":
            result = _transform("merge", items, {})
        elif operation == "count":
            result = len(items)
        elif operation in ("sum", "min", "max", "avg"):
            numbers = _numbers(items, operation)
            if operation == "sum":
                result = sum(numbers)
            elif not numbers:
                result = None
            elif operation == "avg":
                result = sum(numbers) / len(numbers)
            else:
                result = min(numbers) if operation == "min" else max(numbers)
        else:
            raise ActionError(f"unknown operation {operation!r}", retryable=False)
        return ActionResult(outputs={"result": result, "count": len(items)})


class ConditionalAction:
    """Choose a branch; the steps of the branches not taken are skipped."""

    name = "conditional"
    description = (
        "Take the first of `branches` whose `when` is true (or `then` when `condition` is "
        "true, `else` otherwise); the steps listed in the branches not taken are skipped, "
        "together with the steps that can no longer run."
    )
    params_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "condition": {"description": "read as a boolean (usually a template)"},
            "then": {"type": "array", "items": {"type": "string"}},
            "else": {"type": "array", "items": {"type": "string"}},
            "branches": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "when": {"description": "read as a boolean"},
                        "steps": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["when", "steps"],
                    "additionalProperties": False,
                },
            },
            "otherwise": {"type": "array", "items": {"type": "string"}},
        },
        "additionalProperties": False,
    }
    outputs_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "branch": {"type": ["string", "null"]},
            "taken": {"type": "array", "items": {"type": "string"}},
            "skipped": {"type": "array", "items": {"type": "string"}},
        },
    }
    idempotent = True

    async def run(self, ctx: ActionContext) -> ActionResult:
        check_params(self, ctx.params)
        options = branch_options(ctx.params)
        chosen: str | None = None
        for name, when, _ in options:
            if name == "else" or _truthy(when):
                chosen = name
                break
        taken = {s for name, _, steps in options if name == chosen for s in steps}
        skipped = {s for name, _, steps in options if name != chosen for s in steps} - taken
        return ActionResult(
            outputs={"branch": chosen, "taken": sorted(taken), "skipped": sorted(skipped)},
            skip_steps=frozenset(skipped),
        )


def branch_options(params: Mapping[str, Any]) -> list[tuple[str, object, list[str]]]:
    """The branches of a ``conditional`` step as ``(name, when, step ids)``, in order.

    The fallback branch (``else`` / ``otherwise``) is named ``"else"`` and comes last.
    """
    options: list[tuple[str, object, list[str]]] = []
    if "condition" in params or "then" in params:
        options.append(("then", params.get("condition"), _ids(params.get("then"))))
    for index, raw in enumerate(cast("list[object]", params.get("branches") or [])):
        branch: Mapping[str, Any] = (
            cast("Mapping[str, Any]", raw) if isinstance(raw, Mapping) else {}
        )
        name = str(branch.get("name") or f"branch_{index}")
        options.append((name, branch.get("when"), _ids(branch.get("steps"))))
    fallback = _ids(params.get("else")) + _ids(params.get("otherwise"))
    options.append(("else", True, fallback))
    return options


def _ids(value: object) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in cast("Sequence[object]", value)]
    return []


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "0", "no", "off", "null", "none")
    return bool(value)


class FailAction:
    """Fail the step on purpose."""

    name = "fail"
    description = "Fail the step with `message` (not retried unless `retryable` is true)."
    params_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "message": {"type": "string", "default": "failed by the pipeline"},
            "retryable": {"type": "boolean", "default": False},
        },
        "additionalProperties": False,
    }
    outputs_schema: dict[str, Any] = {"type": "object", "properties": {}}
    idempotent = True

    async def run(self, ctx: ActionContext) -> ActionResult:
        check_params(self, ctx.params)
        message = str(ctx.params.get("message") or "failed by the pipeline")
        raise ActionError(message, retryable=bool(ctx.params.get("retryable", False)))


def parse_datetime(text: str) -> datetime:
    """An ISO-8601 timestamp as an aware UTC datetime (a naive one is read as UTC).

    Raises:
        ValueError: not an ISO-8601 timestamp.
    """
    value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _wake_up(
    ctx: ActionContext, resume_at: datetime, outputs: dict[str, Any]
) -> ActionResult | Suspend:
    if ctx.now >= resume_at:
        return ActionResult(outputs={**outputs, "resumed_at": ctx.now.isoformat()})
    return Suspend(resume_at=resume_at, state={"resume_at": resume_at.isoformat()})


class DelayAction:
    """Wait a number of seconds, durably."""

    name = "delay"
    description = "Wait `seconds`; the wait is stored and survives a restart of the engine."
    params_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "seconds": {"type": "number", "minimum": 0, "maximum": _MAX_DELAY_SECONDS},
        },
        "required": ["seconds"],
        "additionalProperties": False,
    }
    outputs_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "delayed_seconds": {"type": "number"},
            "resumed_at": {"type": "string", "format": "date-time"},
        },
    }
    idempotent = True

    async def run(self, ctx: ActionContext) -> ActionResult | Suspend:
        check_params(self, ctx.params)
        seconds = ctx.params.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ActionError("`seconds` must be a number", retryable=False)
        if not 0 <= seconds <= _MAX_DELAY_SECONDS:
            raise ActionError(
                f"`seconds` must be between 0 and {_MAX_DELAY_SECONDS:.0f}", retryable=False
            )
        if ctx.resume_state and "resume_at" in ctx.resume_state:
            resume_at = parse_datetime(str(ctx.resume_state["resume_at"]))
        else:
            resume_at = ctx.now + timedelta(seconds=float(seconds))
        return _wake_up(ctx, resume_at, {"delayed_seconds": float(seconds)})


class WaitUntilAction:
    """Wait until a moment, durably."""

    name = "wait_until"
    description = "Wait until `until` (ISO-8601; UTC when it has no offset); survives a restart."
    params_schema: dict[str, Any] = {
        "type": "object",
        "properties": {"until": {"type": "string", "format": "date-time", "minLength": 8}},
        "required": ["until"],
        "additionalProperties": False,
    }
    outputs_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "until": {"type": "string", "format": "date-time"},
            "resumed_at": {"type": "string", "format": "date-time"},
        },
    }
    idempotent = True

    async def run(self, ctx: ActionContext) -> ActionResult | Suspend:
        check_params(self, ctx.params)
        raw = ctx.params.get("until")
        try:
            until = parse_datetime(str(raw))
        except ValueError:
            raise ActionError(
                f"`until` is not an ISO-8601 timestamp: {raw!r}", retryable=False
            ) from None
        return _wake_up(ctx, until, {"until": until.isoformat()})


def builtin_actions() -> list[Action]:
    """A fresh instance of every built-in action."""
    return [
        LogAction(),
        SetOutputAction(),
        TransformAction(),
        AggregateAction(),
        ConditionalAction(),
        FailAction(),
        DelayAction(),
        WaitUntilAction(),
        HttpRequestAction(),
    ]
