"""Values as both databases can store them and every reader can return them.

PostgreSQL's ``text`` cannot hold NUL (``invalid byte sequence for encoding "UTF8": 0x00``),
and a lone surrogate (``"\\udfff"``) is no UTF-8 at all: the driver cannot send it as text, and
where JSON escaped it on the way in, the JSON answer that reads it back cannot be encoded. What
the engine writes that it did not check at the API edge (step outputs, error messages, resolved
pipeline outputs) goes through here first:

- text columns (errors, event messages): NUL and lone surrogates become U+FFFD;
- JSON values: lone surrogates become U+FFFD in strings and keys; NUL stays (JSON escapes it
  as ``\\u0000``, which both databases store in a JSON column and every reader returns).
"""

from __future__ import annotations

import re
from typing import Any, cast

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_text(text: str) -> str:
    """``text`` with NUL and lone surrogates replaced by U+FFFD."""
    if not text.isascii():
        text = _SURROGATE.sub(REPLACEMENT, text)
    return text.replace("\x00", REPLACEMENT) if "\x00" in text else text


def _string(text: str) -> str:
    return text if text.isascii() else _SURROGATE.sub(REPLACEMENT, text)


def storable_json(value: Any) -> Any:
    """A JSON value with lone surrogates replaced by U+FFFD in every string and key."""
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dict):
        items = cast("dict[Any, Any]", value)
        return {
            (_string(k) if isinstance(k, str) else k): storable_json(v) for k, v in items.items()
        }
    if isinstance(value, list | tuple):
        return [storable_json(v) for v in cast("list[Any]", value)]
    return value
