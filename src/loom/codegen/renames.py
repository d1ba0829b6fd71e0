"""``[renames]`` resolved against the API: the deprecated old names an SDK keeps.

The configuration speaks in Python names (what user code wrote against the previous SDK); this
module checks each entry against the new API and says, with a diagnostic, why an entry cannot be
kept (its new name does not exist, or its old name is still taken).
"""

from __future__ import annotations

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


def resolve(api: Api, config: GeneratorConfig, sink: DiagnosticSink) -> ResolvedRenames:
    """Check ``config.renames`` against ``api``; entries that cannot be kept become warnings."""
    renames = config.renames
    if not renames:
        return ResolvedRenames()
    ops: dict[str, tuple[str, Operation]] = {}
    for resource in api.resources:
        attr = "" if config.layout == "flat" else resource.attr
        for op in resource.operations:
            ops[python_name(op, resource.attr, config.layout)] = (attr, op)
    aliases: list[Alias] = []

    def skip(key: str, why: str) -> None:
        sink.add("#", f"[renames] {key}: {why}; no alias is generated", code="rename")

    methods: list[MethodAlias] = []
    for old, new in sorted(renames.operations.items()):
        target = ops.get(new)
        old_attr, _, old_name = old.rpartition(".")
        if target is None:
            skip(f"operations.{old}", f"no operation is called {new}")
        elif old in ops:
            skip(f"operations.{old}", "that name is still an operation")
        elif old_attr != target[0] or not old_name.isidentifier():
            skip(f"operations.{old}", f"an old name must sit beside {new} ({target[0] or 'flat'})")
        else:
            attr, op = target
            methods.append(
                MethodAlias(attr, old_name, op_name(op, config), op.pagination is not None)
            )
            aliases.append(Alias("operation", old, new))

    classes = {m.name for m in api.models} | {e.name for e in api.enums}
    classes |= {a.name for a in api.aliases} | {s.name for s in api.semantic_types}
    models: list[tuple[str, str]] = []
    for old, new in sorted(renames.models.items()):
        if new not in classes:
            skip(f"models.{old}", f"no model is called {new}")
        elif old in classes or not old.isidentifier():
            skip(f"models.{old}", "that name is still a model, or is not a class name")
        else:
            models.append((old, new))
            aliases.append(Alias("model", old, new))

    by_name = {m.name: m for m in api.models}
    fields: dict[str, list[tuple[str, str, str]]] = {}
    for key, new in sorted(renames.fields.items()):
        model_name, _, old = key.rpartition(".")
        model = by_name.get(model_name)
        target = next((f for f in model.fields if f.name == new), None) if model else None
        if model is None or target is None:
            skip(f"fields.{key}", f"no model {model_name} with a field {new}")
        elif any(old in (f.name, f.wire) for f in model.fields) or not old.isidentifier():
            skip(f"fields.{key}", f"{old} is still a field of {model_name}, or not a name")
        else:
            fields.setdefault(model_name, []).append((old, new, target.wire))
            aliases.append(Alias("field", key, new))

    params: dict[str, list[tuple[str, str]]] = {}
    for key, new in sorted(renames.parameters.items()):
        method, _, old = key.rpartition(".")
        found = ops.get(method)
        names = {p.name for p in found[1].params} if found else set[str]()
        if found is None or new not in names | ({"body"} if found[1].body else set[str]()):
            skip(f"parameters.{key}", f"no operation {method} with a parameter {new}")
        elif old in names or not old.isidentifier():
            skip(f"parameters.{key}", f"{old} is still a parameter of {method}, or not a name")
        else:
            params.setdefault(found[1].operation_id, []).append((old, new))
            aliases.append(Alias("parameter", key, new))
    return ResolvedRenames(
        methods=tuple(methods),
        models=tuple(models),
        fields={k: tuple(v) for k, v in fields.items()},
        parameters={k: tuple(v) for k, v in params.items()},
        aliases=tuple(aliases),
    )


def op_name(op: Operation, config: GeneratorConfig) -> str:
    """The method's name on the class that has it."""
    return op.flat_name if config.layout == "flat" else op.method_name
