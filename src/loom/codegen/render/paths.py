"""The ``paths`` layout: one class per path prefix, ``client.nodes("pve1").qemu(100).status.get()``.

Each literal segment of a path is a property, each segment with ``{variables}`` a call taking
them; the class at the end of a path has a method per HTTP verb (``get``, ``post`` …). Every
class lives in its own module under ``paths/`` with its async twin, and a property imports
its child's module when it is first used, so a client loads only the modules of the paths it
walks. Body fields are keyword arguments of the verb method (the body is the mapping of the
given ones); query parameters too; path variables come from the navigation only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from loom.codegen.ir import names as N
from loom.codegen.ir.model import Api, Model, Operation, TypeRef
from loom.codegen.render.annotations import Imports, annotation, docstring
from loom.codegen.render.operations import const_name, operation_constant
from loom.codegen.render.order import from_import_lines
from loom.codegen.render.package import Context, resolve_names

__all__ = ["PathTree", "build_tree", "navigation", "render_path_modules", "render_paths_client"]

_VAR = re.compile(r"\{([^{}]+)\}")
_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
_OPTIONS = {"extra_headers", "extra_query", "http_timeout", "self"}
# Attributes of the generated clients that a root segment must not shadow.
_CLIENT_ATTRS = {
    "request",
    "request_raw",
    "paginate",
    "with_options",
    "close",
    "aclose",
    "sdk_info",
    "base_url",
    "settings",
    "max_retries",
    "wait_task",
}
_ANNOTATION_BUILTINS = {"list", "dict", "str", "int", "float", "bool", "bytes", "type", "object"}


@dataclass
class PathTree:
    """One path prefix: its class, its children and the operations at it.

    Attributes:
        class_name: the sync class (``Async`` + it is the async twin).
        module: the module under ``paths/``.
        children: literal children by attribute name.
        call: the child reached by calling this node, and the names of the variables it takes.
        operations: the operations of this exact path, by verb.
        values: how many path values a node of this class holds.
    """

    class_name: str
    module: str
    values: int
    children: dict[str, PathTree] = field(default_factory=dict[str, "PathTree"])
    segments: dict[str, str] = field(default_factory=dict[str, str])
    call: tuple[PathTree, tuple[str, ...]] | None = None
    call_types: dict[str, TypeRef] = field(default_factory=dict[str, TypeRef])
    operations: dict[str, Operation] = field(default_factory=dict[str, Operation])
    skipped: list[Operation] = field(default_factory=list[Operation])


def build_tree(api: Api, taken: set[str]) -> PathTree:
    """The tree of every operation's path; ``taken`` holds class names already in use."""
    root = PathTree("Client", "", 0)
    modules: set[str] = set()

    def child_of(parent: PathTree, words: list[str], values: int) -> PathTree:
        cls = N.safe_class_name(N.pascal(" ".join(words)) or "Root")
        while cls in taken or "Async" + cls in taken:
            cls += "Path"
        taken.update((cls, "Async" + cls))
        module = N.dedupe(N.snake(cls), modules)
        modules.add(module)
        return PathTree(cls, module, values)

    for op in api.operations:
        segments = [s for s in op.path.split("/") if s]
        if not segments or "{" in segments[0]:
            root.skipped.append(op)  # no attribute to start from: the flat layout serves these
            continue
        node = root
        words: list[str] = []
        values = 0
        for seg in segments:
            names = _VAR.findall(seg)
            words.extend(names or [seg])
            if names:
                values += len(names)
                if node.call is None:
                    node.call = (child_of(node, words, values), tuple(names))
                child, call_names = node.call
                for name, call_name in zip(names, call_names, strict=False):
                    p = next((p for p in op.params if p.wire == name), None)
                    if p is not None and call_name not in node.call_types:
                        node.call_types[call_name] = p.type
                node = child
                continue
            attr = node.segments.get(seg)
            if attr is None:
                reserved: set[str] = set(_VERBS) | (_CLIENT_ATTRS if node is root else set())
                attr = N.safe_method(N.snake(seg) or "root", taken=set(node.children) | reserved)
                if attr in reserved:
                    attr += "_"
                node.segments[seg] = attr
                node.children[attr] = child_of(node, words, values)
            node = node.children[attr]
        verb = op.method.lower()
        if verb in node.operations:
            root.skipped.append(op)
            continue
        node.operations[verb] = op
    return root


def walk(tree: PathTree) -> list[PathTree]:
    """Every node below ``tree`` (not ``tree`` itself), parents first."""
    out: list[PathTree] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        kids = list(node.children.values())
        if node.call is not None:
            kids.append(node.call[0])
        out.extend(kids)
        stack.extend(reversed(kids))
    return out


def navigation(tree: PathTree) -> dict[int, str]:
    """``nodes(node).qemu(vmid).status.start.post`` for every operation (by ``id``)."""
    out: dict[int, str] = {}

    def visit(node: PathTree, prefix: str) -> None:
        for verb, op in node.operations.items():
            out[id(op)] = f"{prefix}.{verb}".lstrip(".")
        for attr, child in node.children.items():
            visit(child, f"{prefix}.{attr}")
        if node.call is not None:
            child, names = node.call
            visit(child, f"{prefix}({', '.join(N.snake(n) for n in names)})")

    visit(tree, "")
    return out


