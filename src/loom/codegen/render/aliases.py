"""Rendering of the deprecated old names ``[renames]`` keeps (see ``loom.runtime.renames``).

Each function returns text for one place of the SDK: alias methods for a resource or client
class, the decorator of a method with renamed keywords, the validator and properties of a model
with renamed fields, and the table of old model names in ``models/__init__.py``.
"""

from __future__ import annotations

from loom.codegen.ir.model import Model, Operation
from loom.codegen.pyliteral import py_string
from loom.codegen.renames import MethodAlias, ResolvedRenames
from loom.codegen.render.annotations import Imports, annotation, docstring

_GOES = "the old name goes away in the next major version"


def method_aliases(aliases: list[MethodAlias], imports: Imports, *, pagers: bool) -> list[str]:
    """One ``@deprecated`` method per old name, typed as the new method (and its pager)."""
    if not aliases:
        return []
    rt = imports.up + "_runtime"
    imports.add("typing_extensions", "deprecated")
    imports.add("typing", "Any")
    imports.add(rt + ".renames", "same_signature")
    out: list[str] = []
    for a in aliases:
        pairs = [(a.old, a.new)]
        if pagers and a.paginated:
            pairs.append((a.old + "_all", a.new + "_all"))
        for old, new in pairs:
            message = py_string(f"{old} is renamed {new}; {_GOES}")
            doc = docstring(f"Deprecated: renamed ``{new}``.", "        ")
            out.append(
                f"    @deprecated({message})\n"
                f"    @same_signature({new})\n"
                f"    def {old}(self, *args: Any, **kwargs: Any) -> Any:\n"
                f"{doc}\n"
                f"        return self.{new}(*args, **kwargs)"
            )
    return out


def keyword_decorator(op: Operation, renames: ResolvedRenames | None, imports: Imports) -> str:
    """``@renamed_keywords(old="new")`` for a method whose keywords were renamed, or ``""``."""
    pairs = renames.parameters.get(op.operation_id) if renames else None
    if not pairs:
        return ""
    imports.add(imports.up + "_runtime.renames", "renamed_keywords")
    args = ", ".join(f"{old}={py_string(new)}" for old, new in pairs)
    return f"@renamed_keywords({args})"


def field_aliases(model: Model, renames: ResolvedRenames | None, imports: Imports) -> list[str]:
    """A ``before`` validator that accepts the old field names, and a deprecated property for
    reading each one."""
    pairs = renames.fields.get(model.name) if renames else None
    if not pairs:
        return []
    rt = ".._runtime"
    imports.add("pydantic", "model_validator")
    imports.add("typing", "Any")
    imports.add("typing_extensions", "deprecated")
    imports.add(rt + ".renames", "accept_renamed_fields")
    table = ", ".join(f"{py_string(old)}: {py_string(wire)}" for old, _, wire in pairs)
    out = [
        '    @model_validator(mode="before")\n'
        "    @classmethod\n"
        "    def _accept_renamed_fields(cls, data: Any) -> Any:\n"
        f"        return accept_renamed_fields({py_string(model.name)}, data, {{{table}}})"
    ]
    types = {f.name: f.type for f in model.fields}
    for old, new, _ in pairs:
        ann = annotation(types[new], imports, runtime=rt)
        message = py_string(f"{model.name}.{old} is renamed {new}; {_GOES}")
        out.append(
            "    @property\n"
            f"    @deprecated({message})\n"
            f"    def {old}(self) -> {ann}:\n"
            f"{docstring(f'Deprecated: renamed ``{new}``.', '        ')}\n"
            f"        return self.{new}"
        )
    return out


def renamed_models(renames: ResolvedRenames | None) -> tuple[str, str]:
    """For ``models/__init__.py``: the ``TYPE_CHECKING`` aliases and the ``_RENAMED`` table.

    Type checkers see the old name as the same class (annotations and ``isinstance`` keep
    working); importing it warns at run time. PEP 702 has no form for a deprecated alias, so
    type checkers do not report its use.
    """
    if renames is None or not renames.models:
        return "", ""
    aliases = "\n".join(f"    {old} = {new}" for old, new in renames.models)
    table = "\n".join(f"    {py_string(old)}: {py_string(new)}," for old, new in renames.models)
    return aliases, table
