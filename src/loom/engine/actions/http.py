"""The ``http_request`` action, which refuses to reach the engine's own network.

Unless ``ActionSettings.allow_private_networks`` is on, the target's host name is resolved
first and the request is refused when any address is not globally routable (private,
loopback, link-local, shared, reserved, multicast, unspecified; IPv4-mapped IPv6 addresses
are unwrapped). The request then goes to the checked address itself (``Host`` header and TLS
SNI keep the name), so a second DNS answer cannot swap in another target (DNS rebinding).
Redirects are followed by this module, hop by hop, each target checked the same way.
Proxies from the environment are ignored for the same reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import socket
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from loom.engine.actions.base import ActionContext, ActionError, ActionResult, check_params

if TYPE_CHECKING:
    import httpx

__all__ = ["HttpRequestAction", "is_public_address"]

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 5
_MAX_TIMEOUT_SECONDS = 600.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public_address(address: str | IPAddress) -> bool:
    """Whether an address is globally routable (and so may be reached by pipelines).

    Args:
        address: an IPv4 or IPv6 address, as text or parsed.

    Returns:
        False for private, loopback, link-local, shared (100.64/10), reserved, multicast and
        unspecified addresses, IPv4-mapped IPv6 forms of them included.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def _resolve(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ActionError(f"cannot resolve {host!r}: {exc}", retryable=True) from None
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise ActionError(f"cannot resolve {host!r}: no address", retryable=True)
    return addresses


async def _checked_target(url: httpx.URL) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
    """Resolve and check ``url``; the URL pinned to the address, extra headers, extensions."""
    host = url.host
    port = url.port or (443 if url.scheme == "https" else 80)
    addresses = await _resolve(host, port)
    refused = [a for a in addresses if not is_public_address(a)]
    if refused:
        raise ActionError(
            f"refused to reach {host!r}: it resolves to the non-public address {refused[0]} "
            "(set allow_private_networks to permit private, loopback and link-local targets)",
            retryable=False,
        )
    address = addresses[0].split("%", 1)[0]
    pinned = url.copy_with(host=address)
    host_header = host if url.port is None else f"{host}:{url.port}"
    extensions: dict[str, Any] = {"sni_hostname": host} if url.scheme == "https" else {}
    return pinned, {"Host": host_header}, extensions


def _parse_url(raw: object) -> httpx.URL:
    # httpx is imported where it is used: it costs ~100 ms, and the engine starts without it.
    import httpx

    if not isinstance(raw, str) or not raw:
        raise ActionError("`url` must be a non-empty string", retryable=False)
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL as exc:
        raise ActionError(f"`url` is not a valid URL: {exc}", retryable=False) from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ActionError("`url` must be an absolute http:// or https:// URL", retryable=False)
    if url.port is not None and not 0 < url.port < 65536:
        raise ActionError(f"`url` has an invalid port {url.port}", retryable=False)
    return url


class HttpRequestAction:
    """Send one HTTP request."""

    name = "http_request"
    description = (
        "Send an HTTP request and output the status, headers and body (`json` when the "
        "response is JSON). Private, loopback and link-local targets are refused unless the "
        "engine allows them; statuses outside `expected_status` (default: below 400) fail "
        "the step (5xx and 429 as retryable)."
    )
    params_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "url": {"type": "string", "minLength": 1, "pattern": "^[hH][tT][tT][pP][sS]?://"},
            "method": {"type": "string", "enum": _METHODS + [m.lower() for m in _METHODS]},
            "headers": {
                "type": "object",
                "additionalProperties": {"type": ["string", "number", "boolean"]},
            },
            "query": {"type": "object"},
            "json": {"description": "a JSON body"},
            "body": {"type": "string", "description": "a text body"},
            "timeout_seconds": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": _MAX_TIMEOUT_SECONDS,
            },
            "expected_status": {
                "type": "array",
                "items": {"type": "integer", "minimum": 100, "maximum": 599},
            },
            "follow_redirects": {"type": "boolean", "default": True},
            "max_response_bytes": {"type": "integer", "minimum": 0},
        },
        "required": ["url"],
        "additionalProperties": False,
    }
    outputs_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "status_code": {"type": "integer"},
            "headers": {
                "type": "object",
                "additionalProperties": {"type": ["string", "number", "boolean"]},
            },
            "body": {"type": "string"},
            "json": {"description": "the parsed body when the response is JSON"},
            "url": {"type": "string"},
            "elapsed_seconds": {"type": "number"},
        },
    }
    idempotent = False

    async def run(self, ctx: ActionContext) -> ActionResult:
        check_params(self, ctx.params)
        params = ctx.params
        url = _parse_url(params.get("url"))
        method = str(params.get("method", "GET")).upper()
        timeout = float(params.get("timeout_seconds") or ctx.settings.http_timeout_seconds)
        cap = ctx.settings.http_max_response_bytes
        if isinstance(params.get("max_response_bytes"), int):
            cap = min(cap, int(params["max_response_bytes"]))
        headers = {
            str(k): str(v)
            for k, v in cast("Mapping[str, Any]", params.get("headers") or {}).items()
        }
        content: bytes | None = None
        if "json" in params:
            try:
                content = json.dumps(params["json"], allow_nan=False).encode()
            except (TypeError, ValueError) as exc:
                raise ActionError(
                    f"`json` cannot be sent as JSON: {exc}", retryable=False
                ) from None
            headers.setdefault("Content-Type", "application/json")
        elif "body" in params:
            content = str(params["body"]).encode()
        query = cast("Mapping[str, Any]", params.get("query") or {})
        if query:
            url = url.copy_merge_params({k: _query_value(v) for k, v in query.items()})
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                response, body, final_url = await self._send(
                    ctx,
                    method=method,
                    url=url,
                    headers=headers,
                    content=content,
                    cap=cap,
                    timeout=timeout,
                )
        except TimeoutError:
            raise ActionError(f"{method} {url.host} timed out after {timeout:g} s") from None
        elapsed = time.perf_counter() - started
        outputs = _outputs(response, body, final_url, elapsed)
        expected = cast("list[int] | None", params.get("expected_status"))
        ok = response.status_code in expected if expected else response.status_code < 400
        if not ok:
            raise ActionError(
                f"{method} {final_url} answered {response.status_code}: {outputs['body'][:200]}",
                retryable=response.status_code >= 500 or response.status_code == 429,
            )
        ctx.logger.info(
            "step %s: %s %s -> %s", ctx.step_id, method, final_url.host, response.status_code
        )
        return ActionResult(outputs=outputs)

    async def _send(
        self,
        ctx: ActionContext,
        *,
        method: str,
        url: httpx.URL,
        headers: dict[str, str],
        content: bytes | None,
        cap: int,
        timeout: float,
    ) -> tuple[httpx.Response, bytes, httpx.URL]:
        import httpx

        follow = ctx.params.get("follow_redirects", True) is not False
        async with httpx.AsyncClient(
            timeout=timeout, trust_env=False, follow_redirects=False
        ) as client:
            for _ in range(_MAX_REDIRECTS + 1):
                target, extra_headers, extensions = url, {}, {}
                if not ctx.settings.allow_private_networks:
                    target, extra_headers, extensions = await _checked_target(url)
                try:
                    request = client.build_request(
                        method,
                        target,
                        headers={**headers, **extra_headers},
                        content=content,
                        extensions=extensions,
                    )
                except (UnicodeError, ValueError, TypeError) as exc:
                    raise ActionError(f"invalid request: {exc}", retryable=False) from None
                try:
                    response = await client.send(request, stream=True)
                except httpx.TimeoutException:
                    raise ActionError(
                        f"{method} {url.host} timed out after {timeout:g} s"
                    ) from None
                except httpx.LocalProtocolError as exc:
                    message = f"{method} {url.host}: invalid request: {exc}"
                    raise ActionError(message, retryable=False) from None
                except httpx.HTTPError as exc:
                    raise ActionError(f"{method} {url.host} failed: {exc}") from None
                try:
                    location = response.headers.get("location")
                    if follow and response.status_code in _REDIRECTS and location:
                        url = _redirect_target(url, location)
                        if response.status_code == 303 or (
                            response.status_code in (301, 302) and method == "POST"
                        ):
                            method, content = "GET", None
                            headers.pop("Content-Type", None)
                        continue
                    body = await _read_capped(response, cap)
                finally:
                    await response.aclose()
                return response, body, url
        raise ActionError(f"more than {_MAX_REDIRECTS} redirects", retryable=False)