def render_path_modules(tree: PathTree, ctx: Context) -> dict[str, str]:
    """``paths/<module>.py`` for every node, and ``paths/__init__.py``."""
    pkg = ctx.config.package
    files = {
        f"{pkg}/paths/__init__.py": f'{ctx.header}\n"""One module per path prefix, imported on '
        'first use."""\n'
    }
    files[f"{pkg}/paths/_ops/__init__.py"] = (
        f'{ctx.header}\n"""Operations by path, imported by the methods."""\n'
    )
    for node in walk(tree):
        files[f"{pkg}/paths/{node.module}.py"] = _render_node(node, ctx)
        if node.operations:
            files[f"{pkg}/paths/_ops/{node.module}.py"] = _render_ops(node, ctx)
    return files


def _children_members(node: PathTree, imports: Imports, prefix: str, is_async: bool) -> list[str]:
    out: list[str] = []
    receiver = "self" if node.module == "" else "self._client"
    values = "" if node.module == "" else ", self._values"
    for attr, child in node.children.items():
        cls = ("Async" if is_async else "") + child.class_name
        out.append(
            f"    @property\n    def {attr}(self) -> {cls}:\n"
            f"        from {prefix}{child.module} import {cls}\n\n"
            f"        return {cls}({receiver}{values})"
        )
    if node.call is not None:
        child, names = node.call
        cls = ("Async" if is_async else "") + child.class_name
        args: list[str] = []
        for name in names:
            t = node.call_types.get(name, TypeRef("str"))
            ann = annotation(t, imports, runtime=imports.up + "_runtime")
            args.append(f"{N.safe_attribute(N.snake(name), taken=_OPTIONS)}: {ann}")
        joined = ", ".join(a.split(":", 1)[0] for a in args)
        out.append(
            f"    def __call__(self, {', '.join(args)}) -> {cls}:\n"
            f"        from {prefix}{child.module} import {cls}\n\n"
            f"        return {cls}({receiver}, (*self._values, {joined}))"
        )
    return out


def _render_node(node: PathTree, ctx: Context) -> str:
    """The node's module: its classes; model names only for type checkers (no model import)."""
    imports = Imports(up="..")
    imports.shadowed = set(node.children) & _ANNOTATION_BUILTINS
    imports.add(".._runtime.paths", "SyncNode")
    imports.add(".._runtime.paths", "AsyncNode")
    models = {m.name: m for m in ctx.api.models}
    blocks: list[str] = []
    for is_async in (False, True):
        cls = ("Async" if is_async else "") + node.class_name
        base = "AsyncNode" if is_async else "SyncNode"
        doc = docstring(f"``{_template(node)}``", "    ")
        members = ["    __slots__ = ()", *_children_members(node, imports, ".", is_async)]
        for verb, op in node.operations.items():
            members.append(_method(op, verb, node.module, imports, models, is_async=is_async))
        blocks.append(f"class {cls}({base}):\n{doc}\n\n" + "\n\n".join(members))
    type_only = Imports(up="..", names=set(imports.names))
    imports.names.clear()
    resolve_names(type_only, ctx, "..models", "..types")
    for child in [*node.children.values(), *([node.call[0]] if node.call else [])]:
        type_only.add(f".{child.module}", child.class_name)
        type_only.add(f".{child.module}", f"Async{child.class_name}")
    head = imports.render()
    checking = type_only.render()
    if checking:
        imports.add("typing", "TYPE_CHECKING")
        head = imports.render() + "\n\nif TYPE_CHECKING:\n" + _indent(checking)
    return "\n".join(
        [
            ctx.header,
            docstring(f"The ``{_template(node)}`` node of the API."),
            "",
            "from __future__ import annotations",
            "",
            head,
            "",
            "",
            "\n\n\n".join(blocks),
            "",
        ]
    )


def _render_ops(node: PathTree, ctx: Context) -> str:
    """``paths/_ops/<module>.py``: the node's operations, imported by its methods when called
    (so walking a path never imports the models its operations return)."""
    imports = Imports(up="...")
    per_op = ctx.config.error_classes == "per-operation"
    consts: list[str] = []
    for verb, op in node.operations.items():
        consts.append(operation_constant(op, imports, per_op_errors=per_op))
        consts.append(f"{verb.upper()}: Final = {const_name(op)}")
    imports.add("typing", "Final")
    resolve_names(imports, ctx, "...models", "...types")
    return "\n".join(
        [
            ctx.header,
            docstring(f"The operations of ``{_template(node)}``."),
            "",
            "from __future__ import annotations",
            "",
            imports.render(),
            "",
            "\n\n".join(consts),
            "",
        ]
    )


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line else "" for line in text.split("\n"))


def _template(node: PathTree) -> str:
    ops = list(node.operations.values())
    if ops:
        return ops[0].path
    return node.class_name


