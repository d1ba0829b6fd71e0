"""Import blocks and ``__all__`` lists in the exact order ruff's isort (I001) and RUF022 want.

Generated modules come out of the renderer already sorted, so the generator formats them with
one ``ruff format`` pass and no ``ruff check --fix`` pass (one process less over every file).
The rules are ruff's defaults (and isort's, ``profile = black``):

- sections in this order, one blank line between them: ``__future__``, standard library,
  third party, local (relative) imports;
- inside a section, ``import x`` statements before ``from x import ...`` statements; modules
  ordered case-insensitively with natural number order, relative modules furthest first
  (``..types`` before ``.models``);
- the names of a ``from`` import merged into one statement and ordered by type:
  ``CONSTANTS``, then ``Classes``, then everything else, each case-insensitively and naturally;
- after the block at module level, two blank lines before a class, function, decorator or
  comment, one before anything else.

``tests/codegen/test_order.py`` checks these keys against ruff itself on awkward names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Final

from loom.codegen.render.layout import from_import

__all__ = [
    "all_sort_key",
    "blank_lines_after_imports",
    "from_import_lines",
    "import_section",
    "member_sort_key",
    "natural_compare",
    "natural_key",
]


def _digit_run(text: str, start: int) -> str:
    end = start
    while end < len(text) and "0" <= text[end] <= "9":
        end += 1
    return text[start:end]


def _compare_runs(a: str, b: str) -> int:
    """Martin Pool's ``strnatcmp`` rules for two digit runs, as ruff's ``natord`` applies them.

    A run with a leading zero compares digit by digit from the left (``01`` < ``1``); otherwise
    the longer run is the larger number, and equal lengths compare digit by digit.
    """
    if a[0] == "0" or b[0] == "0":
        for x, y in zip(a, b, strict=False):
            if x != y:
                return -1 if x < y else 1
        return (len(a) > len(b)) - (len(a) < len(b))
    if len(a) != len(b):
        return -1 if len(a) < len(b) else 1
    return (a > b) - (a < b)


def natural_compare(a: str, b: str) -> int:
    """Natural order (``a2`` < ``a10``): -1, 0 or 1, like ``strnatcmp``."""
    i = j = 0
    while True:
        if i >= len(a) or j >= len(b):
            return (i < len(a)) - (j < len(b))
        ca, cb = a[i], b[j]
        if "0" <= ca <= "9" and "0" <= cb <= "9":
            ra, rb = _digit_run(a, i), _digit_run(b, j)
            result = _compare_runs(ra, rb)
            if result:
                return result
            i += len(ra)
            j += len(rb)
            continue
        if ca != cb:
            return -1 if ca < cb else 1
        i += 1
        j += 1


_DIGIT_RUN: Final = re.compile(r"[0-9]+")


def _encode_run(match: re.Match[str]) -> str:
    run = match.group()
    if run[0] == "0":
        # Compared digit by digit, and a run that ends first is the smaller: the terminator
        # sorts below every digit.
        return run + "!"
    # Longer runs are larger numbers. The length marker is a character between "1" and "@",
    # so it still sorts like a digit against letters and "_"; runs of more than 16 digits
    # share the last marker (and compare digit by digit among themselves).
    return chr(0x30 + min(len(run), 16)) + run


@functools.lru_cache(maxsize=16384)
def natural_key(text: str) -> str:
    """A plain-string key whose order is ``natural_compare``'s (for runs up to 16 digits)."""
    return _DIGIT_RUN.sub(_encode_run, text)


def _member_type(name: str) -> int:
    if len(name) > 1 and name.isupper():
        return 0  # CONSTANT
    if name[:1].isupper():
        return 1  # Class
    return 2  # variable or function


def member_sort_key(name: str) -> tuple[object, ...]:
    """isort's order of the names in ``from m import a, B, C_D`` (order by type)."""
    return (_member_type(name), natural_key(name.lower()), natural_key(name))


def _module_key(module: str) -> tuple[object, ...]:
    stripped = module.lstrip(".")
    level = len(module) - len(stripped)
    return (-level, natural_key(stripped.lower()), natural_key(stripped))


def all_sort_key(name: str) -> tuple[object, ...]:
    """RUF022's isort-style order of ``__all__``: CONSTANTS, Classes, then the rest."""
    kind = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    return (kind, natural_key(name))


def from_import_lines(imports: Mapping[str, Iterable[str]], indent: str = "") -> list[str]:
    """``from m import a, b`` lines, one per module, modules and names in isort order.

    Names may carry an alias (``"Foo as Bar"``); they are kept in the one statement. A line
    too long is split as ``ruff format`` splits it (``layout.from_import``).
    """
    lines: list[str] = []
    for module in sorted(imports, key=_module_key):
        names = sorted(set(imports[module]), key=member_sort_key)
        lines.append(from_import(module, names, indent))
    return lines


def import_section(straight: Iterable[str], froms: Mapping[str, Iterable[str]]) -> list[str]:
    """One section: ``import x`` / ``import x as y`` lines first, then the ``from`` lines."""
    plain = [
        f"import {m}" for m in sorted(set(straight), key=lambda m: _module_key(m.split(" as ")[0]))
    ]
    return plain + from_import_lines(froms)


def blank_lines_after_imports(following: str) -> str:
    """The newlines that end a module-level import block before ``following``.

    isort leaves two blank lines before a class, a function, a decorator or a comment, and
    one before any other statement.
    """
    first = following.lstrip("\n")
    if first.startswith(("class ", "def ", "async def ", "@", "#")):
        return "\n\n\n"
    return "\n\n"
