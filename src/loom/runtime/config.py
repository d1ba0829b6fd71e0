"""Client configuration: one pydantic model, resolved from four layers.

Precedence, highest first: explicit client arguments > environment variables > a ``.env``
file (only when ``env_file=`` or ``<PREFIX>_LOAD_ENVFILE`` asks for it) > the SDK's defaults
(``SdkInfo.setting_defaults``) > the defaults below. Every setting has one environment variable,
``<PREFIX>_<NAME>`` unless the generator configuration renames it (``SdkInfo.env_names``), plus
optional aliases (``SdkInfo.env_aliases``); two variables of one setting with different values
are a conflict.

All problems are collected and reported in one ``ConfigurationError`` naming the variables.
This module does not import httpx.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

import pydantic
from pydantic import ConfigDict, Field, SecretStr, field_validator

from .dotenv import parse_env_file
from .errors import ConfigurationError
from .operation import SdkInfo
from .settings_spec import SETTINGS, SPEC_BY_NAME, SettingSpec, env_names_for

__all__ = [
    "AUTH_STRATEGIES",
    "SETTINGS",
    "SettingSpec",
    "Settings",
    "env_names_for",
    "python_log_level",
    "render_configuration_md",
    "resolve_settings",
]

AuthStrategy = Literal["NONE", "BASIC", "OAUTH", "BEARER", "API_KEY"]
AUTH_STRATEGIES: Final = ("NONE", "BASIC", "OAUTH", "BEARER", "API_KEY")

_LOG_LEVELS: Final = {
    "silent": logging.CRITICAL + 10,
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": logging.DEBUG,
    "silly": logging.DEBUG,
}


# SettingSpec, SETTINGS and env_names_for live in settings_spec (cheap to import).
class Settings(pydantic.BaseModel):
    """The validated configuration of one client. Secrets are ``SecretStr`` (masked in repr)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = ""
    base_url_exact: bool = False
    timeout_seconds: float | None = Field(default=60.0, ge=0)
    connect_timeout_seconds: float | None = Field(default=5.0, ge=0)
    max_retries: int = Field(default=2, ge=0, le=100)
    auth_strategy: AuthStrategy | None = None
    oauth_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    audience: str | None = None
    scopes: tuple[str, ...] = ()
    token_cache_dir: str | None = None
    token_disk_cache_disable: bool = False
    username: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None
    api_key: SecretStr | None = None
    ca_file: str | None = None
    ca_pem: str | None = Field(default=None, repr=False)
    client_cert: str | None = None
    client_cert_pem: str | None = Field(default=None, repr=False)
    client_key: str | None = None
    client_key_pem: SecretStr | None = None
    client_key_password: SecretStr | None = None
    verify: bool = True
    proxy: str | None = Field(default=None, repr=False)
    tenant_id: str | None = None
    log_level: str | None = None
    log_bodies: bool = False

    @field_validator("auth_strategy", mode="before")
    @classmethod
    def _upper_strategy(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().upper().replace("-", "_") or None
        return value

    @field_validator("scopes", mode="before")
    @classmethod
    def _split_scopes(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(s for s in value.replace(",", " ").split() if s)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _check_level(cls, value: object) -> object:
        if isinstance(value, str):
            level = value.strip().lower()
            if level not in _LOG_LEVELS:
                raise ValueError(f"must be one of {', '.join(sorted(_LOG_LEVELS))}")
            return level
        return value


def python_log_level(level: str) -> int:
    """The stdlib logging level for a configured level name (``warn`` → ``WARNING``)."""
    return _LOG_LEVELS[level]


def _truthy(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on")


def _env_file_path(option: object) -> Path | None:
    if option is None or option is False:
        return None
    if option is True:
        return Path.cwd() / ".env"
    if isinstance(option, Path):
        return option
    text = str(option).strip()
    if not text or text.lower() in ("0", "false", "no", "off"):
        return None
    if _truthy(text):
        return Path.cwd() / ".env"
    return Path(text).expanduser()


def _layer_value(
    layer: Mapping[str, str], names: tuple[str, ...], where: str, problems: list[str]
) -> tuple[str, str] | None:
    """The value of a setting in one layer and the variable that gave it; conflicts recorded."""
    found = [(n, layer[n]) for n in names if layer.get(n, "").strip() != ""]
    if not found:
        return None
    first_name, first_value = found[0]
    for other_name, other_value in found[1:]:
        if other_value.strip() != first_value.strip():
            problems.append(
                f"{first_name} and {other_name} are both set in the {where} with different "
                f"values; set only one"
            )
    return first_value.strip(), first_name


def resolve_settings(
    sdk: SdkInfo,
    explicit: Mapping[str, object],
    *,
    environ: Mapping[str, str] | None = None,
    env_file: str | Path | bool | None = None,
) -> Settings:
    """Resolve and validate a client's settings.

    Args:
        sdk: the SDK's description (prefix, variable names, defaults, security schemes).
        explicit: arguments given to the client; ``None`` values count as not given.
        environ: the environment (defaults to ``os.environ``).
        env_file: ``True`` for ``./.env``, a path, ``False`` to refuse, ``None`` to let
            ``<PREFIX>_LOAD_ENVFILE`` decide.

    Returns:
        The validated settings, with the auth strategy inferred when unset.

    Raises:
        ConfigurationError: one message listing every missing, conflicting or invalid setting,
            naming its variables.
    """
    env = os.environ if environ is None else environ
    problems: list[str] = []
    variables: list[str] = []
    if env_file is None:
        load_names = env_names_for(sdk, "load_envfile")
        picked = _layer_value(env, load_names, "environment", problems)
        env_file = picked[0] if picked else None
    path = _env_file_path(env_file)
    file_layer: Mapping[str, str] = parse_env_file(path) if path is not None else {}
    if file_layer and path is not None:
        # `<PREFIX>_LOAD_ENVFILE` inside the file itself means nothing.
        file_layer = {
            k: v for k, v in file_layer.items() if k not in env_names_for(sdk, "load_envfile")
        }

    values: dict[str, object] = {}
    origin: dict[str, str] = {}
    for spec in SETTINGS:
        name = spec.name
        if name == "load_envfile":
            continue
        names = env_names_for(sdk, name)
        given = explicit.get(name)
        if given is not None:
            values[name] = given
            origin[name] = f"argument {name}="
            continue
        picked = _layer_value(env, names, "environment", problems) or _layer_value(
            file_layer, names, f"file {path}", problems
        )
        if picked is not None:
            values[name], origin[name] = picked
            continue
        default = sdk.setting_defaults.get(name)
        if default is not None:
            values[name] = default
    if "base_url" not in values:
        values["base_url"] = sdk.default_base_url

    try:
        settings = Settings.model_validate(values)
    except pydantic.ValidationError as exc:
        for error in exc.errors(include_input=False, include_url=False):
            loc = error.get("loc", ())
            name = str(loc[0]) if loc else "?"
            where = origin.get(name, env_names_for(sdk, name)[0] if name in SPEC_BY_NAME else name)
            problems.append(f"{where}: {error.get('msg', 'invalid')}")
            variables.append(where)
        raise _error(problems, variables) from None

    settings = _normalise(sdk, settings)
    _check(sdk, settings, problems, variables)
    if problems:
        raise _error(problems, variables)
    return settings


def _error(problems: list[str], variables: list[str]) -> ConfigurationError:
    if len(problems) == 1:
        message = f"invalid configuration: {problems[0]}"
    else:
        message = "invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems)
    return ConfigurationError(message, variables=tuple(dict.fromkeys(variables)))


def _normalise(sdk: SdkInfo, settings: Settings) -> Settings:
    updates: dict[str, object] = {}
    base = settings.base_url.strip().rstrip("/")
    suffix = sdk.base_url_suffix.rstrip("/")
    if base and suffix and not settings.base_url_exact and not base.endswith(suffix):
        base += suffix
    updates["base_url"] = base
    if settings.auth_strategy is None:
        updates["auth_strategy"] = _infer_strategy(settings)
    if settings.oauth_url is None:
        for scheme in sdk.security_schemes.values():
            if scheme.kind == "oauth2" and scheme.token_url:
                updates["oauth_url"] = scheme.token_url
                break
    if not settings.scopes:
        for scheme in sdk.security_schemes.values():
            if scheme.kind == "oauth2" and scheme.scopes:
                updates["scopes"] = scheme.scopes
                break
    return settings.model_copy(update=updates)


def _credential_sets(settings: Settings) -> dict[str, bool]:
    return {
        "OAUTH": bool(settings.client_id and settings.client_secret),
        "BASIC": bool(settings.username and settings.password),
        "BEARER": settings.token is not None,
        "API_KEY": settings.api_key is not None,
    }


def _infer_strategy(settings: Settings) -> AuthStrategy | None:
    present = [k for k, v in _credential_sets(settings).items() if v]
    if len(present) == 1:
        only = present[0]
        return (
            "OAUTH"
            if only == "OAUTH"
            else "BASIC"
            if only == "BASIC"
            else ("BEARER" if only == "BEARER" else "API_KEY")
        )
    if not present:
        return "NONE"
    return None  # ambiguous: reported by _check


_NEEDS: Final[dict[str, tuple[str, ...]]] = {
    "OAUTH": ("client_id", "client_secret", "oauth_url"),
    "BASIC": ("username", "password"),
    "BEARER": ("token",),
    "API_KEY": ("api_key",),
}


def _check(sdk: SdkInfo, settings: Settings, problems: list[str], variables: list[str]) -> None:
    def var(name: str) -> str:
        return env_names_for(sdk, name)[0]

    strategy_var = var("auth_strategy")
    strategy = settings.auth_strategy
    if strategy is None:
        present = [k for k, v in _credential_sets(settings).items() if v]
        named = " and ".join(
            "/".join(var(n) for n in _NEEDS[k] if n != "oauth_url") for k in present
        )
        problems.append(
            f"credentials for several auth strategies are set ({named}) but {strategy_var} is "
            f"not; set {strategy_var} to one of {', '.join(present)}"
        )
        variables.append(strategy_var)
        return
    if strategy == "NONE":
        for first, second in (("client_id", "client_secret"), ("username", "password")):
            a, b = getattr(settings, first), getattr(settings, second)
            if bool(a) != bool(b):
                missing, given = (second, first) if a else (first, second)
                problems.append(
                    f"{var(given)} is set but {var(missing)} is not; set both (or neither)"
                )
                variables.extend((var(given), var(missing)))
    else:
        for need in _NEEDS[strategy]:
            if not getattr(settings, need):
                problems.append(f"{var(need)} is required when {strategy_var}={strategy}")
                variables.extend((var(need), strategy_var))
    if strategy == "API_KEY" and not any(s.kind == "apiKey" for s in sdk.security_schemes.values()):
        problems.append(
            f"{strategy_var}=API_KEY but the API declares no apiKey security scheme; pass auth= "
            "to the client instead"
        )
        variables.append(strategy_var)
    cert = bool(settings.client_cert or settings.client_cert_pem)
    key = bool(settings.client_key or settings.client_key_pem)
    if cert != key:
        problems.append(
            f"incomplete mutual TLS configuration: a client certificate ({var('client_cert')} or "
            f"{var('client_cert_pem')}) and its key ({var('client_key')} or "
            f"{var('client_key_pem')}) must be set together"
        )
        variables.extend((var("client_cert"), var("client_key")))
    if settings.client_key_password is not None and not key:
        problems.append(f"{var('client_key_password')} is set but no client key is")
        variables.append(var("client_key_password"))
    for name in ("ca_file", "client_cert", "client_key"):
        path = getattr(settings, name)
        if path and not Path(path).expanduser().is_file():
            problems.append(f"{var(name)}: no such file: {path}")
            variables.append(var(name))


def render_configuration_md(sdk: SdkInfo) -> str:
    """Render ``CONFIGURATION.md`` for a generated SDK (deterministic).

    Args:
        sdk: the SDK's description.

    Returns:
        Markdown listing every setting with its argument, variables, default and meaning.
    """
    from .config_doc import render

    return render(sdk)


def explicit_settings(**kwargs: Any) -> dict[str, object]:
    """The explicitly given settings among keyword arguments (``None`` means not given)."""
    return {k: v for k, v in kwargs.items() if v is not None}