def _method(
    op: Operation,
    verb: str,
    module: str,
    imports: Imports,
    models: dict[str, Model],
    *,
    is_async: bool,
) -> str:
    rt = imports.up + "_runtime"
    for name in ("Headers", "Query", "TimeoutLike", "NotGiven", "NOT_GIVEN"):
        imports.add(rt + ".types", name)
    required: list[str] = []
    optional: list[str] = []
    doc_args: list[str] = []
    wire_params: list[str] = []
    path_vars = _VAR.findall(op.path)
    for i, var in enumerate(path_vars):
        wire_params.append(f"{var!r}: self._values[{i}]")
    used = set(_OPTIONS)

    def kwarg(name: str, t: TypeRef, is_required: bool, description: str | None) -> str:
        py = N.safe_attribute(name, taken=used)
        used.add(py)
        ann = annotation(t, imports, runtime=rt)
        if is_required:
            required.append(f"{py}: {ann}")
        else:
            optional.append(f"{py}: {ann} | NotGiven = NOT_GIVEN")
        if description:
            doc_args.append(f"{py}: {' '.join(description.split())}")
        return py

    for p in op.params:
        if p.location == "path":
            continue
        py = kwarg(p.name, p.type, p.required, p.description)
        wire_params.append(f"{p.wire!r}: {py}")
    body = "NOT_GIVEN"
    if op.body is not None:
        model = models.get(op.body.type.name) if op.body.type.kind == "model" else None
        if model is not None and model.base is None:
            entries: list[str] = []
            for f in model.fields:
                py = kwarg(f.name, f.type, f.required, f.description)
                entries.append(f"{f.wire!r}: {py}")
            body = "{" + ", ".join(entries) + "}"
        else:
            body = kwarg("body", op.body.type, op.body.required, op.body.description)
    ret = annotation(op.response, imports, runtime=rt)
    params = ["self", "*", *required, *optional]
    params.extend(
        [
            "extra_headers: Headers | None = None",
            "extra_query: Query | None = None",
            "http_timeout: TimeoutLike | NotGiven = NOT_GIVEN",
        ]
    )
    doc_lines = [t.strip() for t in (op.summary, op.description) if t and t.strip()]
    if not doc_lines:
        doc_lines.append(f"{op.method} {op.path}")
    doc_args.append("extra_headers: headers for this call.")
    doc_args.append("extra_query: query parameters for this call.")
    doc_args.append(
        "http_timeout: seconds, an ``httpx.Timeout``, or ``None``; default: the client's."
    )
    doc_lines.append("Args:\n" + "\n".join("    " + a for a in doc_args))
    deco = ""
    if op.deprecated:
        imports.add("typing_extensions", "deprecated")
        deco = f"    @deprecated({(op.operation_id + ' is deprecated')!r})\n"
    separator = "\n\n"
    prefix = "async def" if is_async else "def"
    await_ = "await " if is_async else ""
    const = verb.upper()
    call = (
        f"self._client.request({const}, {{{', '.join(wire_params)}}}, {body}, "
        "extra_headers=extra_headers, extra_query=extra_query, timeout=http_timeout)"
    )
    joined = ",\n        ".join(params)
    return (
        f"{deco}    {prefix} {verb}(\n        {joined},\n    ) -> {ret}:\n"
        f"{docstring(separator.join(doc_lines), '        ')}\n"
        f"        from ._ops.{module} import {const}\n\n"
        f"        return {await_}{call}"
    )


def render_paths_client(tree: PathTree, ctx: Context, sdk: str, imports: Imports) -> str:
    """``_client.py`` of the paths layout: the root segments are properties of the clients."""
    from loom.codegen.render.package import client_bases, client_doc

    imports.add("typing", "ClassVar")
    bases = client_bases(ctx, imports)
    blocks: list[str] = []
    type_only: dict[str, list[str]] = {}
    for is_async, base in ((False, bases[0]), (True, bases[1])):
        cls = "AsyncClient" if is_async else "Client"
        members = ["    sdk_info: ClassVar[SdkInfo] = _SDK"]
        members.extend(_children_members(tree, imports, ".paths.", is_async))
        doc = docstring(client_doc(ctx.api, is_async), "    ")
        blocks.append(f"class {cls}({base}):\n{doc}\n\n" + "\n\n".join(members))
    for child in tree.children.values():
        type_only.setdefault(f".paths.{child.module}", []).extend(
            [f"Async{child.class_name}", child.class_name]
        )
    head = imports.render()
    if type_only:
        imports.add("typing", "TYPE_CHECKING")
        head = (
            imports.render()
            + "\n\nif TYPE_CHECKING:\n"
            + "\n".join(from_import_lines(type_only, indent="    "))
        )
    return "\n".join(
        [
            ctx.header,
            '"""The API clients: ``Client`` (sync) and ``AsyncClient`` (asyncio)."""',
            "",
            "from __future__ import annotations",
            "",
            head,
            "",
            sdk,
            "",
            "",
            "\n\n\n".join(blocks),
            "",
        ]
    )
