"""``[renames]`` resolved against the API: the deprecated old names an SDK keeps.

The configuration speaks in Python names (what user code wrote against the previous SDK); this
module checks each entry against the new API and says, with a diagnostic, why an entry cannot be
kept (its new name does not exist, or its old name is still taken).
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field

from loom.codegen.config import GeneratorConfig
from loom.codegen.diagnostics import DiagnosticSink
from loom.codegen.diff.surface import Alias, python_name
from loom.codegen.ir.model import Api, Operation


@dataclass(frozen=True, slots=True)
class MethodAlias:
    """``old`` kept on the class that has ``new`` (the resource ``attr``; ``""`` on the client)."""

    attr: str
    old: str
    new: str
    paginated: bool


@dataclass(frozen=True)
class ResolvedRenames:
    """The aliases one SDK carries."""

    methods: tuple[MethodAlias, ...] = ()
    models: tuple[tuple[str, str], ...] = ()
    """``(old class name, new class name)``."""
    fields: dict[str, tuple[tuple[str, str, str], ...]] = field(
        default_factory=dict[str, tuple[tuple[str, str, str], ...]]
    )
    """Model name → ``(old Python name, new Python name, new wire name)``."""
    parameters: dict[str, tuple[tuple[str, str], ...]] = field(
        default_factory=dict[str, tuple[tuple[str, str], ...]]
    )
    """operationId → ``(old keyword, new keyword)``."""
    aliases: tuple[Alias, ...] = ()
    """The same, in ``loom diff``'s terms (written to ``loom-api.json``)."""

    def methods_of(self, attr: str) -> list[MethodAlias]:
        """The method aliases of one resource (``""``: the client, flat layout)."""
        return [m for m in self.methods if m.attr == attr]


def resolve(
    api: Api,
    config: GeneratorConfig,
    sink: DiagnosticSink,
    *,
    expired: frozenset[Alias] = frozenset(),
) -> ResolvedRenames:
    """Check ``config.renames`` against ``api``; entries that cannot be kept become warnings.

    ``expired``: aliases the previous SDK already had, dropped because this one starts a new
    major version (an old name is kept for one major version).
    """
    if not config.renames:
        return ResolvedRenames()
    r = _Resolver(api, config, sink, expired)
    methods = r.operations()
    models = r.models()
    fields = r.fields()
    params = r.parameters()
    return ResolvedRenames(
        methods=tuple(methods),
        models=tuple(models),
        fields={k: tuple(v) for k, v in fields.items()},
        parameters={k: tuple(v) for k, v in params.items()},
        aliases=tuple(r.aliases),
    )


class _Resolver:
    """One pass over ``[renames]``, a method per table."""

    def __init__(
        self, api: Api, config: GeneratorConfig, sink: DiagnosticSink, expired: frozenset[Alias]
    ) -> None:
        self.api, self.config, self.sink, self.expired = api, config, sink, expired
        self.aliases: list[Alias] = []
        self.ops: dict[str, tuple[str, Operation]] = {}
        for resource in api.resources:
            attr = "" if config.layout == "flat" else resource.attr
            for op in resource.operations:
                self.ops[python_name(op, resource.attr, config.layout)] = (attr, op)

    def skip(self, key: str, why: str) -> None:
        self.sink.add("#", f"[renames] {key}: {why}; no alias is generated", code="rename")

    def keep(self, alias: Alias, key: str) -> bool:
        """Record ``alias`` unless its major version is over."""
        if alias in self.expired:
            self.skip(key, "the previous major version already kept it (one major version)")
            return False
        self.aliases.append(alias)
        return True

    def operations(self) -> list[MethodAlias]:
        out: list[MethodAlias] = []
        for old, new in sorted(self.config.renames.operations.items()):
            target = self.ops.get(new)
            old_attr, _, old_name = old.rpartition(".")
            key = f"operations.{old}"
            if target is None:
                self.skip(key, f"no operation is called {new}")
            elif old in self.ops:
                self.skip(key, "that name is still an operation")
            elif old_attr != target[0] or not old_name.isidentifier():
                self.skip(key, f"an old name must sit beside {new} ({target[0] or 'flat'})")
            elif self.keep(Alias("operation", old, new), key):
                attr, op = target
                name = op_name(op, self.config)
                out.append(MethodAlias(attr, old_name, name, op.pagination is not None))
        return out

    def models(self) -> list[tuple[str, str]]:
        api = self.api
        classes = {m.name for m in api.models} | {e.name for e in api.enums}
        classes |= {a.name for a in api.aliases} | {s.name for s in api.semantic_types}
        out: list[tuple[str, str]] = []
        for old, new in sorted(self.config.renames.models.items()):
            key = f"models.{old}"
            if new not in classes:
                self.skip(key, f"no model is called {new}")
            elif old in classes or not old.isidentifier():
                self.skip(key, "that name is still a model, or is not a class name")
            elif self.keep(Alias("model", old, new), key):
                out.append((old, new))
        return out

    def fields(self) -> dict[str, list[tuple[str, str, str]]]:
        by_name = {m.name: m for m in self.api.models}
        out: dict[str, list[tuple[str, str, str]]] = {}
        for dotted, new in sorted(self.config.renames.fields.items()):
            model_name, _, old = dotted.rpartition(".")
            model = by_name.get(model_name)
            target = next((f for f in model.fields if f.name == new), None) if model else None
            key = f"fields.{dotted}"
            if model is None or target is None:
                self.skip(key, f"no model {model_name} with a field {new}")
            elif any(old in (f.name, f.wire) for f in model.fields) or not _is_name(old):
                self.skip(key, f"{old} is still a field of {model_name}, or not a name")
            elif self.keep(Alias("field", dotted, new), key):
                out.setdefault(model_name, []).append((old, new, target.wire))
        return out

    def parameters(self) -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {}
        for dotted, new in sorted(self.config.renames.parameters.items()):
            method, _, old = dotted.rpartition(".")
            found = self.ops.get(method)
            names = {p.name for p in found[1].params} if found else set[str]()
            if found is not None and found[1].body is not None:
                names.add("body")
            key = f"parameters.{dotted}"
            if found is None or new not in names:
                self.skip(key, f"no operation {method} with a parameter {new}")
            elif old in names or not _is_name(old):
                self.skip(key, f"{old} is still a parameter of {method}, or not a name")
            elif self.keep(Alias("parameter", dotted, new), key):
                out.setdefault(found[1].operation_id, []).append((old, new))
        return out


def _is_name(text: str) -> bool:
    """A name usable as an attribute and a keyword argument."""
    return text.isidentifier() and not keyword.iskeyword(text)


def op_name(op: Operation, config: GeneratorConfig) -> str:
    """The method's name on the class that has it."""
    return op.flat_name if config.layout == "flat" else op.method_name
