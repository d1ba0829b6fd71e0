"""Compare two ``Surface``s: what changed in the Python API user code calls.

Operations are matched by their HTTP identity (method and path shape), then by operationId,
then by Python name; types by schema pointer, then by class name; parameters by location and
wire name; fields by wire name. A changed Python name over the same identity is a rename.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal, TypeVar, cast

from loom.codegen.diff.surface import Field, Method, Named, Param, Surface
from loom.codegen.diff.typecheck import Relation, Role, breaks, relate, show
from loom.codegen.ir.model import TypeRef

T = TypeVar("T")

Area = Literal["operation", "parameter", "response", "model", "field", "enum", "alias", "type"]


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the report.

    Attributes:
        kind: ``<area>-<what>``: ``operation-removed``, ``parameter-required``, ``field-type``…
        breaking: code written against the old SDK can fail against the new one.
        python: the Python name (``client.pets.create(limit)``, ``models.Pet.name``).
        pointer: where it is in the schema (the new one, or the old one when removed).
        message: one sentence.
        old: the old value (a name or a type), when there is one.
        new: the new value.
        aliased: the old name keeps working, deprecated (``[renames]``); not breaking.
    """

    kind: str
    breaking: bool
    python: str
    pointer: str
    message: str
    old: str | None = None
    new: str | None = None
    aliased: bool = False


@dataclass
class _Context:
    old: Surface
    new: Surface
    renamed: dict[str, str]
    old_roles: dict[str, Role]
    new_roles: dict[str, Role]
    aliases: set[tuple[str, str, str]]
    out: list[Change] = field(default_factory=list[Change])
    targets: tuple[dict[str, TypeRef], dict[str, TypeRef]] = ({}, {})

    def add(self, change: Change) -> None:
        self.out.append(change)

    def relate(self, old: TypeRef, new: TypeRef) -> Relation:
        return relate(old, new, self.renamed, self.targets)


_NO_KEY = "\0"


def _aliased(new: Surface, kind: str) -> dict[str, str]:
    """Old name → new name of the aliases of one kind that ``new`` keeps."""
    return {a.old: a.new for a in new.aliases if a.kind == kind}


def compare(old: Surface, new: Surface) -> list[Change]:
    """Every change from ``old`` to ``new``, breaking ones first, each group in a stable order."""
    kept = _aliased(new, "model")
    type_pairs, removed_types, added_types = match_items(
        old.types,
        new.types,
        (
            lambda t: t.pointer,
            lambda t: t.name,
            (lambda t: kept.get(t.name, _NO_KEY), lambda t: t.name),
        ),
    )
    ctx = _Context(
        old=old,
        new=new,
        renamed={a.name: b.name for a, b in type_pairs if a.name != b.name},
        old_roles=roles(old),
        new_roles=roles(new),
        aliases={(a.kind, a.old, a.new) for a in new.aliases},
        targets=(_targets(old), _targets(new)),
    )
    moved = _aliased(new, "operation")
    pairs, removed, added = match_items(
        old.methods,
        new.methods,
        (
            lambda m: m.key,
            lambda m: m.operation_id,
            lambda m: m.python,
            (lambda m: moved.get(m.python, _NO_KEY), lambda m: m.python),
        ),
    )
    for m in removed:
        ctx.add(_gone("operation", m.python, m.pointer, f"client.{m.python}"))
    for m in added:
        ctx.add(Change("operation-added", False, f"client.{m.python}", m.pointer, "added"))
    for a, b in pairs:
        _method(ctx, a, b)
    for t in removed_types:
        ctx.add(_gone(_area(t), t.name, t.pointer, f"models.{t.name}"))
    for t in added_types:
        ctx.add(Change(f"{_area(t)}-added", False, f"models.{t.name}", t.pointer, "added"))
    for a, b in type_pairs:
        _named(ctx, a, b)
    return sorted(ctx.out, key=lambda c: (not c.breaking, c.kind, c.python))


def _targets(surface: Surface) -> dict[str, TypeRef]:
    return {t.name: t.target for t in surface.types if t.target is not None}


def _gone(area: str, name: str, pointer: str, python: str) -> Change:
    return Change(f"{area}-removed", True, python, pointer, "removed", old=name)


def _area(t: Named) -> str:
    return {"model": "model", "enum": "enum", "alias": "type-alias", "semantic": "id-type"}[t.kind]


