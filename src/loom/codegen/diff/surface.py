"""The Python API an SDK exposes, as ``loom diff`` compares it.

A ``Surface`` is the part of the IR that user code touches: operations by their Python names
with their parameters, body, and response types; models with their fields, types, required
flags and defaults; enums with their values; type aliases and id types. Every generated SDK
carries its surface as ``loom-api.json`` (compact, without descriptions), so two SDK trees
can be compared without their schemas or configurations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, cast

from loom.codegen.config import GeneratorConfig
from loom.codegen.ir.model import Api, Model, ModelField, Operation, TypeRef

SURFACE_FILE = "loom-api.json"
FORMAT = 1

Kind = Literal["model", "enum", "alias", "semantic"]


@dataclass(frozen=True, slots=True)
class Param:
    """One argument of a method (the body is the argument ``body``)."""

    name: str
    wire: str
    location: str
    type: TypeRef
    required: bool
    positional: bool


@dataclass(frozen=True, slots=True)
class Method:
    """One operation, by its Python name."""

    python: str
    operation_id: str
    method: str
    path: str
    pointer: str
    params: tuple[Param, ...]
    response: TypeRef
    paginated: bool
    deprecated: bool

    @property
    def key(self) -> str:
        """``GET /pets/{}``: the HTTP identity of the operation (path parameter names dropped)."""
        return f"{self.method} {_path_shape(self.path)}"


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a model."""

    name: str
    wire: str
    type: TypeRef
    required: bool
    default: str | None


@dataclass(frozen=True, slots=True)
class Named:
    """A named type: a model (with fields), an enum (with values), an alias (with a target), an
    id type."""

    name: str
    kind: Kind
    pointer: str
    fields: tuple[Field, ...] = ()
    values: tuple[str | int, ...] = ()
    members: tuple[str, ...] = ()
    """For an enum: the member names, in the order of ``values``."""
    target: TypeRef | None = None
    base: str | None = None


@dataclass(frozen=True, slots=True)
class Alias:
    """A deprecated old name the SDK keeps (from ``[renames]``)."""

    kind: Literal["operation", "model", "field", "parameter"]
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Surface:
    """Everything ``loom diff`` compares, for one SDK."""

    package: str
    version: str
    layout: str
    methods: tuple[Method, ...]
    types: tuple[Named, ...]
    aliases: tuple[Alias, ...] = ()


def _path_shape(path: str) -> str:
    out: list[str] = []
    depth = 0
    for ch in path:
        if ch == "{":
            depth += 1
            if depth == 1:
                out.append("{}")
        elif ch == "}":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def python_name(op: Operation, attr: str, layout: str) -> str:
    """The name user code calls: ``resource.method`` (``method`` in the flat layout)."""
    return op.flat_name if layout == "flat" else f"{attr}.{op.method_name}"


def surface_of(api: Api, config: GeneratorConfig, aliases: tuple[Alias, ...] = ()) -> Surface:
    """The surface of the SDK generated from ``api`` with ``config``."""
    methods: list[Method] = []
    for resource in api.resources:
        for op in resource.operations:
            methods.append(_method(op, python_name(op, resource.attr, config.layout)))
    by_name = {m.name: m for m in api.models}
    types: list[Named] = [
        Named(
            m.name,
            "model",
            m.pointer,
            fields=tuple(_field(f) for f in _all_fields(m, by_name)),
            base=m.base,
        )
        for m in api.models
    ]
    types.extend(
        Named(
            e.name,
            "enum",
            e.pointer,
            values=tuple(v.value for v in e.members),
            members=tuple(v.name for v in e.members),
        )
        for e in api.enums
    )
    types.extend(Named(a.name, "alias", a.pointer, target=a.target) for a in api.aliases)
    types.extend(Named(s.name, "semantic", s.pointer) for s in api.semantic_types)
    return Surface(
        package=config.package,
        version=config.version,
        layout=config.layout,
        methods=tuple(methods),
        types=tuple(types),
        aliases=aliases,
    )


def _all_fields(model: Model, by_name: dict[str, Model]) -> list[ModelField]:
    """Own fields after the inherited ones (a subclass field of the same name wins)."""
    chain: list[Model] = []
    current: Model | None = model
    while current is not None and current not in chain:
        chain.append(current)
        current = by_name.get(current.base) if current.base else None
    fields: dict[str, ModelField] = {}
    for m in reversed(chain):
        for f in m.fields:
            fields[f.wire] = f
    return list(fields.values())


