"""The Proxmox VE dialect of the request loops: wire values, auth settings and ``wait_task``.

Proxmox reads parameters with ``PVE::JSONSchema``: booleans are ``1``/``0`` (``true`` is
refused), a property-string value is ``key=value,key=value`` (lists inside it joined by ``;``),
and an indexed parameter ``net[n]`` is sent as ``net0``, ``net1`` …. ``ProxmoxClient`` and
``AsyncProxmoxClient`` convert every parameter and body field so before the shared encoding
runs; the generated SDK's clients subclass them when its document says ``x-loom-dialect:
proxmox``. They also read the ``<PREFIX>_HOST``/``_PORT``/``_USER``/``_TOKEN_ID``/… variables
(``PROXMOX_SETTINGS``), authenticate with ``proxmox_auth.ProxmoxAuth`` (built on the first
request: httpx is not imported before), never retry a write once it was sent, and poll tasks
(``wait_task``).
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, cast

import pydantic

from ._base import CallOptions, PreparedRequest
from .client import AsyncAPIClient, SyncAPIClient
from .errors import APIError, ConfigurationError
from .operation import Operation, Param
from .proxmox_settings import PROXMOX_SETTINGS
from .types import NOT_GIVEN, NotGiven

if TYPE_CHECKING:
    import httpx

    from .proxmox_auth import ProxmoxCredentials

__all__ = [
    "AsyncProxmoxClient",
    "ProxmoxClient",
    "TaskFailedError",
    "TaskStatus",
    "TaskTimeoutError",
    "property_string",
    "wire_value",
]


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
    if isinstance(body, Mapping):
        body = wire_fields(cast("Mapping[str, object]", body))
    prepared: PreparedRequest = prepare(op, wire_fields(params), body, options)
    return prepared


_WRITE_ONCE: dict[int, Operation[Any]] = {}


def _write_once(op: Operation[Any]) -> Operation[Any]:
    """``op`` marked not idempotent unless it is a GET: PVE writes start tasks and change state."""
    if op.method == "GET" or op.idempotent is False:
        return op
    found = _WRITE_ONCE.get(id(op))
    if found is None:
        found = _WRITE_ONCE.setdefault(id(op), dataclasses.replace(op, idempotent=False))
    return found


@dataclasses.dataclass(frozen=True)
class TaskStatus:
    """The end state of a task (``GET /nodes/{node}/tasks/{upid}/status``)."""

    upid: str
    status: str
    exitstatus: str | None
    data: Mapping[str, Any]

    @property
    def ok(self) -> bool:
        """The task ended with ``OK`` (or only warnings)."""
        text = self.exitstatus or ""
        return text == "OK" or text.startswith("WARNINGS")


class TaskFailedError(APIError):
    """A Proxmox task ended with an error; ``status`` has its exit status."""

    def __init__(self, status: TaskStatus) -> None:
        super().__init__(f"task {status.upid} failed: {status.exitstatus}")
        self.status = status


class TaskTimeoutError(APIError):
    """A Proxmox task was still running when ``wait_task`` gave up."""

    def __init__(self, upid: str, timeout_seconds: float) -> None:
        super().__init__(f"task {upid} still running after {timeout_seconds:g} s")
        self.upid = upid


_TASK_STATUS = Operation[dict[str, Any]](
    operation_id="get_nodes_node_tasks_upid_status",
    method="GET",
    path="/nodes/{node}/tasks/{upid}/status",
    params=(
        Param("node", "path", "simple", False, required=True),
        Param("upid", "path", "simple", False, required=True),
    ),
    response=dict[str, Any],
    envelope="data",
)


def _task_node(upid: str) -> str:
    parts = upid.split(":")
    if len(parts) < 3 or parts[0] != "UPID" or not parts[1]:
        raise ValueError(f"{upid!r} is not a Proxmox task id (UPID:node:…)")
    return parts[1]


def _task_status(upid: str, data: Mapping[str, Any]) -> TaskStatus | None:
    if data.get("status") == "running":
        return None
    exit_status = data.get("exitstatus")
    return TaskStatus(
        upid, str(data.get("status")), None if exit_status is None else str(exit_status), data
    )


class _Setup:
    """The Proxmox settings of a client, resolved from arguments and the environment."""

    def __init__(self, prefix: str, explicit: Mapping[str, object]) -> None:
        def pick(name: str) -> str | None:
            value = explicit.get(name)
            if value is not None:
                return str(value)
            found = os.environ.get(f"{prefix}_{name.upper()}")
            if not found and name == "user":
                found = os.environ.get(f"{prefix}_USERNAME")
            return found or None

        self.installed = False
        self.values = {name: pick(name) for name, _, _ in PROXMOX_SETTINGS}
        host = self.values["host"]
        self.base_url = f"https://{host}:{self.values['port'] or 8006}/api2/json" if host else None
        token_id, secret = self.values["token_id"], self.values["token_secret"]
        if bool(token_id) != bool(secret):
            raise ConfigurationError(
                "set both token_id and token_secret for API token auth",
                variables=(f"{prefix}_TOKEN_ID", f"{prefix}_TOKEN_SECRET"),
            )
        self.mode = "token" if token_id else "ticket" if self.values["password"] else None
        if self.mode is not None and not self.values["user"]:
            raise ConfigurationError(
                "Proxmox auth needs the user (USER@REALM)", variables=(f"{prefix}_USER",)
            )

    def credentials(self, base_url: str) -> ProxmoxCredentials:
        from .proxmox_auth import ProxmoxCredentials

        v = self.values
        token_id = f"{v['user']}!{v['token_id']}" if v["token_id"] else None
        return ProxmoxCredentials(
            base_url=base_url,
            user=v["user"],
            password=v["password"],
            otp=v["otp"],
            token_id=token_id,
            token_secret=v["token_secret"],
            fingerprint=v["fingerprint"],
            renew_after_seconds=float(v["renew_after_seconds"] or 3600),
        )


def _init(prefix: str, explicit: Mapping[str, object], kwargs: dict[str, Any]) -> _Setup:
    setup = _Setup(prefix, explicit)
    if kwargs.get("base_url") is None and setup.base_url is not None:
        kwargs["base_url"] = setup.base_url
    if setup.mode is not None or setup.values["fingerprint"]:
        kwargs.setdefault("auth_strategy", "NONE")
    if setup.values["fingerprint"]:
        kwargs["verify"] = False  # the pin replaces CA verification (self-signed certificates)
    if setup.mode == "ticket":  # the shared settings want user and password together
        kwargs.setdefault("username", setup.values["user"])
        kwargs.setdefault("password", setup.values["password"])
    for name in ("verify", "ca_file"):
        if kwargs.get(name) is None and setup.values[name] is not None:
            kwargs[name] = (
                setup.values[name] if name == "ca_file" else setup.values[name] != "false"
            )
    return setup


def _first_auth(setup: _Setup, shared: Any, base_url: str) -> httpx.Auth | None:
    """The Proxmox auth flow to install before the transport is built (first request only)."""
    if setup.mode is None or setup.installed:
        return None
    from .proxmox_auth import ProxmoxAuth

    with shared.lock:
        auth = None
        if not setup.installed and not shared.ready:
            auth = ProxmoxAuth(setup.credentials(base_url))
        setup.installed = True
        return auth


class ProxmoxClient(SyncAPIClient):
    """The synchronous client, speaking Proxmox's parameter dialect and auth."""

    def __init__(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        user: str | None = None,
        token_id: str | None = None,
        token_secret: str | None = None,
        password: str | None = None,
        otp: str | None = None,
        fingerprint: str | None = None,
        renew_after_seconds: float | None = None,
        **kwargs: Any,
    ) -> None:
        """Configure the client; see CONFIGURATION.md for every setting and its variable.

        Args:
            host: a PVE node (the base URL becomes ``https://HOST:PORT/api2/json``).
            port: the API port (8006).
            user: ``USER@REALM``.
            token_id: API token id; with ``token_secret``, token auth.
            token_secret: API token secret.
            password: password for a ticket login.
            otp: TOTP code for a second factor.
            fingerprint: SHA-256 of the node's certificate, pinned.
            renew_after_seconds: renew a ticket once it is this old.
            **kwargs: the settings every loom SDK has (``base_url``, ``timeout``, ``verify``,
                ``ca_file``, ``max_retries`` …).
        """
        explicit = {
            "host": host,
            "port": port,
            "user": user,
            "token_id": token_id,
            "token_secret": token_secret,
            "password": password,
            "otp": otp,
            "fingerprint": fingerprint,
            "renew_after_seconds": renew_after_seconds,
        }
        self._pve = _init(type(self).sdk_info.env_prefix, explicit, kwargs)
        super().__init__(**kwargs)

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        logger: logging.Logger | None = None,
    ) -> Self:
        """A copy with other defaults sharing the pool and the Proxmox auth (ticket included)."""
        clone = super().with_options(
            timeout=timeout, max_retries=max_retries, default_headers=default_headers, logger=logger
        )
        clone._pve = self._pve
        return clone

    def _ensure_transport(self, make_http: Any) -> Any:
        auth = _first_auth(self._pve, self._shared, self.base_url)
        if auth is not None:
            self._explicit_auth = auth
        return super()._ensure_transport(make_http)

    def _prepare(
        self,
        op: Operation[Any],
        params: Mapping[str, object],
        body: object,
        options: CallOptions,
    ) -> PreparedRequest:
        return _prepare(super()._prepare, op, params, body, options)

    def _send(
        self, op: Operation[Any], params: Mapping[str, object], body: object, options: CallOptions
    ) -> Any:
        return super()._send(_write_once(op), params, body, options)

    def wait_task(
        self, upid: str, *, timeout_seconds: float = 600.0, poll_interval_seconds: float = 1.0
    ) -> TaskStatus:
        """Poll a task until it ends.

        Args:
            upid: the task id a write returned (``UPID:node:…``).
            timeout_seconds: give up after this long.
            poll_interval_seconds: pause between polls.

        Raises:
            TaskFailedError: the task ended with an error.
            TaskTimeoutError: it was still running after ``timeout_seconds``.
        """
        node = _task_node(upid)
        deadline = time.monotonic() + timeout_seconds
        while True:
            data = self.request(_TASK_STATUS, {"node": node, "upid": upid})
            status = _task_status(upid, data)
            if status is not None:
                if not status.ok:
                    raise TaskFailedError(status)
                return status
            if time.monotonic() + poll_interval_seconds > deadline:
                raise TaskTimeoutError(upid, timeout_seconds)
            time.sleep(poll_interval_seconds)


