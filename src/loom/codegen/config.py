"""The generator's TOML configuration.

Example::

    [sdk]
    package = "camunda_sdk"          # Python package name
    distribution = "camunda-sdk"     # name in the SDK's pyproject.toml
    version = "0.1.0"
    layout = "resources"             # "resources" | "flat"
    error_classes = "shared"         # "shared" | "per-operation"
    body_style = "fields"            # "fields": a JSON object body's fields are arguments;
                                     # "body": one body= argument (the model or its TypedDict)
    include_tags = []                # empty: every tag
    idempotent = ["*/search"]        # POST/PATCH operations retried like GET

    [names.operations]               # operationId -> method name
    createProcessInstance = "start"

    [names.models]                   # component key -> class name
    ProblemDetail = "Problem"

    [hooks]
    pre = "hooks/pre"                # folders of NNNN_name.py files, relative to this file
    post = "hooks/post"

    [runtime]
    env_prefix = "CAMUNDA"
    [runtime.env_names]
    base_url = "CAMUNDA_REST_ADDRESS"

    [pagination.searchProcessInstances]   # declare or override a pagination pattern
    kind = "camunda"
    items_field = "items"
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from loom.codegen.diagnostics import FatalSchemaError

_PACKAGE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
_ENV_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything the generator can be told; every field has a sensible default."""

    package: str = "api_client"
    distribution: str | None = None
    version: str = "0.1.0"
    layout: Literal["resources", "flat"] = "resources"
    error_classes: Literal["shared", "per-operation"] = "shared"
    body_style: Literal["fields", "body"] = "fields"
    include_tags: tuple[str, ...] = ()
    idempotent: tuple[str, ...] = ()
    """fnmatch patterns over operationId or path: POST/PATCH operations retried like GET."""
    operation_names: dict[str, str] = field(default_factory=dict[str, str])
    model_names: dict[str, str] = field(default_factory=dict[str, str])
    pre_hooks: Path | None = None
    post_hooks: Path | None = None
    env_prefix: str | None = None
    env_names: dict[str, str] = field(default_factory=dict[str, str])
    env_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict[str, tuple[str, ...]])
    setting_defaults: dict[str, str | int | float | bool | tuple[str, ...]] = field(
        default_factory=dict[str, str | int | float | bool | tuple[str, ...]]
    )
    base_url_suffix: str = ""
    pagination: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    path: Path | None = None

    @property
    def dist_name(self) -> str:
        """The SDK's distribution name."""
        return self.distribution or self.package.replace("_", "-")

    @property
    def prefix(self) -> str:
        """The SDK's environment variable prefix."""
        return self.env_prefix or self.package.upper()


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise FatalSchemaError(f"{where}: [{key}] must be a table")
    return cast(dict[str, Any], value)


def _str_map(data: dict[str, Any], where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in data.items():
        if not isinstance(v, str):
            raise FatalSchemaError(f"{where}: {k} must be a string")
        out[k] = v
    return out


def load_config(path: Path | None) -> GeneratorConfig:
    """Read a configuration file; ``None`` gives the defaults.

    Raises:
        FatalSchemaError: the file is missing, is not TOML, or has a bad value (the message
            names the key).
    """
    if path is None:
        return GeneratorConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FatalSchemaError(f"{path}: configuration file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FatalSchemaError(f"{path}: not valid TOML: {exc}") from None
    where = str(path)
    sdk = _table(data, "sdk", where)
    names = _table(data, "names", where)
    hooks = _table(data, "hooks", where)
    runtime = _table(data, "runtime", where)
    pagination = _table(data, "pagination", where)

    package = sdk.get("package", "api_client")
    if not isinstance(package, str) or not _PACKAGE_RE.match(package):
        raise FatalSchemaError(f"{where}: sdk.package must be a lower-case Python identifier")
    layout = sdk.get("layout", "resources")
    if layout not in ("resources", "flat"):
        raise FatalSchemaError(f"{where}: sdk.layout must be 'resources' or 'flat'")
    errors = sdk.get("error_classes", "shared")
    if errors not in ("shared", "per-operation"):
        raise FatalSchemaError(f"{where}: sdk.error_classes must be 'shared' or 'per-operation'")
    body_style = sdk.get("body_style", "fields")
    if body_style not in ("fields", "body"):
        raise FatalSchemaError(f"{where}: sdk.body_style must be 'fields' or 'body'")
    tags = sdk.get("include_tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in cast(list[Any], tags)):
        raise FatalSchemaError(f"{where}: sdk.include_tags must be a list of strings")
    idempotent = sdk.get("idempotent", [])
    if not isinstance(idempotent, list) or not all(
        isinstance(t, str) for t in cast(list[Any], idempotent)
    ):
        raise FatalSchemaError(f"{where}: sdk.idempotent must be a list of patterns")
    env_prefix = runtime.get("env_prefix")
    if env_prefix is not None and (
        not isinstance(env_prefix, str) or not _ENV_RE.match(env_prefix)
    ):
        raise FatalSchemaError(f"{where}: runtime.env_prefix must be upper-case letters and _")
    env_names = _str_map(_table(runtime, "env_names", where + " runtime"), where)
    for var in env_names.values():
        if not _ENV_RE.match(var):
            raise FatalSchemaError(f"{where}: runtime.env_names: {var!r} is not a variable name")

    aliases: dict[str, tuple[str, ...]] = {}
    for key, value in _table(runtime, "env_aliases", where + " runtime").items():
        variables: list[Any] = cast(list[Any], value) if isinstance(value, list) else [value]
        if not all(isinstance(n, str) and _ENV_RE.match(n) for n in variables):
            raise FatalSchemaError(f"{where}: runtime.env_aliases.{key} must list variable names")
        aliases[key] = tuple(str(n) for n in variables)
    defaults: dict[str, str | int | float | bool | tuple[str, ...]] = {}
    for key, value in _table(runtime, "setting_defaults", where + " runtime").items():
        if isinstance(value, list):
            defaults[key] = tuple(str(v) for v in cast(list[Any], value))
        elif isinstance(value, (str, int, float, bool)):
            defaults[key] = value
        else:
            raise FatalSchemaError(f"{where}: runtime.setting_defaults.{key} must be a scalar")
    suffix = runtime.get("base_url_suffix", "")
    if not isinstance(suffix, str):
        raise FatalSchemaError(f"{where}: runtime.base_url_suffix must be a string")

    def hook_dir(key: str) -> Path | None:
        value = hooks.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise FatalSchemaError(f"{where}: hooks.{key} must be a path")
        return (path.parent / value).resolve()

    pages: dict[str, dict[str, Any]] = {}
    for op_id, spec in pagination.items():
        if not isinstance(spec, dict):
            raise FatalSchemaError(f"{where}: [pagination.{op_id}] must be a table")
        pages[op_id] = cast(dict[str, Any], spec)
    version = sdk.get("version", "0.1.0")
    dist = sdk.get("distribution")
    return GeneratorConfig(
        package=package,
        distribution=dist if isinstance(dist, str) else None,
        version=str(version),
        layout=layout,
        error_classes=errors,
        body_style=body_style,
        include_tags=tuple(cast(list[str], tags)),
        idempotent=tuple(cast(list[str], idempotent)),
        operation_names=_str_map(_table(names, "operations", where), where),
        model_names=_str_map(_table(names, "models", where), where),
        pre_hooks=hook_dir("pre"),
        post_hooks=hook_dir("post"),
        env_prefix=env_prefix,
        env_names=env_names,
        env_aliases=aliases,
        setting_defaults=defaults,
        base_url_suffix=suffix,
        pagination=pages,
        path=path.resolve(),
    )
