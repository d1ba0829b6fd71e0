"""Rendering of ``models/``: one module per group of mutually recursive definitions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from loom.codegen.ir.model import ANY, Alias, Enum, Model, ModelField, TypeRef
from loom.codegen.pyliteral import py_literal, py_string
from loom.codegen.renames import ResolvedRenames
from loom.codegen.render.aliases import field_aliases, renamed_models
from loom.codegen.render.annotations import Imports, annotation, docstring
from loom.codegen.render.layout import call_statement, fits
from loom.codegen.render.modules import ModelModule
from loom.codegen.render.order import all_sort_key, blank_lines_after_imports, from_import_lines
from loom.codegen.render.params import RequestShapes, render_param

_ODD_WHITESPACE = re.compile(r"[^\S\n ]")
_ENUM_MEMBER = re.compile(r"[A-Za-z_]\w*\.[A-Za-z_]\w*")


@dataclass
class _Layout:
    """Whether a module's text is already as ``ruff format`` would write it (see ``layout``)."""

    formatted: bool = True

    def line(self, text: str) -> str:
        """``text`` (one line); a line that ruff would have to split clears ``formatted``."""
        if fits(text) is not True:
            self.formatted = False
        return text

    def lines(self, text: str) -> str:
        """Several lines: each must fit, as for :meth:`line`."""
        for one in text.split("\n"):
            self.line(one)
        return text


def _factory(f: ModelField, imports: Imports) -> str:
    """The field's ``default_factory``; an empty ``list``/``dict`` of containers is spelled with
    its type (``list[list[Cell]]``): pyright strict reads a bare ``list`` there as
    ``list[list[Unknown]]``, and ruff rewrites ``lambda: []`` back to ``list`` (PIE807)."""
    factory = f.default_factory or ""
    t = f.type.with_nullable(False)
    nested = bool(t.args) and t.args[0].kind in {"list", "dict"}
    if factory in {"list", "dict"} and t.kind == factory and nested:
        return annotation(t, imports, runtime=".._runtime")
    return factory


def _field_line(f: ModelField, imports: Imports, request_only: bool, layout: _Layout) -> str:
    ann = annotation(f.type, imports, runtime=".._runtime")
    if f.default is not None and _ENUM_MEMBER.fullmatch(f.default):
        imports.names.add(f.default.split(".", 1)[0])  # an enum member
    default = f.default if f.default is not None else "None"
    args: list[str] = []
    if not f.required:
        if f.default_factory is not None:
            args.append(f"default_factory={_factory(f, imports)}")
        else:
            args.append(f"default={default}")
    if f.name != f.wire:
        args.append(f"validation_alias={py_string(f.wire)}")
        args.append(f"serialization_alias={py_string(f.wire)}")
    if request_only and not f.constraints.is_empty():
        c = f.constraints
        inner_list = f.type.kind == "list"
        for key, value in (
            ("min_length", c.min_length if not inner_list else c.min_items),
            ("max_length", c.max_length if not inner_list else c.max_items),
            ("pattern", c.pattern if f.type.kind == "str" else None),
            ("ge", c.ge),
            ("le", c.le),
            ("gt", c.gt),
            ("lt", c.lt),
            ("multiple_of", c.multiple_of),
        ):
            if value is None:
                continue
            if key in {"ge", "le", "gt", "lt", "multiple_of"} and f.type.kind not in {
                "int",
                "float",
            }:
                continue
            if key in {"min_length", "max_length"} and f.type.kind not in {"str", "list"}:
                continue
            args.append(f"{key}={py_literal(value)}")
    if f.deprecated:
        args.append("deprecated=True")
    if args == [f"default={default}"] and f.default_factory is None:
        line = layout.line(f"    {f.name}: {ann} = {default}")
    elif args:
        imports.add("pydantic", "Field")
        wrapped = call_statement(f"    {f.name}: {ann} = Field", args, "    ")
        if wrapped is None:
            layout.formatted = False
            wrapped = f"    {f.name}: {ann} = Field({', '.join(args)})"
        line = wrapped
    else:
        line = layout.line(f"    {f.name}: {ann}")
    doc = f.description
    if f.read_only:
        doc = (doc + "\n\n" if doc else "") + "Read-only: set by the server."
    if f.write_only:
        doc = (doc + "\n\n" if doc else "") + "Write-only: never returned by the server."
    ds = docstring(doc, "    ")
    return line + ("\n" + ds if ds else "")


def render_model(
    m: Model, imports: Imports, layout: _Layout, renames: ResolvedRenames | None = None
) -> str:
    """One pydantic model class."""
    base = m.base or "BaseModel"
    if m.base is None:
        imports.add(".._runtime.models", "BaseModel")
    else:
        imports.names.add(m.base)
    lines = [layout.line(f"class {m.name}({base}):")]
    doc = m.description
    if m.deprecated:
        doc = (doc + "\n\n" if doc else "") + "Deprecated."
    ds = docstring(doc, "    ", dedent=True)
    if ds:
        lines.append(ds)
    body = [_field_line(f, imports, m.request_only, layout) for f in m.fields]
    kept = field_aliases(m, renames, imports)
    if kept:
        layout.formatted = False
        body.extend(kept)
    if not body and not ds:
        body = ["    pass"]
    if body:
        if ds:
            lines.append("")
        lines.append("\n\n".join(body))
    return "\n".join(lines)


