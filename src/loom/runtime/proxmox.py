"""The Proxmox VE dialect of the request loops: how values go on the wire.

Proxmox reads parameters with ``PVE::JSONSchema``: booleans are ``1``/``0`` (``true`` is
refused), a property-string value is ``key=value,key=value`` (lists inside it joined by ``;``),
and an indexed parameter ``net[n]`` is sent as ``net0``, ``net1`` …. ``ProxmoxClient`` and
``AsyncProxmoxClient`` convert every parameter and body field so before the shared encoding
runs; the generated SDK's clients subclass them when its document says ``x-loom-dialect:
proxmox``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, cast

import pydantic

from ._base import CallOptions, PreparedRequest
from .client import AsyncAPIClient, SyncAPIClient
from .operation import Operation
from .types import NotGiven

__all__ = ["AsyncProxmoxClient", "ProxmoxClient", "property_string", "wire_value"]


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, enum.Enum):
        return _text(value.value)
    if isinstance(value, list | tuple):
        return ";".join(_text(v) for v in cast("list[Any]", value))
    return str(value)


def property_string(value: pydantic.BaseModel) -> str:
    """``key=value,key=value`` for a property-string model (set fields only, wire names)."""
    data = value.model_dump(mode="python", by_alias=True, exclude_unset=True)
    return ",".join(f"{k}={_text(v)}" for k, v in data.items() if v is not None)


def wire_value(value: object) -> object:
    """One parameter or field value as Proxmox reads it (lists stay lists for the encoder)."""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, pydantic.BaseModel):
        return property_string(value)
    if isinstance(value, list | tuple):
        return [wire_value(v) for v in cast("list[Any]", value)]
    return value


def wire_fields(fields: Mapping[str, object]) -> dict[str, object]:
    """Body fields (or parameters) converted, indexed mappings spread (``net`` → ``net0``)."""
    out: dict[str, object] = {}
    for name, value in fields.items():
        if isinstance(value, NotGiven):
            continue
        if isinstance(value, Mapping):
            items = cast("Mapping[object, object]", value)
            for index, item in items.items():
                if not isinstance(item, NotGiven):
                    out[f"{name}{index}"] = wire_value(item)
            continue
        out[name] = wire_value(value)
    return out


def _prepare(
    prepare: Any, op: Operation[Any], params: Mapping[str, object], body: object, options: Any
) -> PreparedRequest:
    converted_body = (
        wire_fields(cast("Mapping[str, object]", body)) if isinstance(body, Mapping) else body
    )
    prepared: PreparedRequest = prepare(op, wire_fields(params), converted_body, options)
    return prepared


class ProxmoxClient(SyncAPIClient):
    """The synchronous client, speaking Proxmox's parameter dialect."""

    def _prepare(
        self,
        op: Operation[Any],
        params: Mapping[str, object],
        body: object,
        options: CallOptions,
    ) -> PreparedRequest:
        return _prepare(super()._prepare, op, params, body, options)


class AsyncProxmoxClient(AsyncAPIClient):
    """The asyncio client, speaking Proxmox's parameter dialect."""

    def _prepare(
        self,
        op: Operation[Any],
        params: Mapping[str, object],
        body: object,
        options: CallOptions,
    ) -> PreparedRequest:
        return _prepare(super()._prepare, op, params, body, options)
