"""What the loader passes around: source files, locations in them, and a walk budget."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from loom.codegen.diagnostics import FatalSchemaError
from loom.codegen.sources.guard import MAX_EXPANDED_NODES
from loom.codegen.sources.pointer import format_pointer

NODE_BUDGET = MAX_EXPANDED_NODES
"""Most nodes one bundling may visit; a safety net behind ``check_expansion`` of each file."""

Loc = tuple[Any, str | int] | None
"""A location as a linked list ``(parent, token)``: cheap to extend, formatted only on error."""

Key = tuple[Path, tuple[str, ...]]
"""A ``$ref`` target: the file and the pointer tokens in it."""

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class SourceFile:
    """One file read while loading."""

    path: Path
    label: str
    data: bytes
    root: Any


def loc_tokens(loc: Loc) -> list[str | int]:
    """The tokens of a linked location, root first."""
    tokens: list[str | int] = []
    while loc is not None:
        loc, token = cast("tuple[Loc, str | int]", loc)
        tokens.append(token)
    tokens.reverse()
    return tokens


def where(label: str, loc: Loc) -> str:
    """``file.yaml#/a/b`` for a location in a file (just ``#/a/b`` for the entry document)."""
    return f"{label}{format_pointer(loc_tokens(loc))}"


def loc_of(tokens: tuple[str, ...]) -> Loc:
    """A linked location from a token tuple."""
    loc: Loc = None
    for token in tokens:
        loc = (loc, token)
    return loc


class Budget:
    """Counts visited nodes and stops a load that expands without bound."""

    def __init__(self, limit: int = NODE_BUDGET) -> None:
        self.left = limit

    def spend(self, label: str, loc: Loc) -> None:
        """Count one node; fatal when the budget is exhausted."""
        self.left -= 1
        if self.left < 0:
            raise FatalSchemaError(
                f"bundling visits more than {NODE_BUDGET:,} nodes; split or simplify the schema",
                pointer=where(label, loc),
            )


def sanitize_name(raw: str) -> str:
    """A component key (``^[a-zA-Z0-9._-]+$``, OpenAPI 3.1 §4.8.7) from any text."""
    name = _UNSAFE_NAME.sub("_", raw).strip("_.")
    return name or "Component"
