"""Bounds on what a client may send and on what the engine stores, and the checks behind them.

Every input and every stored value has a bound (the table in ``docs/engine.md`` lists them):

==============================  ===========  ==================================================
value                           bound        when exceeded
==============================  ===========  ==================================================
a request body                  2 MiB        413, before the body is parsed
a pipeline definition (JSON)    1 MiB        413 (stored) or 422 at ``/definition`` (inline)
nesting of any JSON/YAML value  64 levels    422 with the pointer where it goes too deep
YAML aliases, expanded          100,000      422 (an "alias bomb" is refused before it grows)
execution ``params`` (JSON)     256 KiB      422 at ``/params``
``callback_topics``             50 of 256    422 at the topic
a step's outputs (JSON)         256 KiB      the step fails with a message saying so
an error, an event message      8,192 chars  cut, with a marker saying how much was dropped
a log line's message            8,192 chars  cut, with the same marker
==============================  ===========  ==================================================

Text is checked for what the databases cannot hold: lone UTF-16 surrogates (not UTF-8) and NUL
(PostgreSQL's ``text`` and ``jsonb`` refuse it). Client input holding either is refused with a
pointer; values the engine produces itself (step outputs, errors) are made storable by
:mod:`loom.engine.db.storable` instead, so that nothing is written that a later read cannot
return.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import cast

from loom.engine.pointers import escape_pointer

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_CALLBACK_TOPICS",
    "MAX_CALLBACK_TOPIC_CHARS",
    "MAX_DEFINITION_BYTES",
    "MAX_DEPTH",
    "MAX_OUTPUTS_BYTES",
    "MAX_PARAMS_BYTES",
    "MAX_TEXT_CHARS",
    "MAX_YAML_NODES",
    "BoundError",
    "check_json",
    "check_text",
    "clip",
    "json_size",
]

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_DEFINITION_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_YAML_NODES = 100_000
MAX_PARAMS_BYTES = 256 * 1024
MAX_CALLBACK_TOPICS = 50
MAX_CALLBACK_TOPIC_CHARS = 256
MAX_OUTPUTS_BYTES = 256 * 1024
MAX_TEXT_CHARS = 8192

_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(slots=True)
class BoundError(ValueError):
    """A value breaks a bound or cannot be stored.

    Attributes:
        pointer: RFC 6901 pointer to the value, relative to what was checked.
        message: one sentence saying what is wrong and what the bound is.
        code: ``depth``, ``surrogate``, ``nul``, ``number``, ``type``, ``key`` or ``too_large``.
    """

    pointer: str
    message: str
    code: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


def check_text(text: str, pointer: str = "") -> None:
    """Refuse text the databases cannot store (a lone surrogate, a NUL character).

    Raises:
        BoundError: the first problem, located by ``pointer``.
    """
    if text.isascii():
        if "\x00" in text:
            raise BoundError(pointer, "text must not contain NUL characters", "nul")
        return
    if _SURROGATE.search(text) is not None:
        raise BoundError(
            pointer, "text must be valid Unicode (it holds a lone UTF-16 surrogate)", "surrogate"
        )
    if "\x00" in text:
        raise BoundError(pointer, "text must not contain NUL characters", "nul")


def check_json(value: object, pointer: str = "", *, max_depth: int = MAX_DEPTH) -> None:
    """Check that ``value`` is plain, storable JSON no deeper than ``max_depth``.

    Plain JSON: objects with string keys, arrays, strings, finite numbers, booleans and null
    (YAML can also produce dates, sets, binary and non-string keys). The walk is iterative, so
    a deep value cannot exhaust the interpreter's stack here.

    Raises:
        BoundError: the first problem found, with its pointer.
    """
    stack: list[tuple[object, str, int]] = [(value, pointer, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            check_text(item, where)
        elif isinstance(item, bool) or item is None or isinstance(item, int):
            continue
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise BoundError(where, "numbers must be finite (no NaN or Infinity)", "number")
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise BoundError(where, f"nested deeper than {max_depth} levels", "depth")
            if isinstance(item, dict):
                for key, sub in cast("dict[object, object]", item).items():
                    if not isinstance(key, str):
                        raise BoundError(where, f"object keys must be strings, not {key!r}", "key")
                    token = f"{where}/{escape_pointer(key)}"
                    check_text(key, token)
                    stack.append((sub, token, depth + 1))
            else:
                for index, sub in enumerate(cast("list[object]", item)):
                    stack.append((sub, f"{where}/{index}", depth + 1))
        else:
            raise BoundError(
                where,
                f"a {type(item).__name__} is not a JSON value (quote it to make it a string)",
                "type",
            )


def json_size(value: object) -> int:
    """The length of ``value`` as compact JSON (the form the engine stores)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))


def clip(text: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """``text`` cut to ``max_chars`` characters, saying how many were dropped."""
    if len(text) <= max_chars:
        return text
    dropped = len(text) - max_chars
    return f"{text[:max_chars]}… [{dropped} more characters dropped]"
