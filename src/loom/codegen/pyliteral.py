"""Python literals for values from a schema, written as ``ruff format`` would write them.

Schema text reaches generated code only through these functions (and docstrings), so it can
never become code; and since the literal is already in ruff's preferred form, the formatter
has nothing left to change in it.
"""

from __future__ import annotations

__all__ = ["py_literal", "py_string"]


def py_string(text: str) -> str:
    """A string literal for ``text``: double quotes unless ``text`` holds more double than
    single quotes (ruff's rule), the chosen quote and backslashes escaped, and every character
    that ``repr`` would escape escaped the same way (controls, surrogates, separators)."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    if text.isascii() and text.isprintable() and quote not in text and "\\" not in text:
        return f"{quote}{text}{quote}"
    out: list[str] = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == quote:
            out.append("\\" + quote)
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(repr(ch)[1:-1])
    return quote + "".join(out) + quote


def py_literal(value: str | int | float | bool | None) -> str:
    """A literal for a JSON scalar (strings through :func:`py_string`)."""
    return py_string(value) if isinstance(value, str) else repr(value)
