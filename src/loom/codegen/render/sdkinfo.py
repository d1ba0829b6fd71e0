"""The SDK's ``SdkInfo``: built once as an object (for CONFIGURATION.md) and as source text."""

from __future__ import annotations

from loom.codegen.render.annotations import Imports
from loom.codegen.render.package import Context
from loom.runtime.operation import SdkInfo, SecurityRequirement, SecurityScheme, TokenExchange


def sdk_info(ctx: Context) -> SdkInfo:
    """The ``SdkInfo`` the generated ``_client.py`` declares."""
    cfg, api = ctx.config, ctx.api
    return SdkInfo(
        name=cfg.dist_name,
        version=cfg.version,
        env_prefix=cfg.prefix,
        default_base_url=api.default_base_url,
        env_names=dict(sorted(cfg.env_names.items())),
        security_schemes={
            s.name: SecurityScheme(
                kind=s.kind,  # type: ignore[arg-type]
                scheme=s.scheme,
                name=s.param_name,
                location=s.location,  # type: ignore[arg-type]
                token_url=s.token_url,
                scopes=s.scopes,
            )
            for s in api.security_schemes
        },
        default_security=tuple(SecurityRequirement(r) for r in api.default_security),
        setting_defaults=dict(sorted(cfg.setting_defaults.items())),
        env_aliases=dict(sorted(cfg.env_aliases.items())),
        base_url_suffix=cfg.base_url_suffix,
        base_url_drop_suffix=cfg.base_url_drop_suffix,
        token_exchange=None if cfg.token_exchange is None else TokenExchange(**cfg.token_exchange),  # type: ignore[arg-type]
        parameter_settings=dict(sorted(cfg.parameter_settings.items())),
    )


def sdk_info_source(ctx: Context, imports: Imports) -> str:
    """``_SDK = SdkInfo(...)`` as source text; every value is a ``repr`` of plain data."""
    info = sdk_info(ctx)
    imports.add("._runtime.operation", "SdkInfo")
    args = [
        f"name={info.name!r}",
        f"version={info.version!r}",
        f"env_prefix={info.env_prefix!r}",
        f"default_base_url={info.default_base_url!r}",
    ]
    if info.env_names:
        args.append(f"env_names={dict(info.env_names)!r}")
    if info.security_schemes:
        imports.add("._runtime.operation", "SecurityScheme")
        parts: list[str] = []
        for name, s in info.security_schemes.items():
            fields = [f"kind={s.kind!r}"]
            for key in ("scheme", "name", "location", "token_url"):
                value = getattr(s, key)
                if value is not None:
                    fields.append(f"{key}={value!r}")
            if s.scopes:
                fields.append(f"scopes={s.scopes!r}")
            parts.append(f"{name!r}: SecurityScheme({', '.join(fields)})")
        args.append("security_schemes={" + ", ".join(parts) + "}")
    if info.default_security:
        imports.add("._runtime.operation", "SecurityRequirement")
        reqs = ", ".join(f"SecurityRequirement({r.schemes!r})" for r in info.default_security)
        args.append(f"default_security=({reqs},)")
    if info.setting_defaults:
        args.append(f"setting_defaults={dict(info.setting_defaults)!r}")
    if info.env_aliases:
        args.append(f"env_aliases={dict(info.env_aliases)!r}")
    if info.base_url_suffix:
        args.append(f"base_url_suffix={info.base_url_suffix!r}")
    if info.base_url_drop_suffix:
        args.append(f"base_url_drop_suffix={info.base_url_drop_suffix!r}")
    if info.token_exchange is not None:
        imports.add("._runtime.operation", "TokenExchange")
        args.append(f"token_exchange={info.token_exchange!r}")
    if info.parameter_settings:
        args.append(f"parameter_settings={dict(info.parameter_settings)!r}")
    return "_SDK = SdkInfo(\n    " + ",\n    ".join(args) + ",\n)"