def render_enum(e: Enum, imports: Imports, layout: _Layout) -> str:
    """One open enum class."""
    base = "OpenStrEnum" if e.kind == "str" else "OpenIntEnum"
    imports.add(".._runtime.models", base)
    lines = [layout.line(f"class {e.name}({base}):")]
    ds = docstring(e.description, "    ", dedent=True)
    if ds:
        lines.extend([ds, ""])
    if not e.members:
        lines.append("    pass")
    for mem in e.members:
        lines.append(layout.line(f"    {mem.name} = {py_literal(mem.value)}"))
    return "\n".join(lines)


def render_alias(a: Alias, imports: Imports, layout: _Layout, *, recursive: bool) -> str:
    """One type alias; a self-referencing alias degrades to ``Any`` (said in its docstring)."""
    imports.add("typing", "TypeAlias")
    target: TypeRef = ANY if recursive else a.target
    ann = annotation(target, imports, runtime=".._runtime")
    doc = a.description
    if recursive:
        doc = (doc + "\n\n" if doc else "") + "Recursive type: typed as Any."
    ds = docstring(doc)
    return layout.line(f"{a.name}: TypeAlias = {ann}") + ("\n" + ds if ds else "")


def render_model_module(
    module: ModelModule,
    where: dict[str, str],
    semantic: set[str],
    recursive_aliases: set[str],
    header: str,
    renames: ResolvedRenames | None = None,
    shapes: RequestShapes | None = None,
) -> tuple[str, bool]:
    """A whole ``models/<module>.py``, and whether it is already as ``ruff format`` would
    write it (so that it can skip the formatting pass)."""
    imports = Imports()
    layout = _Layout()
    blocks: list[str] = []
    for d in module.definitions:
        if isinstance(d, Model):
            blocks.append(render_model(d, imports, layout, renames))
        elif isinstance(d, Enum):
            blocks.append(render_enum(d, imports, layout))
        else:
            blocks.append(render_alias(d, imports, layout, recursive=d.name in recursive_aliases))
    own = {d.name for d in module.definitions}
    if shapes is not None:
        for d in module.definitions:
            if d.name in shapes.names and not isinstance(d, Enum):
                blocks.append(layout.lines(render_param(d, shapes, imports)))
                own.add(shapes.names[d.name])
    for name in sorted(imports.names - own):
        if name in semantic:
            imports.add("..types", name)
        elif name in where:
            imports.add("." + where[name], name)
    body = "\n\n\n".join(blocks)
    block = "\n\n".join(filter(None, ["from __future__ import annotations", imports.render()]))
    text = f"{header}\n{block}{blank_lines_after_imports(body)}{body}\n"
    # ``layout.from_import`` splits imports exactly only for ASCII identifiers; and ruff's rules
    # for whitespace other than spaces and newlines in docstrings (a tab, a no-break space in a
    # description) are not mirrored here.
    formatted = layout.formatted and block.isascii() and not _ODD_WHITESPACE.search(text)
    return text, formatted


def render_models_init(
    modules: list[ModelModule],
    header: str,
    renames: ResolvedRenames | None = None,
    shapes: RequestShapes | None = None,
) -> str:
    """``models/__init__.py``: every model (and request shape) by name, imported on first access."""
    entries: list[tuple[str, str]] = sorted(
        [(d.name, m.name) for m in modules for d in m.definitions]
        + [
            (shapes.names[d.name], m.name)
            for m in modules
            for d in m.definitions
            if shapes is not None and d.name in shapes.names
        ]
    )
    if not entries:
        # No lazy table: an empty ``if TYPE_CHECKING:`` and an untyped ``[]`` are what ruff
        # (TC005) and pyright strict (list[Unknown]) would object to.
        return (
            f'{header}\n"""The API declares no models."""\n\nfrom __future__ import annotations'
            "\n\n__all__: list[str] = []\n"
        )
    by_module: dict[str, list[str]] = {}
    for name, mod in entries:
        by_module.setdefault("." + mod, []).append(name)
    type_imports = "\n".join(from_import_lines(by_module, indent="    "))
    table = "\n".join(f"    {py_string(name)}: {py_string(mod)}," for name, mod in entries)
    all_names = "\n".join(
        f"    {py_string(name)}," for name in sorted((n for n, _ in entries), key=all_sort_key)
    )
    old_names, renamed = renamed_models(renames)
    if old_names:
        type_imports += "\n\n" + old_names
        table += (
            "\n}\n\n# Old model names (deprecated): old -> new.\n"
            f"_RENAMED: dict[str, str] = {{\n{renamed}"
        )
        lookup = (
            "        if name in _RENAMED:\n"
            "            from .._runtime.renames import renamed_model\n\n"
            "            return renamed_model(name, _RENAMED[name], __getattr__(_RENAMED[name]))\n"
        )
    else:
        lookup = ""
    return f'''{header}
"""Every model of the API. Each is imported on first access, so importing this is cheap."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
{type_imports or "    pass"}

_MODULES: dict[str, str] = {{
{table}
}}

__all__ = [
{all_names}
]


# Type checkers read the imports above, so that a misspelt name is an error (PEP 562: a module
# ``__getattr__`` would make every name valid, typed by its return type).
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
{lookup}        module = _MODULES.get(name)
        if module is None:
            raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")
        value = getattr(importlib.import_module(f".{{module}}", __name__), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(__all__)
'''