def match_items(
    old: Iterable[T],
    new: Iterable[T],
    keys: tuple[Callable[[T], str] | tuple[Callable[[T], str], Callable[[T], str]], ...],
) -> tuple[list[tuple[T, T]], list[T], list[T]]:
    """Pair items by the first key that matches, then the next one over what is left.

    A key is one function, or a pair ``(key of an old item, key of a new item)``.
    """
    left, right = list(old), list(new)
    pairs: list[tuple[T, T]] = []
    for key in keys:
        if isinstance(key, tuple):
            old_key, new_key = cast(tuple[Callable[[T], str], Callable[[T], str]], key)
        else:
            old_key = new_key = key
        index: dict[str, list[T]] = {}
        for item in right:
            index.setdefault(new_key(item), []).append(item)
        rest: list[T] = []
        taken: set[int] = set()
        for item in left:
            candidates = [c for c in index.get(old_key(item), []) if id(c) not in taken]
            if len(candidates) >= 1:
                taken.add(id(candidates[0]))
                pairs.append((item, candidates[0]))
            else:
                rest.append(item)
        left = rest
        right = [r for r in right if id(r) not in taken]
    return pairs, left, right


# -- operations ------------------------------------------------------------------------------


def _method(ctx: _Context, a: Method, b: Method) -> None:
    where = f"client.{b.python}"
    if a.python != b.python:
        aliased = ("operation", a.python, b.python) in ctx.aliases
        message = f"renamed from {a.python}" + (" (old name kept, deprecated)" if aliased else "")
        ctx.add(
            Change(
                "operation-renamed",
                not aliased,
                where,
                b.pointer,
                message,
                a.python,
                b.python,
                aliased,
            )
        )
    if a.paginated and not b.paginated:
        ctx.add(Change("operation-pager-removed", True, where + "_all", b.pointer, "removed"))
    kept = _aliased(ctx.new, "parameter")
    pairs, removed, added = match_items(
        a.params,
        b.params,
        (
            lambda p: f"{p.location}:{p.wire}",
            (lambda p: kept.get(f"{b.python}.{p.name}", _NO_KEY), lambda p: p.name),
        ),
    )
    for p in removed:
        ctx.add(Change("parameter-removed", True, f"{where}({p.name})", b.pointer, "removed"))
    for p in added:
        kind = "parameter-added-required" if p.required else "parameter-added"
        message = "added, required" if p.required else "added, optional"
        ctx.add(Change(kind, p.required, f"{where}({p.name})", b.pointer, message, None, p.name))
    for p, q in pairs:
        _param(ctx, where, b.pointer, p, q)
    old_positional = [p.wire for p in a.params if p.positional]
    new_positional = [p.wire for p in b.params if p.positional]
    if old_positional != new_positional and sorted(old_positional) == sorted(new_positional):
        ctx.add(
            Change(
                "parameter-order",
                True,
                where,
                b.pointer,
                "positional parameters reordered",
                ", ".join(old_positional),
                ", ".join(new_positional),
            )
        )
    relation = ctx.relate(a.response, b.response)
    if relation != "same":
        ctx.add(
            Change(
                "response-type",
                breaks(relation, "output"),
                where,
                b.pointer,
                f"response type {relation}",
                show(a.response),
                show(b.response),
            )
        )


def _param(ctx: _Context, where: str, pointer: str, p: Param, q: Param) -> None:
    python = f"{where}({q.name})"
    if p.name != q.name:
        aliased = ("parameter", f"{where.removeprefix('client.')}.{p.name}", q.name) in ctx.aliases
        message = f"renamed from {p.name}" + (
            " (the old keyword raises a TypeError naming the new one)" if aliased else ""
        )
        ctx.add(Change("parameter-renamed", True, python, pointer, message, p.name, q.name))
    if q.required and not p.required:
        ctx.add(Change("parameter-required", True, python, pointer, "became required"))
    elif p.required and not q.required:
        ctx.add(Change("parameter-optional", False, python, pointer, "became optional"))
    relation = ctx.relate(p.type, q.type)
    if relation != "same":
        ctx.add(
            Change(
                "parameter-type",
                breaks(relation, "input"),
                python,
                pointer,
                f"type {relation}",
                show(p.type),
                show(q.type),
            )
        )


# -- types -----------------------------------------------------------------------------------


