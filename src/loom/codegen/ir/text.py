"""Schema prose as plain text: HTML (Stripe writes ``<p>…</p>``) turned into docstring text.

Tags are dropped, ``<code>`` becomes backticks, paragraphs, line breaks and list items become
line breaks, and entities are decoded. Text without markup is returned unchanged.
"""

from __future__ import annotations

import html
import re

__all__ = ["plain_text"]

_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>")
_LOOKS_HTML = re.compile(r"</?(?:p|a|code|br|ul|ol|li|em|strong|b|i|span|div|pre|h[1-6])\b[^<>]*>")
_BLOCK = frozenset({"p", "br", "ul", "ol", "div", "pre", "h1", "h2", "h3", "h4", "h5", "h6"})


def plain_text(text: str) -> str:
    """``text`` without HTML markup (unchanged when it has none)."""
    if not _LOOKS_HTML.search(text):
        return text

    def replace(match: re.Match[str]) -> str:
        tag = match.group(1).lower()
        closing = match.group(0).startswith("</")
        if tag == "code":
            return "``"
        if tag == "li":
            return "" if closing else "\n- "
        if tag in _BLOCK:
            return "\n\n" if tag == "p" and closing else ("\n" if tag == "br" else "")
        return ""

    out = html.unescape(_TAG.sub(replace, text))
    out = re.sub(r"[ \t]+\n", "\n", out)
    return re.sub(r"\n{3,}", "\n\n", out).strip()
