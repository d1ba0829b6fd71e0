"""Client configuration: one validated settings object, resolved from four layers.

Precedence, highest first: explicit client arguments > environment variables > a ``.env``
file (only when ``env_file=`` or ``<PREFIX>_LOAD_ENVFILE`` asks for it) > the SDK's defaults
(``SdkInfo.setting_defaults``) > the defaults below. Every setting has one environment variable,
``<PREFIX>_<NAME>`` unless the generator configuration renames it (``SdkInfo.env_names``), plus
optional aliases (``SdkInfo.env_aliases``); two variables of one setting with different values
are a conflict.

The values are validated by pydantic's validator (``pydantic_core.SchemaValidator``) against
one schema, ``SETTINGS_SCHEMA``: the same coercions, constraints and error messages as a
pydantic model with these fields, without building a ``BaseModel`` class at ``Client()``
(pydantic's model machinery, its plugin loader and ``importlib.metadata`` cost more than the
rest of the client's import together). ``Settings`` is a frozen dataclass.

All problems are collected and reported in one ``ConfigurationError`` naming the variables.
This module does not import httpx.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

from pydantic_core import SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from .dotenv import parse_env_file
from .errors import ConfigurationError
from .operation import SdkInfo
from .settings_spec import SETTINGS, SPEC_BY_NAME, SettingSpec, env_names_for

__all__ = [
    "AUTH_STRATEGIES",
    "SETTINGS",
    "SETTINGS_SCHEMA",
    "SecretStr",
    "SettingSpec",
    "Settings",
    "env_names_for",
    "python_log_level",
    "render_configuration_md",
    "resolve_settings",
]

AuthStrategy = Literal["NONE", "BASIC", "OAUTH", "BEARER", "API_KEY", "TOKEN_EXCHANGE"]
AUTH_STRATEGIES: Final = ("NONE", "BASIC", "OAUTH", "BEARER", "API_KEY", "TOKEN_EXCHANGE")

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


class SecretStr:
    """A secret string: ``repr``/``str`` show ``**********``; ``get_secret_value()`` reveals it.

    The same interface as ``pydantic.SecretStr``, so code written against either works.
    """

    __slots__ = ("_secret_value",)

    def __init__(self, secret_value: str) -> None:
        self._secret_value = secret_value

    def get_secret_value(self) -> str:
        """The secret itself."""
        return self._secret_value

    def __repr__(self) -> str:
        return "SecretStr('**********')" if self._secret_value else "SecretStr('')"

    def __str__(self) -> str:
        return "**********" if self._secret_value else ""

    def __len__(self) -> int:
        return len(self._secret_value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._secret_value == self._secret_value

    def __hash__(self) -> int:
        return hash(self._secret_value)


# SettingSpec, SETTINGS and env_names_for live in settings_spec (cheap to import).
@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """The validated configuration of one client. Secrets are ``SecretStr`` (masked in repr)."""

    base_url: str = ""
    base_url_exact: bool = False
    timeout_seconds: float | None = 60.0
    connect_timeout_seconds: float | None = 5.0
    max_retries: int = 2
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
    ca_pem: str | None = dataclasses.field(default=None, repr=False)
    client_cert: str | None = None
    client_cert_pem: str | None = dataclasses.field(default=None, repr=False)
    client_key: str | None = None
    client_key_pem: SecretStr | None = None
    client_key_password: SecretStr | None = None
    verify: bool = True
    proxy: str | None = dataclasses.field(default=None, repr=False)
    tenant_id: str | None = None
    log_level: str | None = None
    log_bodies: bool = False


def _upper_strategy(value: object) -> object:
    if isinstance(value, str):
        return value.strip().upper().replace("-", "_") or None
    return value


def _split_scopes(value: object) -> object:
    if isinstance(value, str):
        return tuple(s for s in value.replace(",", " ").split() if s)
    return value


def _check_level(value: object) -> object:
    if isinstance(value, str):
        level = value.strip().lower()
        if level not in _LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(sorted(_LOG_LEVELS))}")
        return level
    return value


def _optional(schema: cs.CoreSchema) -> cs.CoreSchema:
    return cs.nullable_schema(schema)


def _secret() -> cs.CoreSchema:
    return _optional(cs.no_info_after_validator_function(SecretStr, cs.str_schema()))


# One schema per Settings field, in the dataclass's order; defaults come from the dataclass.
_FIELD_SCHEMAS: Final[dict[str, cs.CoreSchema]] = {
    "base_url": cs.str_schema(),
    "base_url_exact": cs.bool_schema(),
    "timeout_seconds": _optional(cs.float_schema(ge=0)),
    "connect_timeout_seconds": _optional(cs.float_schema(ge=0)),
    "max_retries": cs.int_schema(ge=0, le=100),
    "auth_strategy": cs.no_info_before_validator_function(
        _upper_strategy, _optional(cs.literal_schema(list(AUTH_STRATEGIES)))
    ),
    "oauth_url": _optional(cs.str_schema()),
    "client_id": _optional(cs.str_schema()),
    "client_secret": _secret(),
    "audience": _optional(cs.str_schema()),
    "scopes": cs.no_info_before_validator_function(
        _split_scopes, cs.tuple_schema([cs.str_schema()], variadic_item_index=0)
    ),
    "token_cache_dir": _optional(cs.str_schema()),
    "token_disk_cache_disable": cs.bool_schema(),
    "username": _optional(cs.str_schema()),
    "password": _secret(),
    "token": _secret(),
    "api_key": _secret(),
    "ca_file": _optional(cs.str_schema()),
    "ca_pem": _optional(cs.str_schema()),
    "client_cert": _optional(cs.str_schema()),
    "client_cert_pem": _optional(cs.str_schema()),
    "client_key": _optional(cs.str_schema()),
    "client_key_pem": _secret(),
    "client_key_password": _secret(),
    "verify": cs.bool_schema(),
    "proxy": _optional(cs.str_schema()),
    "tenant_id": _optional(cs.str_schema()),
    "log_level": cs.no_info_before_validator_function(_check_level, _optional(cs.str_schema())),
    "log_bodies": cs.bool_schema(),
}

SETTINGS_SCHEMA: Final[cs.TypedDictSchema] = cs.typed_dict_schema(
    {
        f.name: cs.typed_dict_field(
            cs.with_default_schema(_FIELD_SCHEMAS[f.name], default=f.default), required=False
        )
        for f in dataclasses.fields(Settings)
    },
    extra_behavior="forbid",
    cls_name="Settings",
)
"""The pydantic-core schema every client's settings are validated against."""

