"""The generator's TOML configuration.

Example::

    [sdk]
    package = "camunda_sdk"          # Python package name (default: from info.title)
    distribution = "camunda-sdk"     # name in the SDK's pyproject.toml
    version = "0.1.0"
    layout = "resources"             # "resources" | "flat" | "paths"
    source = "auto"                  # "auto" | "openapi" | "proxmox" (apidata.js)
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
    env_prefix = "CAMUNDA"           # default: from info.title, like the package
    [runtime.env_names]
    base_url = "CAMUNDA_REST_ADDRESS"

    [pagination.searchProcessInstances]   # declare or override a pagination pattern
    kind = "camunda"
    items_field = "items"

    [pagination."/v1/*/search"]           # or for every operation whose path or id matches
    kind = "cursor"
    items_field = "data"
    cursor_param = "page"
    next_cursor_field = "next_page"

    [groups]                              # path or operationId pattern -> resource
    "/v1/billing_portal/*" = "billing"

    [renames.operations]             # old Python name -> new; the old one stays, deprecated
    "process_instance.start" = "process_instance.create"

Every table is checked strictly (``loom.codegen.config_file``): an unknown key is an error that
names its line and the nearest valid spelling.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from loom.codegen.diagnostics import FatalSchemaError


@dataclass(frozen=True)
class Renames:
    """``[renames]``: old Python names the SDK keeps as deprecated aliases of new ones.

    Attributes:
        operations: ``"resource.old_method"`` → ``"resource.new_method"`` (flat: bare names).
        models: old class name → new class name.
        fields: ``"Model.old_field"`` → ``"new_field"`` (the model by its new name).
        parameters: ``"resource.method.old_param"`` → ``"new_param"`` (the method by its new
            name; flat: ``"method.old_param"``).
    """

    operations: dict[str, str] = field(default_factory=dict[str, str])
    models: dict[str, str] = field(default_factory=dict[str, str])
    fields: dict[str, str] = field(default_factory=dict[str, str])
    parameters: dict[str, str] = field(default_factory=dict[str, str])

    def __bool__(self) -> bool:
        return bool(self.operations or self.models or self.fields or self.parameters)


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything the generator can be told; every field has a sensible default."""

    package: str = ""
    """The Python package; ``""`` derives it from the schema (``derive_names``)."""
    distribution: str | None = None
    version: str = "0.1.0"
    layout: Literal["resources", "flat", "paths"] = "resources"
    source: Literal["auto", "openapi", "proxmox"] = "auto"
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
    token_exchange: dict[str, str | float] | None = None
    """``[runtime.token_exchange]``: the API issues its own tokens (``runtime.TokenExchange``)."""
    base_url_drop_suffix: str = ""
    """``[runtime] base_url_drop_suffix``: removed from a configured base URL ending with it."""
    parameter_settings: dict[str, str] = field(default_factory=dict[str, str])
    """Query/header parameter wire name -> the setting whose value it takes when a call omits
    it (Camunda: ``{"tenantId": "tenant_id"}``)."""
    pagination: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    renames: Renames = field(default_factory=Renames)
    worker_adapter: Literal["camunda", "conductor"] | None = None
    """``[worker] adapter``: vendor ``_runtime/worker`` and give ``AsyncClient`` job workers."""
    path: Path | None = None
    # -- issue 17 (wire): resource grouping and names derived from the schema ---------------
    groups: dict[str, str] = field(default_factory=dict[str, str])
    """fnmatch pattern over path or operationId -> resource; wins over tags and the path rule."""

    @property
    def dist_name(self) -> str:
        """The SDK's distribution name."""
        return self.distribution or self.package.replace("_", "-")

    @property
    def prefix(self) -> str:
        """The SDK's environment variable prefix."""
        return self.env_prefix or self.package.upper()


def derive_names(config: GeneratorConfig, document: dict[str, Any]) -> GeneratorConfig:
    """``config`` with the package and environment prefix it does not set taken from the
    schema's ``info.title`` (or its first server's host): ``Stripe API`` → ``stripe_client``
    and ``STRIPE_*`` settings."""
    if config.package:  # a package the user named also names the settings (``prefix``)
        return config
    from dataclasses import replace

    from loom.codegen.ir.names import api_name

    info = document.get("info")
    title = cast(dict[str, Any], info).get("title") if isinstance(info, dict) else None
    servers = document.get("servers")
    first = cast(list[Any], servers)[0] if isinstance(servers, list) and servers else None
    url = cast(dict[str, Any], first).get("url") if isinstance(first, dict) else None
    name = api_name(title if isinstance(title, str) else "", url if isinstance(url, str) else "")
    package = f"{name}_client" if name else "api_client"
    env_prefix = config.env_prefix or (name.upper() if name else package.upper())
    return replace(config, package=package, env_prefix=env_prefix)


def load_config(path: Path | None) -> GeneratorConfig:
    """Read a configuration file; ``None`` gives the defaults.

    Raises:
        FatalSchemaError: the file is missing, is not TOML, has an unknown key or a bad value
            (one line per problem, each with the file, the line and the dotted key).
    """
    if path is None:
        return GeneratorConfig()
    from loom.codegen.config_file import parse_file  # pydantic: only when there is a file

    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise FatalSchemaError(f"{path}: configuration file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FatalSchemaError(f"{path}: not valid TOML: {exc}") from None
    try:
        parsed = parse_file(data, text, str(path))
    except ValueError as exc:
        raise FatalSchemaError(str(exc)) from None
    sdk, runtime = parsed.sdk, parsed.runtime

    def hook_dir(value: str | None) -> Path | None:
        return None if value is None else (path.parent / value).resolve()

    return GeneratorConfig(
        package=sdk.package or "",
        distribution=sdk.distribution,
        version=sdk.version,
        layout=sdk.layout,
        source=sdk.source,
        error_classes=sdk.error_classes,
        body_style=sdk.body_style,
        include_tags=tuple(sdk.include_tags),
        idempotent=tuple(sdk.idempotent),
        operation_names=dict(parsed.names.operations),
        model_names=dict(parsed.names.models),
        pre_hooks=hook_dir(parsed.hooks.pre),
        post_hooks=hook_dir(parsed.hooks.post),
        env_prefix=runtime.env_prefix,
        env_names=dict(runtime.env_names),
        env_aliases={
            k: (v,) if isinstance(v, str) else tuple(v) for k, v in runtime.env_aliases.items()
        },
        setting_defaults={
            k: tuple(v) if isinstance(v, list) else v for k, v in runtime.setting_defaults.items()
        },
        base_url_suffix=runtime.base_url_suffix,
        base_url_drop_suffix=runtime.base_url_drop_suffix,
        token_exchange=(
            None
            if runtime.token_exchange is None
            else runtime.token_exchange.model_dump(exclude_none=True)
        ),
        parameter_settings=dict(runtime.parameter_settings),
        pagination={
            op: spec.model_dump(exclude_none=True) for op, spec in parsed.pagination.items()
        },
        renames=Renames(
            operations=dict(parsed.renames.operations),
            models=dict(parsed.renames.models),
            fields=dict(parsed.renames.fields),
            parameters=dict(parsed.renames.parameters),
        ),
        worker_adapter=parsed.worker.adapter,
        path=path.resolve(),
        groups=dict(parsed.groups),
    )
