"""Rendering of the SDK package: resources, clients, errors, types, README and metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from loom.codegen.config import GeneratorConfig
from loom.codegen.ir.model import Api, Operation, Resource
from loom.codegen.renames import ResolvedRenames
from loom.codegen.render.aliases import keyword_decorator, method_aliases
from loom.codegen.render.annotations import Imports, docstring
from loom.codegen.render.methods import MethodText, method_text, twin_lines
from loom.codegen.render.operations import operation_constant, per_operation_errors
from loom.codegen.render.order import all_sort_key, from_import_lines, member_sort_key
from loom.codegen.render.params import RequestShapes

if TYPE_CHECKING:
    from loom.codegen.render.paths import PathTree


@dataclass(frozen=True)
class Context:
    """What every renderer needs besides the IR."""

    api: Api
    config: GeneratorConfig
    header: str
    where: dict[str, str]
    semantic: set[str]
    shapes: RequestShapes


def resolve_names(imports: Imports, ctx: Context, models_pkg: str, types_mod: str) -> None:
    """Import every model and semantic type name ``imports`` recorded from where it lives."""
    for name in sorted(imports.names):
        if name in ctx.semantic:
            imports.add(types_mod, name)
        elif name in ctx.where:
            imports.add(f"{models_pkg}.{ctx.where[name]}", name)


def _twin_classes(
    texts: list[MethodText],
    names: tuple[str, str, str, str],
    bases: tuple[str, str],
    docs: tuple[str, str],
    imports: Imports,
    *,
    sync_members: list[str],
    async_members: list[str],
    renames: ResolvedRenames | None = None,
    alias_attr: str = "",
) -> list[str]:
    """The sync class (the methods, written once) and its three one-line-per-method twins.

    Old names kept by ``[renames]`` are deprecated methods of the sync class calling the new
    ones; the twins bind them like any method (their pagers are the new name's, unwarned).
    """
    sync, asyn, raw, araw = names
    imports.add("functools", "cached_property")
    imports.add(imports.up + "_runtime.methods", "RawView")

    def raw_prop(view: str) -> str:
        return (
            "    @cached_property\n"
            f"    def with_raw_response(self) -> {view}:\n"
            '        """The same methods, returning the raw response: status, headers, body."""\n'
            f"        return {view}(self)"
        )

    methods: list[str] = []
    for m in texts:
        pagers = twin_lines([m], sync, "pager", imports, with_pagers=False)
        methods.append(m.text + ("\n\n" + "\n".join(pagers) if pagers else ""))
    aliases = renames.methods_of(alias_attr) if renames is not None else []
    methods.extend(method_aliases(aliases, imports, pagers=False))
    items = {m.name: m.items for m in texts}
    alias_texts = [
        MethodText("", a.old, items.get(a.new), deprecated=True, pager_of=a.new) for a in aliases
    ]
    for a in alias_texts:
        if a.items is not None:
            imports.add(imports.up + "_runtime.methods", "pager")
            methods.append(f"    {a.name}_all = pager({a.pager_of}, {a.items})")
    texts = [*texts, *alias_texts]
    blocks = [
        _class(sync, bases[0], docs[0], [*sync_members, raw_prop(raw), *methods]),
        _class(
            asyn,
            bases[1],
            docs[1],
            [
                *async_members,
                raw_prop(araw),
                "\n".join(twin_lines(texts, sync, "async", imports, with_pagers=True)),
            ],
        ),
    ]
    for cls, kind in ((raw, "raw"), (araw, "async_raw")):
        lines = twin_lines(texts, sync, kind, imports, with_pagers=False)
        doc = f"``{cls[: -len('WithRawResponse')]}`` methods that return the raw response."
        blocks.append(_class(cls, "RawView", doc, ["\n".join(lines)] if lines else []))
    return blocks


def _class(name: str, base: str, doc: str, members: list[str]) -> str:
    members = [m for m in members if m]
    head = f"class {name}({base}):\n{docstring(doc, '    ')}"
    if not members:
        return head
    return head + "\n\n" + "\n\n".join(members)


def _texts(
    ops: tuple[Operation, ...], ctx: Context, imports: Imports, *, flat: bool
) -> list[MethodText]:
    receiver = "self" if flat else "self._client"
    return [
        method_text(
            op,
            imports,
            ctx.shapes,
            name=op.flat_name if flat else op.method_name,
            receiver=receiver,
            style=ctx.config.body_style,
            decorator=keyword_decorator(op, ctx.api.renames, imports),
        )
        for op in ops
    ]


def render_resource(resource: Resource, ctx: Context) -> str:
    """``resources/<tag>.py``: the sync resource, its asyncio twin and their raw views."""
    imports = Imports()
    names = {op.method_name for op in resource.operations}
    imports.shadowed = _shadowed(names | {n + "_all" for n in names})
    per_op = ctx.config.error_classes == "per-operation"
    consts = [
        operation_constant(
            op, imports, per_op_errors=per_op, default_security=ctx.api.default_security
        )
        for op in resource.operations
    ]
    texts = _texts(resource.operations, ctx, imports, flat=False)
    imports.add(".._runtime.resource", "SyncResource")
    imports.add(".._runtime.resource", "AsyncResource")
    c = resource.class_name
    doc = resource.description or f"Operations of the {resource.tag!r} group."
    blocks = _twin_classes(
        texts,
        (c, f"Async{c}", f"{c}WithRawResponse", f"Async{c}WithRawResponse"),
        ("SyncResource", "AsyncResource"),
        (doc, f"The asyncio twin of ``{c}``: the same methods, awaited."),
        imports,
        sync_members=[],
        async_members=[],
        renames=ctx.api.renames,
        alias_attr=resource.attr,
    )
    resolve_names(imports, ctx, "..models", "..types")
    return "\n".join(
        [
            ctx.header,
            docstring(f"The {resource.tag} operations."),
            "",
            "from __future__ import annotations",
            "",
            imports.render(),
            "",
            "\n\n".join(consts),
            "",
            "",
            "\n\n\n".join(blocks),
            "",
        ]
    )


def render_client(ctx: Context) -> str:
    """``_client.py``: ``Client`` and ``AsyncClient``."""
    api = ctx.api
    imports = Imports(up=".")
    imports.add("typing", "ClassVar")
    from loom.codegen.render.sdkinfo import sdk_info_source

    sdk = sdk_info_source(ctx, imports)
    sync_base, async_base = client_bases(ctx, imports)
    if ctx.config.layout == "paths":
        from loom.codegen.render.paths import render_paths_client

        return render_paths_client(path_tree(ctx), ctx, sdk, imports)
    flat = ctx.config.layout == "flat"
    blocks: list[str] = []
    consts: list[str] = []
    if flat:
        ops = tuple(api.operations)
        names = {op.flat_name for op in ops}
        imports.shadowed = _shadowed(names | {n + "_all" for n in names})
        per_op = ctx.config.error_classes == "per-operation"
        consts = [
            operation_constant(
                op, imports, per_op_errors=per_op, default_security=ctx.api.default_security
            )
            for op in ops
        ]
        texts = _texts(ops, ctx, imports, flat=True)
        prelude = "    sdk_info: ClassVar[SdkInfo] = _SDK"
        blocks = _twin_classes(
            texts,
            ("Client", "AsyncClient", "ClientWithRawResponse", "AsyncClientWithRawResponse"),
            (sync_base, async_base),
            (client_doc(api, False), client_doc(api, True)),
            imports,
            sync_members=[prelude],
            async_members=["\n".join([prelude, *_worker_member(ctx)])],
            renames=api.renames,
        )
        resolve_names(imports, ctx, ".models", ".types")
        body = "\n\n\n".join(blocks)
        import_text = imports.render()
        consts_text = "\n\n".join(consts)
    else:
        if api.resources:
            imports.add("functools", "cached_property")
            imports.add("typing", "TYPE_CHECKING")
        type_imports: dict[str, list[str]] = {}
        sync_props: list[str] = []
        async_props: list[str] = []
        for r in api.resources:
            type_imports[f".resources.{r.module}"] = [f"Async{r.class_name}", r.class_name]
            for props, cls in ((sync_props, r.class_name), (async_props, f"Async{r.class_name}")):
                doc = docstring(r.description or f"Operations of the {r.tag} group.", "        ")
                doc = doc.split("\n")[0] if "\n" not in doc else doc
                props.append(
                    f"    @cached_property\n    def {r.attr}(self) -> {cls}:\n"
                    + (f"{doc}\n" if doc else "")
                    + f"        from .resources.{r.module} import {cls}\n\n"
                    f"        return {cls}(self)"
                )
        for cls, base, props, is_async in (
            ("Client", sync_base, sync_props, False),
            ("AsyncClient", async_base, async_props, True),
        ):
            doc = docstring(client_doc(api, is_async), "    ")
            members = [
                "\n".join(
                    [
                        "    sdk_info: ClassVar[SdkInfo] = _SDK",
                        *(_worker_member(ctx) if is_async else []),
                    ]
                ),
                *props,
            ]
            blocks.append(f"class {cls}({base}):\n{doc}\n\n" + "\n\n".join(members))
        body = "\n\n\n".join(blocks)
        import_text = imports.render()
        if type_imports:
            import_text += "\n\nif TYPE_CHECKING:\n" + "\n".join(
                from_import_lines(type_imports, indent="    ")
            )
        consts_text = ""
    return "\n".join(
        [
            ctx.header,
            '"""The API clients: ``Client`` (sync) and ``AsyncClient`` (asyncio)."""',
            "",
            "from __future__ import annotations",
            "",
            import_text,
            "",
            sdk,
            "",
            consts_text,
            "",
            "",
            body,
            "",
        ]
    )


def _shadowed(methods: set[str]) -> set[str]:
    """Builtins used in annotations that a method name would shadow inside a class body."""
    used = {"list", "dict", "str", "int", "float", "bool", "bytes", "type", "object"}
    return methods & used


def _worker_member(ctx: Context) -> list[str]:
    adapter = ctx.config.worker_adapter
    return [] if adapter is None else [f'    worker_adapter = "{adapter}"']


def _taken(ctx: Context) -> set[str]:
    """Class names the SDK's modules already use (models, enums, aliases, semantic types)."""
    api = ctx.api
    names = {m.name for m in api.models} | {e.name for e in api.enums}
    return names | {a.name for a in api.aliases} | set(ctx.semantic) | {"Client", "AsyncClient"}


def path_tree(ctx: Context) -> PathTree:
    """The ``paths`` layout's tree of ``ctx``'s API."""
    from loom.codegen.render.paths import build_tree

    return build_tree(ctx.api, _taken(ctx))


def client_bases(ctx: Context, imports: Imports) -> tuple[str, str]:
    """The base classes of ``Client`` and ``AsyncClient``: the runtime's request loops, or a
    dialect's subclasses of them when the document asks for one (``x-loom-dialect: proxmox``).
    """
    if ctx.api.extensions.get("x-loom-dialect") == "proxmox":
        imports.add("._runtime.proxmox", "ProxmoxClient")
        imports.add("._runtime.proxmox", "AsyncProxmoxClient")
        return "ProxmoxClient", "AsyncProxmoxClient"
    imports.add("._runtime.client", "SyncAPIClient")
    if ctx.config.worker_adapter is not None:  # create_job_worker, @client.job_worker, run_workers
        imports.add("._runtime.worker.sdk", "WorkerAsyncAPIClient")
        return "SyncAPIClient", "WorkerAsyncAPIClient"
    imports.add("._runtime.client", "AsyncAPIClient")
    return "SyncAPIClient", "AsyncAPIClient"


def client_doc(api: Api, is_async: bool) -> str:
    """The docstring of a generated client class."""
    kind = "asyncio client" if is_async else "client"
    return (
        f"The {kind} of {api.title} {api.version}.\n\n"
        "Configuration comes from arguments, then environment variables, then an optional "
        ".env file (see CONFIGURATION.md)."
    )


def render_errors(ctx: Context) -> str:
    """``errors.py``: the shared hierarchy, plus per-operation classes when configured."""
    shared = [
        "APIError",
        "APIStatusError",
        "APIConnectionError",
        "APITimeoutError",
        "APIResponseValidationError",
        "BadRequestError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "ConflictError",
        "UnprocessableEntityError",
        "RateLimitError",
        "InternalServerError",
        "ConfigurationError",
        "ConsistencyTimeoutError",
    ]
    classes: list[str] = []
    names = list(shared)
    if ctx.config.error_classes == "per-operation":
        for op in ctx.api.operations:
            for status, name, base in per_operation_errors(op):
                names.append(name)
                classes.append(f'class {name}({base}):\n    """{status} from {op.operation_id}."""')
    tree = (
        '"""Errors raised by the SDK.\n\n'
        "APIError\n"
        " ├── APIStatusError (any non-2xx answer)\n"
        " │    ├── BadRequestError (400)\n"
        " │    ├── AuthenticationError (401)\n"
        " │    ├── PermissionDeniedError (403)\n"
        " │    ├── NotFoundError (404)\n"
        " │    ├── ConflictError (409)\n"
        " │    ├── UnprocessableEntityError (422)\n"
        " │    ├── RateLimitError (429)\n"
        " │    └── InternalServerError (5xx)\n"
        " ├── APIConnectionError\n"
        " │    └── APITimeoutError\n"
        " ├── APIResponseValidationError\n"
        " ├── ConsistencyTimeoutError\n"
        " └── ConfigurationError\n"
        '"""'
    )
    all_list = "\n".join(f"    {n!r}," for n in sorted(names, key=all_sort_key))
    return "\n".join(
        [
            ctx.header,
            tree,
            "",
            "from ._runtime.errors import (",
            *(f"    {n}," for n in sorted(shared, key=member_sort_key)),
            ")",
            "",
            f"__all__ = [\n{all_list}\n]",
            "",
            "",
            "\n\n\n".join(classes),
            "",
        ]
    )


def render_types(ctx: Context) -> str:
    """``types.py``: semantic id types and the sentinel/file types users need."""
    lines = [
        ctx.header,
        '"""Distinct id types (``x-semantic-type``), and the types that calls take."""',
        "",
        "from typing import NewType" if ctx.api.semantic_types else "",
        "",
        "from ._runtime.types import NOT_GIVEN, FileContent, FileTypes, NotGiven",
        "",
    ]
    names = ["NOT_GIVEN", "FileContent", "FileTypes", "NotGiven"]
    for s in sorted(ctx.api.semantic_types, key=lambda s: s.name):
        names.append(s.name)
        lines.append(f"{s.name} = NewType({s.name!r}, str)")
        ds = docstring(s.description)
        if ds:
            lines.append(ds)
        lines.append("")
    all_list = "\n".join(f"    {n!r}," for n in sorted(names, key=all_sort_key))
    lines.append(f"__all__ = [\n{all_list}\n]")
    lines.append("")
    return "\n".join(lines)


def render_init(ctx: Context, *, models_only: bool = False) -> str:
    """The package's ``__init__``: lazy exports of the clients, errors and types (a models-only
    package: of its models and types)."""
    exports = {"NOT_GIVEN": ".types", "NotGiven": ".types"}
    if not models_only:
        exports.update(
            {"Client": "._client", "AsyncClient": "._client", "RawResponse": "._runtime.response"}
        )
    for n in (
        ()
        if models_only
        else (
            "APIError",
            "APIStatusError",
            "APIConnectionError",
            "APITimeoutError",
            "BadRequestError",
            "AuthenticationError",
            "PermissionDeniedError",
            "NotFoundError",
            "ConflictError",
            "UnprocessableEntityError",
            "RateLimitError",
            "InternalServerError",
            "ConfigurationError",
        )
    ):
        exports[n] = ".errors"
    subpackages = ["models", "types"] if models_only else ["errors", "models", "types"]
    lazy_modules = ", ".join(f'"{n}"' for n in ("models", "types", "errors") if n in subpackages)
    by_module: dict[str, list[str]] = {".": subpackages}
    for name, mod in exports.items():
        by_module.setdefault(mod, []).append(name)
    type_imports = "\n".join(from_import_lines(by_module, indent="    "))
    table = "\n".join(f"    {k!r}: {v!r}," for k, v in sorted(exports.items()))
    all_list = "\n".join(f"    {k!r}," for k in sorted([*exports, *subpackages], key=all_sort_key))
    title = docstring(f"{ctx.api.title} {ctx.api.version}: Python SDK generated by loom.")
    return f"""{ctx.header}
{title}

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
{type_imports}

__version__ = {ctx.config.version!r}

_EXPORTS: dict[str, str] = {{
{table}
}}

__all__ = [
{all_list}
]


# Type checkers read the imports above, so that a misspelt name is an error (PEP 562: a module
# ``__getattr__`` would make every name valid, typed by its return type).
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        if name in ({lazy_modules}):
            return importlib.import_module(f".{{name}}", __name__)
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(__all__)
"""


def render_manifest(ctx: Context) -> str:
    """``loom-manifest.json``: what the SDK contains and what it skipped, for tools."""
    attrs: dict[int, str] = {}  # by identity: comparing operations field by field is slow
    for r in ctx.api.resources:
        for op in r.operations:
            attrs.setdefault(id(op), r.attr)
    if ctx.config.layout == "paths":
        from loom.codegen.render.paths import navigation

        walks = navigation(path_tree(ctx))
        attrs = {k: v.rsplit(".", 1)[0] for k, v in walks.items()}
    ops = [
        {
            "operation_id": op.operation_id,
            "method": op.method,
            "path": op.path,
            "python_name": op.flat_name
            if ctx.config.layout == "flat"
            else f"{attrs.get(id(op), '')}.{op.method.lower()}"
            if ctx.config.layout == "paths"
            else f"{attrs.get(id(op), '')}.{op.method_name}",
        }
        for op in ctx.api.operations
    ]
    skipped = [{"method": s.method, "path": s.path, "reason": s.reason} for s in ctx.api.skipped]
    data = {
        "layout": ctx.config.layout,
        "package": ctx.config.package,
        "operations": ops,
        "skipped": skipped,
        "models": len(ctx.api.models) + len(ctx.api.enums) + len(ctx.api.aliases),
    }
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
