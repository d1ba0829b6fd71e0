"""Guard against documents that are small on disk but huge in memory (YAML alias bombs).

YAML anchors and aliases make one parsed object appear in many places; nested aliases
("billion laughs") make a few hundred bytes stand for billions of nodes, and an anchor may even
contain itself. JSON never shares objects. ``check_expansion`` measures the size the document
would have with every alias expanded, in time linear in the number of distinct objects, and
refuses documents beyond ``MAX_EXPANDED_NODES`` before anything walks them naively.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, cast

from loom.codegen.diagnostics import FatalSchemaError

MAX_EXPANDED_NODES: Final = 10_000_000
"""Most nodes (objects, arrays and values) a document may expand to; Camunda's has ~200,000."""


def expanded_size(root: Any, *, name: str) -> int:
    """Number of nodes in ``root`` with every shared object counted at each place it appears.

    Raises:
        FatalSchemaError: an object contains itself (a recursive YAML alias).
    """
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        children = _children(node)
        if finished:
            in_progress.discard(key)
            sizes[key] = 1 + sum(sizes.get(id(child), 1) for child in children)
            continue
        if key in sizes:
            continue
        if key in in_progress:
            raise FatalSchemaError(
                f"{name}: a YAML anchor contains an alias to itself; OpenAPI documents must be "
                "trees (use $ref for recursive schemas)"
            )
        in_progress.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)
    return sizes[id(root)]


def check_expansion(root: Any, *, name: str) -> None:
    """Refuse a document that expands to more than ``MAX_EXPANDED_NODES`` nodes."""
    size = expanded_size(root, name=name)
    if size > MAX_EXPANDED_NODES:
        raise FatalSchemaError(
            f"{name}: the document expands to {size:,} nodes through YAML aliases (limit "
            f"{MAX_EXPANDED_NODES:,}); replace the aliases with $ref"
        )


def _children(node: Any) -> list[Any]:
    values: Iterable[Any]
    if isinstance(node, dict):
        values = cast("dict[str, Any]", node).values()
    elif isinstance(node, list):
        values = cast("list[Any]", node)
    else:
        return []
    return [value for value in values if isinstance(value, dict | list)]
