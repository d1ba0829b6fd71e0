"""How one Python type relates to another: the same, widened (accepts more), narrowed, changed.

Whether a change breaks user code depends on where the type sits: a parameter or a field the
user sends breaks when it is narrowed (code that passed a value may now be rejected); a
response or a field the user reads breaks when it is widened (code may now get a value it
does not handle). Anything else that changed breaks in both positions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from loom.codegen.ir.model import TypeRef

Relation = Literal["same", "widened", "narrowed", "changed"]
Role = Literal["input", "output", "both"]

_NONE = TypeRef("none")


def relate(
    old: TypeRef,
    new: TypeRef,
    renamed: Mapping[str, str],
    aliases: tuple[Mapping[str, TypeRef], Mapping[str, TypeRef]] | None = None,
) -> Relation:
    """How ``new`` relates to ``old``; ``renamed`` maps old class names to their new names.

    ``aliases`` (the old side's and the new side's type aliases by name) lets a type that now
    names another alias be compared by what the aliases stand for (``ElementId`` →
    ``ElementIdFilterProperty``, an alias of ``ElementId | AdvancedElementIdFilter``: widened).
    An alias that kept its name is compared by name: a change of its target is its own entry.
    """
    relation = _relate(old, new, renamed)
    if relation == "same" or aliases is None:
        return relation
    return _relate(_expand(old, aliases[0], 8), _expand(new, aliases[1], 8), renamed)


def _expand(t: TypeRef, aliases: Mapping[str, TypeRef], depth: int) -> TypeRef:
    """``t`` with named aliases replaced by their targets (``depth`` levels: aliases recurse)."""
    if depth == 0:
        return t
    if t.kind == "alias" and t.name in aliases:
        return _expand(aliases[t.name], aliases, depth - 1).with_nullable(
            t.nullable or aliases[t.name].nullable
        )
    if not t.args:
        return t
    args = tuple(_expand(a, aliases, depth - 1) for a in t.args)
    return TypeRef(t.kind, t.name, args, t.values, t.nullable, t.discriminator, t.tags)


def _relate(old: TypeRef, new: TypeRef, renamed: Mapping[str, str]) -> Relation:
    a = _atoms(old, renamed)
    b = _atoms(new, renamed)
    if {_key(t) for t in a} == {_key(t) for t in b}:
        return "same"
    widened = all(any(_covers(n, o) for n in b) for o in a)
    narrowed = all(any(_covers(o, n) for o in a) for n in b)
    if widened and narrowed:
        return "same"
    if widened:
        return "widened"
    if narrowed:
        return "narrowed"
    return "changed"


def breaks(relation: Relation, role: Role) -> bool:
    """Whether a type change in this position can break user code."""
    if relation == "same":
        return False
    if relation == "changed" or role == "both":
        return True
    return (relation == "narrowed") == (role == "input")


def _atoms(t: TypeRef, renamed: Mapping[str, str]) -> list[TypeRef]:
    """The members of a type once unions are flattened and ``| None`` is a member."""
    out: list[TypeRef] = []
    if t.kind == "union":
        for arg in t.args:
            out.extend(_atoms(arg, renamed))
    elif t.kind == "literal":
        out.extend(TypeRef("literal", values=(v,)) for v in t.values)
    else:
        name = renamed.get(t.name, t.name) if t.name else ""
        args = tuple(_rebuild(a, renamed) for a in t.args)
        out.append(TypeRef(t.kind, name, args, t.values))
    if t.nullable and t.kind != "none":
        out.append(_NONE)
    return out


def _rebuild(t: TypeRef, renamed: Mapping[str, str]) -> TypeRef:
    atoms = _atoms(t, renamed)
    return atoms[0] if len(atoms) == 1 else TypeRef("union", args=tuple(atoms))


def _key(t: TypeRef) -> str:
    """A canonical text of an atom (members of unions in a fixed order)."""
    if t.kind == "union":
        return "|".join(sorted(_key(a) for a in t.args))
    inner = ",".join(_key(a) for a in t.args)
    return f"{t.kind}:{t.name}[{inner}]{list(t.values)}"


def _covers(wide: TypeRef, narrow: TypeRef) -> bool:
    """Whether every value of the atom ``narrow`` is accepted where ``wide`` is expected."""
    if wide.kind == "any" or _key(wide) == _key(narrow):
        return True
    if wide.kind == "float" and narrow.kind == "int":
        return True
    if narrow.kind == "literal":
        value = narrow.values[0]
        scalar = {str: "str", bool: "bool", int: "int", float: "float"}.get(type(value))
        return wide.kind == scalar or (wide.kind == "float" and scalar == "int")
    if wide.kind == "str" and narrow.kind in {"semantic", "enum"}:
        return True  # NewType of str and str enums are str
    if wide.kind == narrow.kind and wide.kind in {"list", "dict"} and wide.args and narrow.args:
        inner_wide, inner_narrow = wide.args[0], narrow.args[0]
        wide_atoms = _atoms(inner_wide, {})
        return all(any(_covers(w, n) for w in wide_atoms) for n in _atoms(inner_narrow, {}))
    if wide.kind == "union":
        return any(_covers(w, narrow) for w in wide.args)
    return False


def show(t: TypeRef) -> str:
    """The type as a Python annotation reads (for reports)."""
    if t.kind in {"model", "enum", "alias", "semantic"}:
        text = t.name
    elif t.kind == "list":
        text = f"list[{show(t.args[0])}]" if t.args else "list"
    elif t.kind == "dict":
        text = f"dict[str, {show(t.args[0])}]" if t.args else "dict"
    elif t.kind == "union":
        text = " | ".join(show(a) for a in t.args)
    elif t.kind == "literal":
        text = "Literal[" + ", ".join(repr(v) for v in t.values) + "]"
    elif t.kind == "any":
        text = "Any"
    elif t.kind == "none":
        text = "None"
    else:
        text = {"datetime": "datetime", "uuid": "UUID", "file": "FileContent"}.get(t.kind, t.kind)
    return f"{text} | None" if t.nullable and t.kind != "none" else text
