"""What the sync and async clients share: configuration, request building, logging, parsing.

Nothing here performs I/O or imports httpx at module level; the transport is created on the
first request (``_Shared.http``), so ``Client()`` costs only the settings validation.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from .config import Settings, python_log_level, resolve_settings
from .encoding import (
    EncodedBody,
    cookie_header,
    encode_body,
    query_string,
    serialize_header,
    serialize_path,
    serialize_query,
    to_jsonable,
)
from .operation import Operation, Param, SdkInfo
from .retries import RetryPolicy
from .types import NOT_GIVEN, Headers, JsonBody, NotGiven, Query, TimeoutLike

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

__all__ = ["BaseClient", "CallOptions", "PreparedRequest", "redact_url"]

T = TypeVar("T")


_DEFAULT_SDK = SdkInfo(name="loom-sdk", version="0.0.0", env_prefix="LOOM", default_base_url="")


@dataclass(frozen=True, slots=True)
class CallOptions:
    """Per-call options (repeated on every attempt and every page)."""

    extra_headers: Headers | None = None
    extra_query: Query | None = None
    extra_body: JsonBody | None = None
    timeout: TimeoutLike | NotGiven = NOT_GIVEN


class PreparedRequest:
    """Method, URL, headers and body of one call, before httpx sees it."""

    __slots__ = ("body", "headers", "method", "url")

    def __init__(self, method: str, url: str, headers: dict[str, str], body: Any) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body


class _Shared:
    """State shared by a client and its ``with_options`` copies: the pool and the auth flow."""

    __slots__ = ("auth", "http", "lock", "owns_http", "ready")

    def __init__(self, http: Any) -> None:
        self.lock = threading.Lock()
        self.http: Any = http
        self.owns_http = http is None
        self.auth: Any = None
        self.ready = False


class BaseClient:
    """Configuration and request building shared by ``SyncAPIClient`` and ``AsyncAPIClient``.

    ``sdk_info`` is set by each generated client class.
    """

    sdk_info: ClassVar[SdkInfo] = _DEFAULT_SDK
    retry_policy: ClassVar[RetryPolicy] = RetryPolicy()

    def __init__(
        self,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        auth: httpx.Auth | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | httpx.AsyncClient | None = None,
        env_file: str | Path | bool | None = None,
        logger: logging.Logger | None = None,
        retry_policy: RetryPolicy | None = None,
        auth_strategy: str | None = None,
        oauth_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        audience: str | None = None,
        scopes: str | tuple[str, ...] | list[str] | None = None,
        token_cache_dir: str | Path | None = None,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        api_key: str | None = None,
        ca_file: str | Path | None = None,
        client_cert: str | Path | None = None,
        client_key: str | Path | None = None,
        client_key_password: str | None = None,
        verify: bool | None = None,
        proxy: str | None = None,
        tenant_id: str | None = None,
        log_level: str | None = None,
        log_bodies: bool | None = None,
        connect_timeout_seconds: float | None = None,
        base_url_exact: bool | None = None,
        token_disk_cache_disable: bool | None = None,
        ca_pem: str | None = None,
        client_cert_pem: str | None = None,
        client_key_pem: str | None = None,
    ) -> None:
        """Resolve and validate the settings; nothing is connected or imported from httpx yet.

        Args:
            base_url: the API's base URL (default: the SDK's configured or the schema's).
            timeout: seconds, an ``httpx.Timeout``, or ``None`` for no timeout.
            max_retries: retries after the first attempt (default 2).
            auth: an ``httpx.Auth`` that replaces the configured auth strategy.
            default_headers: headers sent with every request.
            http_client: your own ``httpx.Client`` (sync) or ``httpx.AsyncClient`` (async); the
                client then does not close it and does not apply TLS, proxy or timeout settings.
            env_file: ``True`` for ``./.env`` or a path; read below the environment.
            logger: the logger for request, response and retry lines.
            retry_policy: back-off parameters (``RetryPolicy``).
            auth_strategy: NONE, BASIC, OAUTH, BEARER or API_KEY (inferred when unset).
            oauth_url: see docs/runtime.md; every remaining argument is one setting there.
            client_id: OAuth client id.
            client_secret: OAuth client secret.
            audience: OAuth audience.
            scopes: OAuth scopes.
            token_cache_dir: directory of the OAuth token disk cache.
            username: HTTP basic user.
            password: HTTP basic password.
            token: static bearer token.
            api_key: API key for the schema's apiKey scheme.
            ca_file: PEM CA bundle file.
            client_cert: PEM client certificate file.
            client_key: PEM client key file.
            client_key_password: passphrase of the client key.
            verify: verify the server's certificate.
            proxy: proxy URL.
            tenant_id: the value of the parameters ``SdkInfo.parameter_settings`` maps to it.
            log_level: level of the SDK's logger.
            log_bodies: log bodies at debug.
            connect_timeout_seconds: connect timeout.
            base_url_exact: keep ``base_url`` verbatim.
            token_disk_cache_disable: never use the token disk cache.
            ca_pem: inline PEM CA bundle.
            client_cert_pem: inline PEM client certificate.
            client_key_pem: inline PEM client key.

        Raises:
            ConfigurationError: settings are missing, conflicting or invalid (one message).
        """
        explicit: dict[str, object] = {
            "base_url": base_url,
            "max_retries": max_retries,
            "auth_strategy": auth_strategy,
            "oauth_url": oauth_url,
            "client_id": client_id,
            "client_secret": client_secret,
            "audience": audience,
            "scopes": tuple(scopes) if isinstance(scopes, list) else scopes,
            "token_cache_dir": str(token_cache_dir) if token_cache_dir is not None else None,
            "username": username,
            "password": password,
            "token": token,
            "api_key": api_key,
            "ca_file": str(ca_file) if ca_file is not None else None,
            "client_cert": str(client_cert) if client_cert is not None else None,
            "client_key": str(client_key) if client_key is not None else None,
            "client_key_password": client_key_password,
            "verify": verify,
            "proxy": proxy,
            "tenant_id": tenant_id,
            "log_level": log_level,
            "log_bodies": log_bodies,
            "connect_timeout_seconds": connect_timeout_seconds,
            "base_url_exact": base_url_exact,
            "token_disk_cache_disable": token_disk_cache_disable,
            "ca_pem": ca_pem,
            "client_cert_pem": client_cert_pem,
            "client_key_pem": client_key_pem,
        }
        timeout_override: Any = NOT_GIVEN
        if isinstance(timeout, int | float) and not isinstance(timeout, bool):
            explicit["timeout_seconds"] = float(timeout)
        elif not isinstance(timeout, NotGiven):
            timeout_override = timeout  # an httpx.Timeout, or None to disable
        if auth is not None:
            # An explicit auth flow replaces the configured strategy (no credential checks).
            explicit["auth_strategy"] = "NONE"
        sdk = type(self).sdk_info
        self._settings: Settings = resolve_settings(
            sdk, {k: v for k, v in explicit.items() if v is not None}, env_file=env_file
        )
        self._explicit_auth = auth
        self._logger = logger or logging.getLogger(sdk.name.replace("-", "_"))
        if self._settings.log_level is not None and logger is None:
            self._logger.setLevel(python_log_level(self._settings.log_level))
        self._log_bodies = self._settings.log_bodies or self._settings.log_level in (
            "trace",
            "silly",
        )
        self._max_retries = self._settings.max_retries
        self._timeout_override: Any = timeout_override
        self._retry_policy = retry_policy or type(self).retry_policy
        self._base_url = self._settings.base_url
        self._extra_headers: dict[str, str] = dict(default_headers or {})
        if http_client is not None:
            # Our own pool carries User-Agent and Accept; a caller's pool gets them per request.
            self._extra_headers = {**self._base_headers(), **self._extra_headers}
        self._shared = _Shared(http_client)

    # -- public -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The resolved base URL."""
        return self._base_url

    @property
    def settings(self) -> Settings:
        """The validated settings (secrets masked in their repr)."""
        return self._settings

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt."""
        return self._max_retries

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        logger: logging.Logger | None = None,
    ) -> Self:
        """A copy with other defaults that shares this client's connection pool and auth.

        Args:
            timeout: seconds, an ``httpx.Timeout``, or ``None`` to disable timeouts.
            max_retries: retries after the first attempt.
            default_headers: headers added to (and overriding) this client's.
            logger: another logger.
        """
        clone = object.__new__(type(self))
        clone.__dict__.update({k: self.__dict__[k] for k in _STATE if k in self.__dict__})
        if not isinstance(timeout, NotGiven):
            clone._timeout_override = timeout
        if max_retries is not None:
            if max_retries < 0:
                raise ValueError("max_retries must be >= 0")
            clone._max_retries = max_retries
        if default_headers:
            clone._extra_headers = {**self._extra_headers, **default_headers}
        if logger is not None:
            clone._logger = logger
        return clone

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={redact_url(self._base_url)!r}>"

    # -- building requests ---------------------------------------------------------------------

    def _user_agent(self) -> str:
        import platform

        sdk = type(self).sdk_info
        return f"{sdk.name}/{sdk.version} loom-runtime python/{platform.python_version()}"

    def _base_headers(self) -> dict[str, str]:
        return {"User-Agent": self._user_agent(), "Accept": "application/json"}

    def _prepare(
        self,
        op: Operation[Any],
        params: Mapping[str, object],
        body: object,
        options: CallOptions,
    ) -> PreparedRequest:
        extra_query = options.extra_query
        extra_body = options.extra_body
        extra_headers = options.extra_headers
        path = op.path
        query: list[str] = []
        headers: dict[str, str] = dict(self._extra_headers) if self._extra_headers else {}
        if op.accept:
            headers["Accept"] = op.accept
        cookies: list[tuple[Param, object]] = []
        fallbacks = type(self).sdk_info.parameter_settings
        for param in op.params:
            value = params.get(param.key, NOT_GIVEN)
            if isinstance(value, NotGiven):
                setting = fallbacks.get(param.name) if param.location != "path" else None
                fallback = getattr(self._settings, setting, None) if setting else None
                if fallback is not None:
                    value = fallback
                else:
                    if param.required and param.location == "path":
                        raise TypeError(
                            f"{op.operation_id}: path parameter {param.name!r} is required"
                        )
                    continue
            location = param.location
            if location == "path":
                if value is None:
                    raise TypeError(f"{op.operation_id}: path parameter {param.name!r} is None")
                path = path.replace("{" + param.name + "}", serialize_path(param, value))
            elif location == "query":
                query.extend(serialize_query(param, value))
            elif value is None:
                continue
            elif location == "header":
                headers[param.name] = serialize_header(param, value)
            else:
                cookies.append((param, value))
        url = self._base_url + path
        if query or extra_query:
            qs = query_string(query, extra_query)
            if qs:
                url = f"{url}?{qs}"
        if cookies:
            headers["Cookie"] = cookie_header(cookies)
        encoded: Any = None
        spec = op.body
        if spec is not None and not isinstance(body, NotGiven):
            encoded = encode_body(spec, body, extra_body)
            if encoded.content_type is not None:
                headers["Content-Type"] = encoded.content_type
        elif spec is None and not isinstance(body, NotGiven) and body is not None:
            raise TypeError(f"{op.operation_id} takes no request body")
        elif extra_body:
            text = json.dumps(to_jsonable(extra_body), separators=(",", ":"))
            encoded = EncodedBody(content=text.encode(), content_type="application/json")
            headers["Content-Type"] = "application/json"
        if extra_headers:
            headers.update(extra_headers)
        return PreparedRequest(op.method, url, headers, encoded)

    def _ensure_transport(self, make_http: Any) -> Any:
        """Create the httpx client and auth flow on first use (thread-safe); returns the client."""
        shared = self._shared
        if shared.ready:
            return shared.http
        with shared.lock:
            if shared.ready:
                return shared.http
            from .transport import build_auth, client_kwargs, ssl_verify

            verify = ssl_verify(self._settings)
            auth = self._explicit_auth
            if auth is None:
                sdk = type(self).sdk_info
                auth = build_auth(sdk, self._settings, verify=verify, logger=self._logger)
            shared.auth = auth
            if shared.http is None:
                shared.http = make_http(client_kwargs(self._settings, self._base_headers(), verify))
            shared.ready = True
            return shared.http

    # -- logging -------------------------------------------------------------------------------

    def _log_request(self, prepared: PreparedRequest, attempt: int) -> None:
        url = redact_url(prepared.url)
        self._logger.debug("request: %s %s (attempt %d)", prepared.method, url, attempt)
        if self._log_bodies and prepared.body is not None and prepared.body.content is not None:
            self._logger.debug("request body: %s", _preview(prepared.body.content))

    def _log_response(self, prepared: PreparedRequest, response: httpx.Response, ms: float) -> None:
        url = redact_url(prepared.url)
        self._logger.debug(
            "response: %s %s -> %d in %.1f ms", prepared.method, url, response.status_code, ms
        )
        if self._log_bodies:
            self._logger.debug("response body: %s", _preview(response.content))


_STATE = (
    "_settings",
    "_explicit_auth",
    "_logger",
    "_log_bodies",
    "_max_retries",
    "_timeout_override",
    "_retry_policy",
    "_base_url",
    "_extra_headers",
    "_shared",
)


_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#@]*@")


def redact_url(url: str) -> str:
    """A URL safe for logs and reprs: no ``user:password@`` and no query string (API keys)."""
    return _USERINFO.sub(r"\1", url.split("?", 1)[0].split("#", 1)[0])


def _preview(content: bytes, limit: int = 2000) -> str:
    text = content[:limit].decode("utf-8", "replace")
    return text + ("…" if len(content) > limit else "")
