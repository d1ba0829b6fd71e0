"""Which module each model lives in.

Models that refer to each other in a cycle share one module (a strongly connected component of
the reference graph); every other reference is a plain import between modules, so the module
graph has no cycles and importing one model imports exactly what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from loom.codegen.ir import names as N
from loom.codegen.ir.model import Alias, Api, Enum, Model, SemanticType

Definition = Model | Enum | Alias


@dataclass(frozen=True)
class ModelModule:
    """One module under ``models/`` and the definitions in it, in definition order."""

    name: str
    definitions: tuple[Definition, ...]


def dependencies(d: Definition) -> list[str]:
    """Names a definition refers to."""
    if isinstance(d, Model):
        out: list[str] = [d.base] if d.base else []
        for f in d.fields:
            out.extend(f.type.named())
        if d.extra_type is not None:
            out.extend(d.extra_type.named())
        return out
    if isinstance(d, Alias):
        return d.target.named()
    return []


def plan_modules(api: Api) -> tuple[list[ModelModule], dict[str, str]]:
    """Group definitions into modules; return them and a map name → module name."""
    defs: dict[str, Definition] = {}
    for e in api.enums:
        defs[e.name] = e
    for m in api.models:
        defs[m.name] = m
    for a in api.aliases:
        defs[a.name] = a
    semantic = {s.name for s in api.semantic_types}
    graph = {
        n: [x for x in dependencies(d) if x in defs and x not in semantic] for n, d in defs.items()
    }
    components = _tarjan(list(defs), graph)
    modules: list[ModelModule] = []
    where: dict[str, str] = {}
    taken: set[str] = {"__init__"}
    index = {n: i for i, n in enumerate(defs)}
    for comp in components:
        first = min(comp, key=index.__getitem__)
        mod = N.dedupe(N.module_name(first), taken)
        taken.add(mod)
        ordered = _order_within(comp, defs, index)
        modules.append(ModelModule(mod, tuple(defs[n] for n in ordered)))
        for n in comp:
            where[n] = mod
    modules.sort(key=lambda m: m.name)
    return modules, where


def _order_within(comp: list[str], defs: dict[str, Definition], index: dict[str, int]) -> list[str]:
    """Enums, then models (bases first), then aliases (their dependencies first)."""
    members = set(comp)
    enums = sorted((n for n in comp if isinstance(defs[n], Enum)), key=index.__getitem__)
    models = sorted((n for n in comp if isinstance(defs[n], Model)), key=index.__getitem__)
    aliases = sorted((n for n in comp if isinstance(defs[n], Alias)), key=index.__getitem__)
    out: list[str] = list(enums)
    done: set[str] = set(enums)

    def place(name: str, eager: list[str]) -> None:
        if name in done:
            return
        done.add(name)
        for dep in eager:
            if dep in members and dep not in done:
                d = defs[dep]
                place(dep, _eager(d))
        out.append(name)

    for n in models:
        place(n, _eager(defs[n]))
    for n in aliases:
        place(n, _eager(defs[n]))
    return out


def _eager(d: Definition) -> list[str]:
    """Names evaluated when the definition runs: a model's base, an alias's target."""
    if isinstance(d, Model):
        return [d.base] if d.base else []
    if isinstance(d, Alias):
        return d.target.named()
    return []


def _tarjan(nodes: list[str], graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components, iteratively (schemas can nest deeply)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            edges = graph[node]
            recursed = False
            while i < len(edges):
                nxt = edges[i]
                i += 1
                if nxt not in index:
                    work.append((node, i))
                    work.append((nxt, 0))
                    recursed = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recursed:
                continue
            if low[node] == index[node]:
                comp: list[str] = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                out.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out


def alias_cycles(modules: list[ModelModule]) -> set[str]:
    """Aliases whose eager evaluation would need themselves (``A = list[A]``)."""
    bad: set[str] = set()
    for m in modules:
        names = {d.name for d in m.definitions}
        aliases = {d.name: d for d in m.definitions if isinstance(d, Alias)}
        for a in aliases.values():
            seen: set[str] = set()
            stack = [x for x in a.target.named() if x in names]
            while stack:
                n = stack.pop()
                if n == a.name:
                    bad.add(a.name)
                    break
                if n in seen or n not in aliases:
                    continue
                seen.add(n)
                stack.extend(x for x in aliases[n].target.named() if x in names)
    return bad


__all__ = ["ModelModule", "SemanticType", "alias_cycles", "plan_modules"]
