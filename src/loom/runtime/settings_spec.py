"""The documented settings of every SDK and their variable names, without pydantic.

``config`` validates them; ``config_doc`` (and the generator, which renders CONFIGURATION.md)
needs only this table, so it stays importable in a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .operation import SdkInfo

__all__ = ["SETTINGS", "SPEC_BY_NAME", "SettingSpec", "env_names_for"]


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """Documentation of one setting: its name (the client argument), default and meaning."""

    name: str
    default: str
    meaning: str
    secret: bool = False
    argument: str = ""
    """The client's keyword argument when it differs from ``name``."""


SETTINGS: Final[tuple[SettingSpec, ...]] = (
    SettingSpec("base_url", "the schema's first server", "Base URL of the API."),
    SettingSpec(
        "base_url_exact",
        "false",
        "Use base_url verbatim; otherwise the SDK's base path suffix (e.g. `/v2`) is appended "
        "when missing.",
    ),
    SettingSpec(
        "timeout_seconds",
        "60",
        "Read/write/pool timeout of one request attempt (argument: seconds or an httpx.Timeout).",
        argument="timeout",
    ),
    SettingSpec("connect_timeout_seconds", "5", "Timeout for opening a connection."),
    SettingSpec("max_retries", "2", "Retries after the first attempt (see the retry policy)."),
    SettingSpec(
        "auth_strategy",
        "inferred",
        "NONE, BASIC, OAUTH, BEARER, API_KEY or TOKEN_EXCHANGE. Inferred when unset: client "
        "id + secret → OAUTH (TOKEN_EXCHANGE for an SDK whose API issues its own tokens), "
        "username + password → BASIC, token → BEARER, api key → API_KEY, else NONE.",
    ),
    SettingSpec("oauth_url", "the schema's token URL", "OAuth 2.0 token endpoint."),
    SettingSpec("client_id", "none", "OAuth client id (TOKEN_EXCHANGE: the key id)."),
    SettingSpec(
        "client_secret", "none", "OAuth client secret (TOKEN_EXCHANGE: the key secret).", True
    ),
    SettingSpec("audience", "none", "OAuth `audience` sent with the token request."),
    SettingSpec("scopes", "none", "OAuth scopes, comma- or space-separated."),
    SettingSpec(
        "token_cache_dir",
        "none (memory only)",
        "Directory where OAuth tokens are cached across processes (files are mode 0600).",
    ),
    SettingSpec("token_disk_cache_disable", "false", "Never use the token disk cache."),
    SettingSpec("username", "none", "HTTP basic user name."),
    SettingSpec("password", "none", "HTTP basic password.", secret=True),
    SettingSpec("token", "none", "Static bearer token.", secret=True),
    SettingSpec("api_key", "none", "API key for the schema's apiKey scheme.", secret=True),
    SettingSpec("ca_file", "system CAs", "PEM CA bundle that verifies the server."),
    SettingSpec("ca_pem", "none", "Inline PEM CA bundle; wins over ca_file."),
    SettingSpec("client_cert", "none", "PEM client certificate file (mutual TLS)."),
    SettingSpec("client_cert_pem", "none", "Inline PEM client certificate; wins over client_cert."),
    SettingSpec("client_key", "none", "PEM private key file of the client certificate."),
    SettingSpec("client_key_pem", "none", "Inline PEM private key; wins over client_key.", True),
    SettingSpec("client_key_password", "none", "Passphrase of an encrypted client key.", True),
    SettingSpec("verify", "true", "Verify the server's TLS certificate."),
    SettingSpec("proxy", "none", "Proxy URL for all requests (`http://` or `https://`)."),
    SettingSpec("tenant_id", "none", "Default tenant for operations that take one."),
    SettingSpec(
        "log_level",
        "unchanged",
        "Level of the SDK's logger: silent, error, warn, info, debug, trace (debug + bodies).",
    ),
    SettingSpec("log_bodies", "false", "Log request and response bodies at debug."),
    SettingSpec(
        "load_envfile",
        "false",
        "`true` reads ./.env, a path reads that file (lower precedence than the environment).",
    ),
)
SPEC_BY_NAME: Final = {spec.name: spec for spec in SETTINGS}


def env_names_for(sdk: SdkInfo, setting: str) -> tuple[str, ...]:
    """The environment variables of a setting, primary first, then aliases.

    Args:
        sdk: the SDK's description.
        setting: the setting name.

    Returns:
        ``(<PREFIX>_<NAME>,)`` unless the SDK renames it, followed by its aliases.
    """
    primary = sdk.env_names.get(setting) or f"{sdk.env_prefix}_{setting.upper()}"
    aliases = tuple(a for a in sdk.env_aliases.get(setting, ()) if a != primary)
    return (primary, *aliases)