def _redirect_target(url: httpx.URL, location: str) -> httpx.URL:
    import httpx

    try:
        target = url.join(location)
    except httpx.InvalidURL as exc:
        raise ActionError(f"bad redirect location {location!r}: {exc}", retryable=False) from None
    if target.scheme not in ("http", "https"):
        raise ActionError(f"refused redirect to {target.scheme}:// URL", retryable=False)
    return target


async def _read_capped(response: httpx.Response, cap: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise ActionError(f"response body is larger than {cap} bytes", retryable=False)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            raise ActionError(f"response body is larger than {cap} bytes", retryable=False)
        chunks.append(chunk)
    return b"".join(chunks)


def _query_value(value: object) -> str | list[str]:
    if isinstance(value, list | tuple):
        return [_query_value_one(v) for v in cast("list[object]", value)]
    return _query_value_one(value)


def _query_value_one(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _outputs(
    response: httpx.Response, body: bytes, url: httpx.URL, elapsed: float
) -> dict[str, Any]:
    encoding = response.charset_encoding or "utf-8"
    try:
        text = body.decode(encoding, errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    headers: dict[str, str] = {}
    for key, value in response.headers.multi_items():
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    outputs: dict[str, Any] = {
        "status_code": response.status_code,
        "headers": headers,
        "body": text,
        "url": str(url),
        "elapsed_seconds": round(elapsed, 6),
    }
    content_type = response.headers.get("content-type", "")
    if "json" in content_type and text:
        with contextlib.suppress(json.JSONDecodeError):
            outputs["json"] = json.loads(text)
    return outputs