_VALIDATOR: Final = SchemaValidator(SETTINGS_SCHEMA)


def validate_settings(values: Mapping[str, object]) -> Settings:
    """Validate raw setting values (strings from the environment, or typed arguments).

    Raises:
        pydantic_core.ValidationError: one error per invalid or unknown setting.
    """
    validated: dict[str, Any] = _VALIDATOR.validate_python(dict(values))
    return Settings(**validated)


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
        settings = validate_settings(values)
    except ValidationError as exc:
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
    base = settings.base_url.strip().rstrip("/")
    suffix = sdk.base_url_suffix.rstrip("/")
    if base and suffix and not settings.base_url_exact and not base.endswith(suffix):
        base += suffix
    drop = sdk.base_url_drop_suffix.rstrip("/")
    if drop and not settings.base_url_exact and base.endswith(drop):
        base = base[: -len(drop)]
    oauth2 = [s for s in sdk.security_schemes.values() if s.kind == "oauth2"]
    oauth_url = settings.oauth_url
    if oauth_url is None:
        oauth_url = next((s.token_url for s in oauth2 if s.token_url), None)
    scopes = settings.scopes or next((s.scopes for s in oauth2 if s.scopes), ())
    strategy = settings.auth_strategy
    return dataclasses.replace(
        settings,
        base_url=base,
        auth_strategy=_infer_strategy(sdk, settings) if strategy is None else strategy,
        oauth_url=oauth_url,
        scopes=tuple(scopes),
    )


def _credential_sets(settings: Settings) -> dict[str, bool]:
    return {
        "OAUTH": bool(settings.client_id and settings.client_secret),
        "BASIC": bool(settings.username and settings.password),
        "BEARER": settings.token is not None,
        "API_KEY": settings.api_key is not None,
    }


def _infer_strategy(sdk: SdkInfo, settings: Settings) -> AuthStrategy | None:
    present = [k for k, v in _credential_sets(settings).items() if v]
    if len(present) == 1:
        only = present[0]
        if only == "OAUTH" and sdk.token_exchange is not None:
            return "TOKEN_EXCHANGE"  # the API issues its own tokens for an id and a secret
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
    "TOKEN_EXCHANGE": ("client_id", "client_secret"),
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
    if strategy == "TOKEN_EXCHANGE" and sdk.token_exchange is None:
        problems.append(
            f"{strategy_var}=TOKEN_EXCHANGE but this SDK was generated without "
            "[runtime.token_exchange]; pass auth= to the client instead"
        )
        variables.append(strategy_var)
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