class AsyncProxmoxClient(AsyncAPIClient):
    """The asyncio client, speaking Proxmox's parameter dialect and auth."""

    def __init__(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        user: str | None = None,
        token_id: str | None = None,
        token_secret: str | None = None,
        password: str | None = None,
        otp: str | None = None,
        fingerprint: str | None = None,
        renew_after_seconds: float | None = None,
        **kwargs: Any,
    ) -> None:
        """Configure the client (the arguments of ``ProxmoxClient``)."""
        explicit = {
            "host": host,
            "port": port,
            "user": user,
            "token_id": token_id,
            "token_secret": token_secret,
            "password": password,
            "otp": otp,
            "fingerprint": fingerprint,
            "renew_after_seconds": renew_after_seconds,
        }
        self._pve = _init(type(self).sdk_info.env_prefix, explicit, kwargs)
        super().__init__(**kwargs)

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        logger: logging.Logger | None = None,
    ) -> Self:
        """A copy with other defaults sharing the pool and the Proxmox auth (ticket included)."""
        clone = super().with_options(
            timeout=timeout, max_retries=max_retries, default_headers=default_headers, logger=logger
        )
        clone._pve = self._pve
        return clone

    def _ensure_transport(self, make_http: Any) -> Any:
        auth = _first_auth(self._pve, self._shared, self.base_url)
        if auth is not None:
            self._explicit_auth = auth
        return super()._ensure_transport(make_http)

    def _prepare(
        self,
        op: Operation[Any],
        params: Mapping[str, object],
        body: object,
        options: CallOptions,
    ) -> PreparedRequest:
        return _prepare(super()._prepare, op, params, body, options)

    async def _send(
        self, op: Operation[Any], params: Mapping[str, object], body: object, options: CallOptions
    ) -> Any:
        return await super()._send(_write_once(op), params, body, options)

    async def wait_task(
        self, upid: str, *, timeout_seconds: float = 600.0, poll_interval_seconds: float = 1.0
    ) -> TaskStatus:
        """Poll a task until it ends (see ``ProxmoxClient.wait_task``)."""
        import asyncio

        node = _task_node(upid)
        deadline = time.monotonic() + timeout_seconds
        while True:
            data = await self.request(_TASK_STATUS, {"node": node, "upid": upid})
            status = _task_status(upid, data)
            if status is not None:
                if not status.ok:
                    raise TaskFailedError(status)
                return status
            if time.monotonic() + poll_interval_seconds > deadline:
                raise TaskTimeoutError(upid, timeout_seconds)
            await asyncio.sleep(poll_interval_seconds)
