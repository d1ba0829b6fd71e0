"""Request shapes: the ``TypedDict`` twin of every model a request body can contain.

A method takes a nested request object (in a body or a parameter) as the model or as a plain
dict; the dict is typed by ``<Model>Param``, a ``TypedDict`` with the wire names as keys,
``Required[...]`` for the required fields and the field's Python type, widened for input: a
model becomes ``Model | ModelParam``, a list ``Sequence[...]``, a dict ``Mapping[str, ...]``, an
enum ``Enum | Literal[values]``. A type alias whose target holds such a model (or an enum) gets
a ``<Alias>Param`` alias of the widened target. Read-only fields are left out: the server sets
them.

Each ``Param`` lives in its model's module (same import graph as the models); keys that are
not plain ASCII identifiers (``$eq``, ``from``) use the functional ``TypedDict("X", {...})``
form, with string annotations so that nothing is evaluated out of order.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass

from loom.codegen.ir.model import Alias, Api, Enum, Model, ModelField, Operation, TypeRef
from loom.codegen.pyliteral import py_literal, py_string
from loom.codegen.render.annotations import Imports, annotation, docstring

__all__ = ["RequestShapes", "body_fields", "input_annotation", "render_param", "request_shapes"]


@dataclass(frozen=True)
class RequestShapes:
    """Which definitions have a request shape, and its name.

    Attributes:
        names: model or alias name → its ``Param`` name.
        models: the API's models by name (for the flattened fields of a shape).
        enums: the API's enums by name (an enum argument also takes its values as literals).
    """

    names: dict[str, str]
    models: dict[str, Model]
    enums: dict[str, Enum]

    def fields(self, m: Model) -> list[ModelField]:
        """Every field a request may send: the bases' first, read-only ones left out."""
        chain: list[Model] = []
        node: Model | None = m
        while node is not None and node not in chain:
            chain.append(node)
            node = self.models.get(node.base) if node.base else None
        by_wire: dict[str, ModelField] = {}
        for model in reversed(chain):
            for f in model.fields:
                by_wire[f.wire] = f
        return [f for f in by_wire.values() if not f.read_only]


def body_fields(op: Operation, shapes: RequestShapes, style: str) -> list[ModelField] | None:
    """The body fields that become arguments (style ``fields``, a JSON object body), or
    ``None`` when the body is one ``body=`` argument."""
    body = op.body
    if style != "fields" or body is None or body.type.kind != "model" or body.type.nullable:
        return None
    ct = body.content_type.split(";")[0].strip().lower()
    if not (ct == "application/json" or ct.endswith("+json")):
        return None
    model = shapes.models.get(body.type.name)
    if model is None or model.extra_type is not None:
        return None
    return shapes.fields(model) or None


def request_shapes(api: Api, style: str = "fields") -> RequestShapes:
    """The models a call can take as a dict (in a ``body=``, a parameter, or nested in a body
    field), and the aliases that lead to them. A body whose fields are arguments needs no
    shape of its own (``body=`` takes the model)."""
    models = {m.name: m for m in api.models}
    aliases = {a.name: a for a in api.aliases}
    shapes = RequestShapes({}, models, {e.name: e for e in api.enums})
    reached: set[str] = set()
    stack: list[TypeRef] = []
    for op in api.operations:
        stack.extend(p.type for p in op.params)
        if op.body is None:
            continue
        fields = body_fields(op, shapes, style)
        if fields is None:
            stack.append(op.body.type)
        else:
            stack.extend(f.type for f in fields)
    while stack:
        t = stack.pop()
        stack.extend(t.args)
        if t.kind not in {"model", "alias"} or t.name in reached:
            continue
        reached.add(t.name)
        if t.name in models:
            stack.extend(f.type for f in shapes.fields(models[t.name]))
        elif t.name in aliases:
            stack.append(aliases[t.name].target)
    taken = {*models, *aliases, *(e.name for e in api.enums)}
    taken.update(s.name for s in api.semantic_types)
    wanted = {n for n in reached if n in models}
    changed = True
    enums = {e.name for e in api.enums if e.members}
    while changed:  # an alias needs a shape when its target mentions one, or an enum
        changed = False
        for n in sorted(reached - wanted):
            if n in aliases and any(x in wanted or x in enums for x in aliases[n].target.named()):
                wanted.add(n)
                changed = True
    for n in sorted(wanted):
        name = n + "Param"
        i = 2
        while name in taken:
            name = f"{n}Param{i}"
            i += 1
        taken.add(name)
        shapes.names[n] = name
    return shapes


def input_annotation(t: TypeRef, imports: Imports, shapes: RequestShapes, runtime: str) -> str:
    """The annotation of an argument: what ``t`` accepts when the SDK sends it."""
    text = _input(t, imports, shapes, runtime)
    if t.nullable and t.kind not in {"none", "any"}:
        return f"{text} | None"
    return text


def _input(t: TypeRef, imports: Imports, shapes: RequestShapes, runtime: str) -> str:
    param = shapes.names.get(t.name) if t.kind in {"model", "alias"} else None
    if param is not None:
        imports.names.add(param)
        if t.kind == "alias":
            return param
        imports.names.add(t.name)
        return f"{t.name} | {param}"
    enum = shapes.enums.get(t.name) if t.kind == "enum" else None
    if enum is not None and enum.members:
        imports.names.add(t.name)
        imports.add("typing", "Literal")
        values = ", ".join(py_literal(m.value) for m in enum.members)
        return f"{t.name} | Literal[{values}]"
    if t.kind == "list":
        imports.add("collections.abc", "Sequence")
        return f"Sequence[{input_annotation(t.args[0], imports, shapes, runtime)}]"
    if t.kind == "dict":
        imports.add("collections.abc", "Mapping")
        key = imports.builtin("str")
        return f"Mapping[{key}, {input_annotation(t.args[0], imports, shapes, runtime)}]"
    if t.kind == "union":
        parts: list[str] = []
        for a in t.args:
            part = input_annotation(a, imports, shapes, runtime)
            if part not in parts:
                parts.append(part)
        return " | ".join(parts)
    return annotation(t.with_nullable(False), imports, runtime=runtime)


def _is_key(wire: str) -> bool:
    return wire.isascii() and wire.isidentifier() and not keyword.iskeyword(wire)


def render_param(d: Model | Alias, shapes: RequestShapes, imports: Imports) -> str:
    """The ``TypedDict`` (or alias) that is the request shape of ``d``."""
    rt = ".._runtime"
    name = shapes.names[d.name]
    if isinstance(d, Alias):
        imports.add("typing", "TypeAlias")
        return f"{name}: TypeAlias = {input_annotation(d.target, imports, shapes, rt)}"
    imports.add("typing", "TypedDict")
    items: list[tuple[str, str]] = []
    for f in shapes.fields(d):
        ann = input_annotation(f.type, imports, shapes, rt)
        if f.required:
            imports.add("typing", "Required")
            ann = f"Required[{ann}]"
        items.append((f.wire, ann))
    doc = f"The request shape of ``{d.name}``: its fields by wire name."
    if not all(_is_key(k) for k, _ in items):
        pairs = ", ".join(f"{py_string(k)}: {py_string(v)}" for k, v in items)
        return f"{name} = TypedDict({py_string(name)}, {{{pairs}}}, total=False)\n" + docstring(doc)
    lines = [f"class {name}(TypedDict, total=False):", docstring(doc, "    ")]
    if items:
        lines.append("")
        lines.extend(f"    {k}: {v}" for k, v in items)
    return "\n".join(lines)