def _named(ctx: _Context, a: Named, b: Named) -> None:
    where = f"models.{b.name}"
    if a.name != b.name:
        aliased = ("model", a.name, b.name) in ctx.aliases
        message = f"renamed from {a.name}" + (" (old name kept, deprecated)" if aliased else "")
        ctx.add(
            Change(
                f"{_area(b)}-renamed",
                not aliased,
                where,
                b.pointer,
                message,
                a.name,
                b.name,
                aliased,
            )
        )
    if a.kind != b.kind:
        ctx.add(Change("type-kind", True, where, b.pointer, "kind changed", a.kind, b.kind))
        return
    role = ctx.new_roles.get(b.name, ctx.old_roles.get(a.name, "both"))
    if b.kind == "model":
        _fields(ctx, a, b, role)
    elif b.kind == "enum":
        old_members = dict(zip(a.values, a.members, strict=True))
        new_members = dict(zip(b.values, b.members, strict=True))
        for value, member in old_members.items():
            if value not in new_members:
                ctx.add(
                    Change(
                        "enum-value-removed",
                        True,
                        f"{where}.{member}",
                        b.pointer + "/enum",
                        "value removed",
                        repr(value),
                    )
                )
        for value, member in new_members.items():
            if value not in old_members:
                ctx.add(
                    Change(
                        "enum-value-added",
                        False,
                        f"{where}.{member}",
                        b.pointer,
                        "value added",
                        None,
                        repr(value),
                    )
                )
    elif b.kind == "alias" and a.target is not None and b.target is not None:
        relation = ctx.relate(a.target, b.target)
        if relation != "same":
            ctx.add(
                Change(
                    "type-alias-type",
                    breaks(relation, role),
                    where,
                    b.pointer,
                    f"type {relation}",
                    show(a.target),
                    show(b.target),
                )
            )


def _fields(ctx: _Context, a: Named, b: Named, role: Role) -> None:
    where = f"models.{b.name}"
    kept = _aliased(ctx.new, "field")
    pairs, removed, added = match_items(
        a.fields,
        b.fields,
        (
            lambda f: f.wire,
            lambda f: f.name,
            (lambda f: kept.get(f"{b.name}.{f.name}", _NO_KEY), lambda f: f.name),
        ),
    )
    prop = b.pointer + "/properties/"
    for f in removed:
        ctx.add(Change("field-removed", True, f"{where}.{f.name}", prop + _esc(f.wire), "removed"))
    for f in added:
        sent = role != "output"
        ctx.add(
            Change(
                "field-added-required" if f.required else "field-added",
                f.required and sent,
                f"{where}.{f.name}",
                prop + _esc(f.wire),
                "added, required" if f.required else "added, optional",
                None,
                show(f.type),
            )
        )
    for f, g in pairs:
        _field(ctx, f"{where}.{g.name}", prop + _esc(g.wire), f, g, role)


def _field(ctx: _Context, python: str, pointer: str, f: Field, g: Field, role: Role) -> None:
    if f.name != g.name:
        model = python.rsplit(".", 2)[1]
        aliased = ("field", f"{model}.{f.name}", g.name) in ctx.aliases
        message = f"renamed from {f.name}" + (" (old name kept, deprecated)" if aliased else "")
        ctx.add(
            Change("field-renamed", not aliased, python, pointer, message, f.name, g.name, aliased)
        )
    if g.required and not f.required:
        ctx.add(Change("field-required", role != "output", python, pointer, "became required"))
    elif f.required and not g.required:
        ctx.add(Change("field-optional", role != "input", python, pointer, "became optional"))
    relation = ctx.relate(f.type, g.type)
    if relation != "same":
        ctx.add(
            Change(
                "field-type",
                breaks(relation, role),
                python,
                pointer,
                f"type {relation}",
                show(f.type),
                show(g.type),
            )
        )
    if f.default != g.default and f.default is not None and g.default is not None:
        ctx.add(
            Change(
                "field-default",
                role != "output",
                python,
                pointer,
                "default changed",
                f.default,
                g.default,
            )
        )


def _esc(wire: str) -> str:
    return wire.replace("~", "~0").replace("/", "~1")


# -- where types are used --------------------------------------------------------------------


def roles(surface: Surface) -> dict[str, Role]:
    """For each named type: sent by user code (``input``), read by it (``output``), or both.

    A type that no operation reaches counts as both (the user may use it either way).
    """
    by_name = {t.name: t for t in surface.types}
    inputs = _reach((p.type for m in surface.methods for p in m.params), by_name)
    outputs = _reach((m.response for m in surface.methods), by_name)
    out: dict[str, Role] = {}
    for name in by_name:
        sent, read = name in inputs, name in outputs
        out[name] = "input" if sent and not read else "output" if read and not sent else "both"
    return out


def _reach(start: Iterable[TypeRef], by_name: dict[str, Named]) -> set[str]:
    seen: set[str] = set()
    stack = list(start)
    while stack:
        t = stack.pop()
        stack.extend(t.args)
        if t.name and t.name not in seen:
            seen.add(t.name)
            named = by_name.get(t.name)
            if named is not None:
                stack.extend(f.type for f in named.fields)
                if named.target is not None:
                    stack.append(named.target)
                if named.base:  # the inherited fields are read or sent the same way
                    stack.append(TypeRef("model", named.base))
    return seen


def breaking(changes: Iterable[Change]) -> Iterator[Change]:
    """The breaking entries."""
    return (c for c in changes if c.breaking)
