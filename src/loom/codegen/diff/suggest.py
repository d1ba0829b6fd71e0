"""``loom diff --suggest-renames``: the ``[renames]`` table for what moved with the same shape.

A rename is proposed when an old name and a new name are the same thing by identity (the same
operation under another method name, the same schema under another class name, the same wire
name under another Python name), or when exactly one removed item and one added item have the
same shape (fields and their types, parameters and the response).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Sequence
from difflib import SequenceMatcher
from typing import TypeVar

from loom.codegen.diff.compare import match_items
from loom.codegen.diff.surface import Method, Named, Surface, type_to_json
from loom.codegen.ir.model import TypeRef

T = TypeVar("T")

Suggestions = dict[str, dict[str, str]]


def _t(t: TypeRef | None) -> str:
    return "" if t is None else json.dumps(type_to_json(t))


def _model_shape(t: Named) -> Hashable:
    fields = frozenset((f.wire, _t(f.type), f.required) for f in t.fields)
    return (t.kind, fields, frozenset(t.values), _t(t.target))


def _method_shape(m: Method) -> Hashable:
    params = frozenset((p.location, p.wire, _t(p.type), p.required) for p in m.params)
    return (m.method, params, _t(m.response))


def _unique_pairs(
    removed: Sequence[T],
    added: Sequence[T],
    shape: Callable[[T], Hashable],
    name: Callable[[T], str],
) -> list[tuple[T, T]]:
    """Pairs of a removed and an added item of the same shape: the only ones of that shape, or
    the added one whose name is clearly the closest to the removed one's."""
    old: dict[Hashable, list[T]] = {}
    new: dict[Hashable, list[T]] = {}
    for item in removed:
        old.setdefault(shape(item), []).append(item)
    for item in added:
        new.setdefault(shape(item), []).append(item)
    pairs: list[tuple[T, T]] = []
    for key, gone in old.items():
        came = new.get(key, [])
        if len(gone) != 1 or not came:
            continue
        if len(came) == 1:
            pairs.append((gone[0], came[0]))
            continue
        scored = sorted(
            (
                (SequenceMatcher(None, name(gone[0]), name(c)).ratio(), i)
                for i, c in enumerate(came)
            ),
            reverse=True,
        )
        (best, index), (second, _) = scored[0], scored[1]
        if best >= 0.6 and best - second >= 0.1:
            pairs.append((gone[0], came[index]))
    return pairs


def suggest(old: Surface, new: Surface) -> Suggestions:
    """``{"operations": {old: new}, "models": ..., "fields": ..., "parameters": ...}``."""
    out: Suggestions = {"operations": {}, "models": {}, "fields": {}, "parameters": {}}
    types, gone, came = match_items(old.types, new.types, (lambda t: t.pointer, lambda t: t.name))
    types += _unique_pairs(gone, came, _model_shape, lambda t: t.name)
    for a, b in types:
        if a.name != b.name:
            out["models"][a.name] = b.name
        fields, lost, got = match_items(a.fields, b.fields, (lambda f: f.wire,))
        fields += _unique_pairs(lost, got, lambda f: (_t(f.type), f.required), lambda f: f.name)
        for f, g in fields:
            if f.name != g.name:
                out["fields"][f"{b.name}.{f.name}"] = g.name
    methods, gone_m, came_m = match_items(
        old.methods, new.methods, (lambda m: m.key, lambda m: m.operation_id)
    )
    methods += _unique_pairs(gone_m, came_m, _method_shape, lambda m: m.python)
    for m, n in methods:
        if m.python != n.python:
            out["operations"][m.python] = n.python
        params, lost_p, got_p = match_items(
            m.params, n.params, (lambda p: f"{p.location}:{p.wire}",)
        )
        params += _unique_pairs(
            lost_p, got_p, lambda p: (p.location, _t(p.type), p.required), lambda p: p.name
        )
        for p, q in params:
            if p.name != q.name:
                out["parameters"][f"{n.python}.{p.name}"] = q.name
    return out


def as_toml(suggestions: Suggestions) -> str:
    """The suggestions as ``[renames.*]`` tables to paste into the configuration."""
    lines = ["# Proposed by loom diff --suggest-renames: review, then add to the configuration."]
    for section, entries in suggestions.items():
        if not entries:
            continue
        lines += ["", f"[renames.{section}]"]
        lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in sorted(entries.items())]
    return "\n".join(lines) + "\n"
