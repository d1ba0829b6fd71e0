"""IR types to Python annotation text, and the imports that text needs.

Everything emitted here is built from IR names (identifiers the IR made safe) and ``repr`` of
JSON scalars, so no schema text reaches generated code unescaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from loom.codegen.ir.model import TypeRef
from loom.codegen.pyliteral import py_literal, py_string
from loom.codegen.render.order import import_section

_SIMPLE = {
    "any": "Any",
    "none": "None",
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "bytes": "bytes",
    "date": "date",
    "datetime": "datetime",
    "time": "time",
    "uuid": "UUID",
    "file": "FileContent",
}
_FROM = {
    "Any": "typing",
    "Annotated": "typing",
    "Literal": "typing",
    "date": "datetime",
    "datetime": "datetime",
    "time": "datetime",
    "UUID": "uuid",
    "Tag": "pydantic",
}


@dataclass
class Imports:
    """Imports collected while rendering one module, printed in a stable order."""

    std: dict[str, set[str]] = field(default_factory=dict[str, set[str]])
    third: dict[str, set[str]] = field(default_factory=dict[str, set[str]])
    local: dict[str, set[str]] = field(default_factory=dict[str, set[str]])
    names: set[str] = field(default_factory=set[str])
    """Class/alias names the rendered text uses; resolved to modules by the caller."""
    up: str = ".."
    """The relative prefix of the SDK's package from the module being rendered."""
    shadowed: set[str] = field(default_factory=set[str])
    """Builtins that a class body in this module shadows (a method named ``list``)."""

    def builtin(self, name: str) -> str:
        """``list``, or ``builtins.list`` where a method of that name shadows it."""
        if name in self.shadowed:
            self.std.setdefault("builtins", set())
            return f"builtins.{name}"
        return name

    def add(self, module: str, name: str) -> None:
        """``from module import name``; the group follows from the module."""
        if module.startswith("."):
            group = self.local
        elif module in {"pydantic", "typing_extensions"}:
            group = self.third
        else:
            group = self.std
        group.setdefault(module, set()).add(name)

    def render(self) -> str:
        """The import block, in ruff's isort order (see ``order``)."""
        blocks: list[str] = []
        for group in (self.std, self.third, self.local):
            lines = import_section(
                [m for m, ns in group.items() if not ns], {m: ns for m, ns in group.items() if ns}
            )
            if lines:
                blocks.append("\n".join(lines))
        return "\n\n".join(blocks)


def annotation(t: TypeRef, imports: Imports, *, runtime: str = "._runtime") -> str:
    """The annotation for ``t``; records what it needs in ``imports``."""
    text = _bare(t, imports, runtime)
    if t.nullable and t.kind not in {"none", "any"}:
        return f"{text} | None"
    return text


def _bare(t: TypeRef, imports: Imports, runtime: str) -> str:
    simple = _SIMPLE.get(t.kind)
    if simple is not None:
        if simple in imports.shadowed:
            return imports.builtin(simple)
        if simple in {"date", "datetime", "time"}:
            # A field named ``date`` would shadow the class inside a model's body.
            imports.std.setdefault("datetime as _dt", set())
            return f"_dt.{simple}"
        if simple in _FROM:
            imports.add(_FROM[simple], simple)
        elif simple == "FileContent":
            imports.add(runtime + ".types", "FileContent")
        return simple
    if t.kind in {"model", "enum", "alias", "semantic"}:
        imports.names.add(t.name)
        return t.name
    if t.kind == "list":
        return f"{imports.builtin('list')}[{annotation(t.args[0], imports, runtime=runtime)}]"
    if t.kind == "dict":
        key = imports.builtin(t.name or "str")
        return (
            f"{imports.builtin('dict')}[{key}, {annotation(t.args[0], imports, runtime=runtime)}]"
        )
    if t.kind == "literal":
        imports.add("typing", "Literal")
        return f"Literal[{', '.join(py_literal(v) for v in t.values)}]"
    if t.kind == "union":
        if t.discriminator is not None:
            return _discriminated(t, imports, runtime)
        parts: list[str] = []
        for a in t.args:
            text = annotation(a, imports, runtime=runtime)
            if text not in parts:
                parts.append(text)
        return " | ".join(parts)
    imports.add("typing", "Any")
    return "Any"


def _discriminated(t: TypeRef, imports: Imports, runtime: str) -> str:
    assert t.discriminator is not None  # only called for a discriminated union
    imports.add("typing", "Annotated")
    imports.add("pydantic", "Tag")
    imports.add(runtime + ".models", "discriminated")
    members: list[str] = []
    mapping: dict[str, str] = {}
    for member, tags in zip(t.args, t.tags, strict=True):
        tag = tags[0]
        member_text = annotation(member, imports, runtime=runtime)
        members.append(f"Annotated[{member_text}, Tag({py_string(tag)})]")
        for value in tags:
            mapping[value] = tag
    imports.add(runtime + ".models", "UnknownVariant")
    members.append('Annotated[UnknownVariant, Tag("__unknown__")]')
    pairs = ", ".join(f"{py_literal(k)}: {py_string(v)}" for k, v in mapping.items())
    discriminator = py_string(t.discriminator)
    return f"Annotated[{' | '.join(members)}, discriminated({discriminator}, {{{pairs}}})]"


def docstring(text: str | None, indent: str = "", *, dedent: bool = False) -> str:
    """A triple-quoted docstring for untrusted ``text``, or ``""`` when there is none.

    Backslashes, quotes, control characters, surrogates and line separators are escaped, so
    the literal always ends where it should and means exactly ``text``. With ``dedent``, the
    lines after the first are laid out as ``ruff format`` lays out the docstring of a class,
    function or module: their common indentation removed and trailing spaces dropped (ruff
    leaves the string after an attribute alone).
    """
    if text is None or not text.strip():
        return ""
    body = _escape_doc(text.strip())
    if "\n" not in body:
        return f'{indent}"""{body}"""'
    lines = body.split("\n")
    rest = lines[1:]
    if dedent:
        rest = [line.rstrip(" ") for line in rest]
        cut = min((len(line) - len(line.lstrip(" ")) for line in rest if line.strip()), default=0)
        rest = [line[cut:] for line in rest]
    out = [f'{indent}"""{lines[0]}']
    out.extend((indent + line) if line.strip() else "" for line in rest)
    out.append(f'{indent}"""')
    return "\n".join(out)


_DOC_SPECIAL = re.compile(r'[\\"\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\ufeff\r]')


def _escape_doc(text: str) -> str:
    if not _DOC_SPECIAL.search(text):
        return text.rstrip()
    out: list[str] = []
    for ch in text.replace("\r\n", "\n").replace("\r", "\n"):
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch in "\n\t":
            out.append(ch)
        elif o < 32 or o == 127 or 0x80 <= o < 0xA0:
            out.append(f"\\x{o:02x}")
        elif 0xD800 <= o <= 0xDFFF or ch in "\u2028\u2029\ufeff":
            out.append(f"\\u{o:04x}")
        else:
            out.append(ch)
    return "".join(out).rstrip()
