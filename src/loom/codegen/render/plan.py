"""Which files an SDK has, and what goes in each (before formatting)."""

from __future__ import annotations

from dataclasses import dataclass

from loom.codegen.config import GeneratorConfig
from loom.codegen.ir.model import Api
from loom.codegen.render.docs import render_models_readme, render_pyproject, render_readme
from loom.codegen.render.models import render_model_module, render_models_init
from loom.codegen.render.modules import alias_cycles, plan_modules
from loom.codegen.render.package import (
    Context,
    render_client,
    render_errors,
    render_init,
    render_manifest,
    render_resource,
    render_types,
)
from loom.codegen.render.params import request_shapes

MODELS_RUNTIME = frozenset({"__init__.py", "models.py", "types.py"})
"""The runtime modules a models-only package carries (models import nothing else)."""


@dataclass(frozen=True)
class Plan:
    """The SDK's files before formatting.

    Attributes:
        files: every file's text by relative path.
        formatted: the Python files already written exactly as ``ruff format`` would write them
            (most model modules, and the runtime, which is loom's own formatted source); only
            the others need the formatting pass.
    """

    files: dict[str, str]
    formatted: frozenset[str]


def plan_files(
    api: Api, config: GeneratorConfig, header: str, *, runtime_files: dict[str, str]
) -> Plan:
    """Every file of the SDK by relative path; deterministic for the same inputs."""
    modules, where = plan_modules(api)
    shapes = request_shapes(api, config.body_style)
    for name, param in shapes.names.items():
        where[param] = where[name]
    semantic = {s.name for s in api.semantic_types}
    ctx = Context(
        api=api, config=config, header=header, where=where, semantic=semantic, shapes=shapes
    )
    pkg = config.package
    files: dict[str, str] = {}
    # A document with components and no operations (OpenAPI 3.1 allows it) is a models package:
    # models, id types and the part of the runtime they use; no client, resources or errors.
    models_only = not api.operations and not api.skipped
    files[f"{pkg}/__init__.py"] = render_init(ctx, models_only=models_only)
    if not models_only:
        files[f"{pkg}/_client.py"] = render_client(ctx)
        files[f"{pkg}/errors.py"] = render_errors(ctx)
    files[f"{pkg}/types.py"] = render_types(ctx)
    files[f"{pkg}/py.typed"] = ""
    recursive = alias_cycles(modules)
    files[f"{pkg}/models/__init__.py"] = render_models_init(modules, header, api.renames, shapes)
    formatted: set[str] = set()
    for m in modules:
        rel = f"{pkg}/models/{m.name}.py"
        files[rel], is_formatted = render_model_module(
            m, where, semantic, recursive, header, api.renames, shapes
        )
        if is_formatted:
            formatted.add(rel)
    if config.layout == "resources" and not models_only:
        files[f"{pkg}/resources/__init__.py"] = (
            f'{header}\n"""One module per group of operations, imported on first use."""\n'
        )
        for r in api.resources:
            files[f"{pkg}/resources/{r.module}.py"] = render_resource(r, ctx)
    if config.layout == "paths":
        from loom.codegen.render.package import path_tree
        from loom.codegen.render.paths import render_path_modules

        files.update(render_path_modules(path_tree(ctx), ctx))
    for rel, text in runtime_files.items():
        if not _needs_runtime_file(rel, ctx) or (models_only and rel not in MODELS_RUNTIME):
            continue
        files[f"{pkg}/_runtime/{rel}"] = f"{header}\n{text}"
        formatted.add(f"{pkg}/_runtime/{rel}")
    if models_only:
        files["README.md"] = render_models_readme(ctx)
        files["pyproject.toml"] = render_pyproject(ctx, models_only=True)
        files["loom-manifest.json"] = render_manifest(ctx)
        return Plan(files, frozenset(formatted))
    files["README.md"] = render_readme(ctx)
    files["pyproject.toml"] = render_pyproject(ctx)
    files["CONFIGURATION.md"] = _configuration(ctx)
    files["loom-manifest.json"] = render_manifest(ctx)
    return Plan(files, frozenset(formatted))


def _needs_runtime_file(rel: str, ctx: Context) -> bool:
    """The Proxmox dialect and the paths layout's bases are vendored only into SDKs using them."""
    if rel.startswith("proxmox"):
        return ctx.api.extensions.get("x-loom-dialect") == "proxmox"
    if rel == "paths.py":
        return ctx.config.layout == "paths"
    return True


def _configuration(ctx: Context) -> str:
    from loom.codegen.render.sdkinfo import sdk_info

    try:
        from loom.runtime.config_doc import render as render_configuration_md
    except ImportError:  # the runtime's renderer is not there: say so, do not invent settings
        return f"<!-- {ctx.header.lstrip('# ')} -->\n# Configuration\n\nSee the runtime docs.\n"
    text = render_configuration_md(sdk_info(ctx))
    if ctx.api.extensions.get("x-loom-dialect") == "proxmox":
        from loom.runtime.proxmox_settings import configuration_section

        text += configuration_section(ctx.config.prefix)
    return f"<!-- {ctx.header.lstrip('# ')} -->\n{text}"