def _method(op: Operation, python: str) -> Method:
    params = [
        Param(p.name, p.wire, p.location, p.type, p.required, p.location == "path")
        for p in op.params
    ]
    if op.body is not None:
        params.insert(0, Param("body", "", "body", op.body.type, op.body.required, False))
    return Method(
        python=python,
        operation_id=op.operation_id,
        method=op.method,
        path=op.path,
        pointer=op.pointer,
        params=tuple(params),
        response=op.response,
        paginated=op.pagination is not None,
        deprecated=op.deprecated,
    )


def _field(f: ModelField) -> Field:
    default = f.default if f.default is not None else f.default_factory
    return Field(f.name, f.wire, f.type, f.required and not f.read_only, default)


# -- JSON --------------------------------------------------------------------------------------


def type_to_json(t: TypeRef) -> Any:
    """A compact JSON form of a type: ``"str"``, or a list ``[kind, name, args, values, null]``."""
    if not (t.name or t.args or t.values or t.nullable):
        return t.kind
    out: list[Any] = [t.kind, t.name, [type_to_json(a) for a in t.args], list(t.values)]
    if t.nullable:
        out.append(1)
    return out


def type_from_json(data: Any) -> TypeRef:
    """The inverse of ``type_to_json`` (discriminators and tags are not kept)."""
    if isinstance(data, str):
        return TypeRef(cast(Any, data))
    items = cast(list[Any], data)
    return TypeRef(
        kind=items[0],
        name=items[1],
        args=tuple(type_from_json(a) for a in items[2]),
        values=tuple(items[3]),
        nullable=len(items) > 4 and bool(items[4]),
    )


def to_json(surface: Surface) -> str:
    """``loom-api.json``: one line per method and per type, so that diffs of it read well."""
    head = {
        "format": FORMAT,
        "package": surface.package,
        "version": surface.version,
        "layout": surface.layout,
    }
    methods = [
        [
            m.python,
            m.operation_id,
            m.method,
            m.path,
            m.pointer,
            [
                [p.name, p.wire, p.location, type_to_json(p.type), p.required, p.positional]
                for p in m.params
            ],
            type_to_json(m.response),
            m.paginated,
            m.deprecated,
        ]
        for m in surface.methods
    ]
    types = [
        [
            t.name,
            t.kind,
            t.pointer,
            [[f.name, f.wire, type_to_json(f.type), f.required, f.default] for f in t.fields],
            [[n, v] for n, v in zip(t.members, t.values, strict=True)],
            None if t.target is None else type_to_json(t.target),
            t.base,
        ]
        for t in surface.types
    ]
    aliases = [[a.kind, a.old, a.new] for a in surface.aliases]

    def rows(key: str, items: list[Any]) -> str:
        body = ",\n".join(" " + json.dumps(i, ensure_ascii=False) for i in items)
        return f'"{key}": [\n{body}\n]' if items else f'"{key}": []'

    parts = [json.dumps(head, ensure_ascii=False)[1:-1]]
    parts += [rows("methods", methods), rows("types", types), rows("aliases", aliases)]
    return "{" + ",\n".join(parts) + "}\n"


def from_json(text: str) -> Surface:
    """Read ``loom-api.json``.

    Raises:
        ValueError: not a surface this loom can read.
    """
    data = json.loads(text)
    if not isinstance(data, dict) or cast(dict[str, Any], data).get("format") != FORMAT:
        raise ValueError(f"not a loom API surface of format {FORMAT}")
    doc = cast(dict[str, Any], data)
    methods = tuple(
        Method(
            python=m[0],
            operation_id=m[1],
            method=m[2],
            path=m[3],
            pointer=m[4],
            params=tuple(Param(p[0], p[1], p[2], type_from_json(p[3]), p[4], p[5]) for p in m[5]),
            response=type_from_json(m[6]),
            paginated=m[7],
            deprecated=m[8],
        )
        for m in doc["methods"]
    )
    types = tuple(
        Named(
            name=t[0],
            kind=t[1],
            pointer=t[2],
            fields=tuple(Field(f[0], f[1], type_from_json(f[2]), f[3], f[4]) for f in t[3]),
            values=tuple(v for _, v in t[4]),
            members=tuple(n for n, _ in t[4]),
            target=None if t[5] is None else type_from_json(t[5]),
            base=t[6],
        )
        for t in doc["types"]
    )
    aliases = tuple(Alias(a[0], a[1], a[2]) for a in doc["aliases"])
    return Surface(doc["package"], doc["version"], doc["layout"], methods, types, aliases)
