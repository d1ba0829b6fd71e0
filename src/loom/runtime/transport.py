"""Building httpx clients, TLS contexts and auth from settings (imported on the first request).

This is the only module besides ``auth`` that imports httpx at module level; ``client`` imports
it lazily so that constructing a client stays cheap.
"""

from __future__ import annotations

import logging
import os
import ssl
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx

from .auth import ApiKeyAuth, BasicAuth, BearerAuth, OAuth2ClientCredentials
from .config import Settings
from .errors import ConfigurationError
from .operation import SdkInfo

__all__ = ["build_auth", "client_kwargs", "ssl_verify", "timeout_from"]


def timeout_from(settings: Settings) -> httpx.Timeout:
    """The default timeout: read/write/pool from ``timeout_seconds``, connect on its own."""
    return httpx.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds)


def _write_private(pem: str) -> str:
    fd, name = tempfile.mkstemp(suffix=".pem")
    os.chmod(name, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(pem)
    return name


def ssl_verify(settings: Settings) -> ssl.SSLContext | bool:
    """What httpx's ``verify=`` gets: ``False``, ``True`` or a context with custom CA / client cert.

    Inline PEM settings win over file paths (camunda-orchestration-sdk's rule).

    Raises:
        ConfigurationError: a certificate, key or CA could not be loaded (the message names the
            setting, never the key or passphrase).
    """
    has_ca = bool(settings.ca_pem or settings.ca_file)
    has_cert = bool(settings.client_cert_pem or settings.client_cert)
    if not settings.verify and not has_cert:
        return False
    if not has_ca and not has_cert:
        return True
    ctx = ssl.create_default_context()
    try:
        if settings.ca_pem:
            ctx.load_verify_locations(cadata=settings.ca_pem)
        elif settings.ca_file:
            ctx.load_verify_locations(cafile=str(Path(settings.ca_file).expanduser()))
    except (ssl.SSLError, OSError) as exc:
        raise ConfigurationError(
            f"cannot load the CA bundle (ca_pem / ca_file): {type(exc).__name__}",
            variables=("ca_pem", "ca_file"),
        ) from None
    if has_cert:
        temporary: list[str] = []
        try:
            cert = settings.client_cert
            key = settings.client_key
            if settings.client_cert_pem:
                cert = _write_private(settings.client_cert_pem)
                temporary.append(cert)
            if settings.client_key_pem is not None:
                key = _write_private(settings.client_key_pem.get_secret_value())
                temporary.append(key)
            password = settings.client_key_password
            ctx.load_cert_chain(
                certfile=str(cert),
                keyfile=str(key) if key else None,
                password=password.get_secret_value() if password is not None else None,
            )
        except (ssl.SSLError, OSError) as exc:
            raise ConfigurationError(
                "cannot load the client certificate and key (client_cert / client_key / "
                f"client_key_password): {type(exc).__name__}",
                variables=("client_cert", "client_key", "client_key_password"),
            ) from None
        finally:
            for name in temporary:
                with suppress(OSError):
                    os.unlink(name)
    if not settings.verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def build_auth(
    sdk: SdkInfo,
    settings: Settings,
    *,
    verify: ssl.SSLContext | bool,
    logger: logging.Logger,
) -> httpx.Auth | None:
    """The auth flow for the configured strategy (``None`` for NONE).

    Args:
        sdk: the SDK (its apiKey scheme gives the key's name and location).
        settings: validated settings.
        verify: TLS verification for the OAuth token endpoint (same as the API's).
        logger: the client's logger.
    """
    strategy = settings.auth_strategy
    if strategy == "BASIC":
        assert settings.username is not None
        assert settings.password is not None
        return BasicAuth(settings.username, settings.password.get_secret_value())
    if strategy == "BEARER":
        assert settings.token is not None
        return BearerAuth(settings.token.get_secret_value())
    if strategy == "API_KEY":
        assert settings.api_key is not None
        for scheme in sorted(sdk.security_schemes.items()):
            s = scheme[1]
            if s.kind == "apiKey" and s.name and s.location:
                return ApiKeyAuth(s.name, s.location, settings.api_key.get_secret_value())
        return None
    if strategy == "OAUTH":
        assert settings.oauth_url
        assert settings.client_id
        assert settings.client_secret
        cache_dir = None if settings.token_disk_cache_disable else settings.token_cache_dir
        return OAuth2ClientCredentials(
            token_url=settings.oauth_url,
            client_id=settings.client_id,
            client_secret=settings.client_secret.get_secret_value(),
            audience=settings.audience,
            scopes=settings.scopes,
            cache_dir=cache_dir,
            verify=verify,
            proxy=settings.proxy,
            timeout_seconds=settings.timeout_seconds or 30.0,
            logger=logger,
        )
    if strategy == "TOKEN_EXCHANGE" and sdk.token_exchange is not None:
        from .token_exchange import TokenExchangeAuth

        assert settings.client_id
        assert settings.client_secret
        spec = sdk.token_exchange
        return TokenExchangeAuth(
            token_url=settings.oauth_url or _join(settings.base_url, spec.path),
            key_id=settings.client_id,
            key_secret=settings.client_secret.get_secret_value(),
            spec=spec,
            verify=verify,
            proxy=settings.proxy,
            timeout_seconds=settings.timeout_seconds or 30.0,
            logger=logger,
        )
    return None


def _join(base_url: str, path: str) -> str:
    """``path`` under the base URL, unless it is an absolute URL itself."""
    if "://" in path:
        return path
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def client_kwargs(
    settings: Settings, headers: dict[str, str], verify: ssl.SSLContext | bool
) -> dict[str, Any]:
    """Keyword arguments for ``httpx.Client`` / ``httpx.AsyncClient``."""
    return {
        "headers": headers,
        "timeout": timeout_from(settings),
        "verify": verify,
        "proxy": settings.proxy,
        "follow_redirects": True,
        "limits": httpx.Limits(max_connections=100, max_keepalive_connections=20),
    }
