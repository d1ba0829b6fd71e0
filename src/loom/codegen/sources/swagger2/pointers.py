"""Where each part of a converted document came from in the Swagger 2.0 input.

The converter moves things: ``definitions/Pet`` becomes ``components/schemas/Pet``, a body
parameter becomes ``requestBody``, a parameter's ``type`` moves into its ``schema``, and the
remaining parameters are renumbered. Diagnostics found later (by the IR) point into the converted
document; ``PointerMap.original`` turns them back into pointers of the input, by the longest
prefix that was recorded. ``PointerMap.converted`` does the reverse for ``$ref``s of the input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loom.codegen.diagnostics import escape_pointer_token


def _escape(token: str | int) -> str:
    text = str(token)
    return escape_pointer_token(text) if "~" in text or "/" in text else text


def child(base: str, *tokens: str | int) -> str:
    """``base`` extended by escaped tokens (``#/paths`` + ``/pets`` → ``#/paths/~1pets``)."""
    return "/".join([base, *map(_escape, tokens)])


Loc = str | tuple["Loc", str | int]
"""A location built without formatting: a pointer, or ``(parent, token)``; see ``render``."""


def render(loc: Loc) -> str:
    """The pointer of a location (formatted only when something needs it, like a ``$ref``)."""
    tokens: list[str | int] = []
    while isinstance(loc, tuple):
        loc, token = loc
        tokens.append(token)
    return child(loc, *reversed(tokens))


def _lookup(table: dict[str, str], pointer: str) -> str:
    if not table or not pointer.startswith("#"):
        return pointer  # a pointer into another file (``pets.yaml#/...``) was not moved
    parts = pointer.split("/")
    for end in range(len(parts), 0, -1):
        found = table.get("/".join(parts[:end]))
        if found is not None:
            rest = parts[end:]
            return "/".join([found, *rest]) if rest else found
    return pointer


@dataclass
class PointerMap:
    """Prefix pairs between the converted document and the Swagger 2.0 input."""

    to_original: dict[str, str] = field(default_factory=dict[str, str])
    to_converted: dict[str, str] = field(default_factory=dict[str, str])

    def add(self, converted: str, original: str, *, inverse: bool = True) -> None:
        """Record that ``converted`` (and everything under it) came from ``original``."""
        self.to_original[converted] = original
        if inverse:
            self.to_converted.setdefault(original, converted)

    def original(self, pointer: str) -> str:
        """The input's pointer for a pointer of the converted document."""
        return _lookup(self.to_original, pointer)

    def converted(self, pointer: str) -> str:
        """The converted document's pointer for a pointer of the input."""
        return _lookup(self.to_converted, pointer)
