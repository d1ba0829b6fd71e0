"""Read a form body back the way Stripe's (Rack-style) servers do: ``a[b][c]=1``, ``a[0]=x``.

A test helper: brackets nest objects, numeric (or empty) brackets index arrays, and a key given
several times without brackets collects its values into a list (form/explode arrays).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_BRACKETS = re.compile(r"\[([^\[\]]*)\]")


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        items: dict[str, Any] = {k: _listify(v) for k, v in node.items()}  # pyright: ignore[reportUnknownVariableType]
        if items and all(k.isdigit() for k in items):
            return [items[k] for k in sorted(items, key=int)]
        return items
    return node


def parse_bracket_form(body: bytes | str) -> dict[str, Any]:
    """The nested structure a bracket-aware server reads from a urlencoded body."""
    text = body.decode() if isinstance(body, bytes) else body
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True, strict_parsing=True):
        head, _, rest = key.partition("[")
        tokens = [head, *_BRACKETS.findall("[" + rest)] if rest else [head]
        node = root
        for i, raw in enumerate(tokens):
            last = i == len(tokens) - 1
            token = raw or str(sum(1 for k in node if k.isdigit()))  # ``a[]``: the next index
            if last:
                if token in node and not isinstance(node[token], dict):
                    previous = node[token]
                    node[token] = (
                        [*previous, value]
                        if isinstance(previous, list)
                        else [
                            previous,
                            value,
                        ]
                    )
                else:
                    node[token] = value
            else:
                node = node.setdefault(token, {})
    return _listify(root)
