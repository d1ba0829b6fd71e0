"""JSON pointers and ``$ref`` strings (RFC 6901, RFC 3986 fragments).

A ``$ref`` is split into a file part and a fragment; the fragment is percent-decoded first (it is
a URI fragment, RFC 6901 §6) and then split into reference tokens, each unescaped (``~1`` → ``/``,
then ``~0`` → ``~``, in that order, RFC 6901 §4).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from loom.codegen.diagnostics import escape_pointer_token

_MISSING = object()

REMOTE_PREFIXES = ("http://", "https://", "//", "ftp://", "file:", "urn:", "data:")


def split_ref(ref: str) -> tuple[str, str]:
    """Split a ``$ref`` into ``(file part, fragment)``; the fragment keeps no leading ``#``."""
    file_part, _, fragment = ref.partition("#")
    return file_part, fragment


def is_remote(file_part: str) -> bool:
    """Whether the file part of a ``$ref`` names something that is not a relative file."""
    lowered = file_part.lower()
    return lowered.startswith(REMOTE_PREFIXES) or (
        ":" in lowered.split("/", 1)[0] and not _looks_like_windows_drive(lowered)
    )


def _looks_like_windows_drive(text: str) -> bool:
    return len(text) >= 2 and text[1] == ":" and text[0].isalpha()


def parse_fragment(fragment: str) -> tuple[str, ...]:
    """Turn a URI fragment (``/components/schemas/Pet``) into unescaped tokens.

    Raises:
        ValueError: the fragment is not empty and does not start with ``/``.
    """
    decoded = unquote(fragment)
    if decoded == "":
        return ()
    if not decoded.startswith("/"):
        raise ValueError(
            f"{decoded!r} is not a JSON pointer (it must be empty or start with '/'); "
            "plain-name fragments (JSON Schema anchors) are not supported, write "
            "#/components/schemas/Name instead"
        )
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in decoded[1:].split("/"))


def format_pointer(tokens: tuple[str, ...] | list[str | int]) -> str:
    """Build ``#/a/b~1c`` from tokens (the inverse of ``parse_fragment`` for plain text)."""
    if not tokens:
        return "#"
    return "#/" + "/".join(escape_pointer_token(str(t)) for t in tokens)


def resolve(root: Any, tokens: tuple[str, ...]) -> Any:
    """Follow ``tokens`` from ``root``; returns ``MISSING`` when a token does not exist."""
    node: Any = root
    for token in tokens:
        if isinstance(node, dict):
            node = node.get(token, _MISSING)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        elif isinstance(node, list):
            if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
                return _MISSING
            index = int(token)
            if index >= len(node):  # pyright: ignore[reportUnknownArgumentType]
                return _MISSING
            node = node[index]  # pyright: ignore[reportUnknownVariableType]
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node  # pyright: ignore[reportUnknownVariableType]


def is_missing(value: object) -> bool:
    """Whether ``resolve`` found nothing."""
    return value is _MISSING
