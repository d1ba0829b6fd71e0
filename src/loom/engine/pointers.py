"""JSON pointers (RFC 6901), the locations every engine error carries."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["escape_pointer", "join_pointer"]


def escape_pointer(token: object) -> str:
    """One reference token: ``~`` becomes ``~0`` and ``/`` becomes ``~1``."""
    return str(token).replace("~", "~0").replace("/", "~1")


def join_pointer(parts: Iterable[object]) -> str:
    """The pointer to ``parts`` (``""`` for none: the whole document)."""
    return "".join(f"/{escape_pointer(part)}" for part in parts)
