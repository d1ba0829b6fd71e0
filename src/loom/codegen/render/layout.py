"""Lines laid out as ``ruff format`` lays them out, for the shapes loom emits most.

The SDK is formatted by ruff (line length :data:`LINE_LENGTH`, from the SDK's
``pyproject.toml``). Model modules are most of the files and use only a few shapes: imports,
``name: T = Field(arg, ...)`` lines, enum members, docstrings. Written here exactly as ruff
would write them, they need no formatting pass; a module with anything this module is not
sure about is marked and goes through ruff as before (``render.models``). The tests hold
every module marked as formatted against ruff's own output.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["LINE_LENGTH", "call_statement", "fits", "from_import"]

LINE_LENGTH = 100
# False: emit every statement on one line and leave the splitting to ruff (the tests compare
# the two ways: ruff must turn the one-line text into exactly what this module writes).
SPLIT = True


def fits(line: str) -> bool | None:
    """Whether ruff sees ``line`` within the line length; ``None`` when that depends on how
    wide ruff counts its non-ASCII characters (0 to 2 columns each: combining marks, East
    Asian wide characters), which only ruff can tell.
    """
    n = len(line)
    if line.isascii():
        return n <= LINE_LENGTH
    ascii_count = n - sum(1 for ch in line if not ch.isascii())
    if ascii_count > LINE_LENGTH:
        return False
    if ascii_count + 2 * (n - ascii_count) <= LINE_LENGTH:
        return True
    return None


def call_statement(head: str, args: Sequence[str], indent: str) -> str | None:
    """``head(arg, ...)`` as ruff formats it, or ``None`` when ruff might do otherwise.

    ``head`` ends with the callee (``    name: T = Field``) and starts with ``indent``; each
    argument is an atom or a keyword argument that ruff would not split further. Ruff keeps
    the call on one line if it fits, else puts the arguments on one line of their own if that
    fits, else one argument per line with a trailing comma.
    """
    one = f"{head}({', '.join(args)})"
    if not SPLIT:
        return one
    fit = fits(one)
    if fit is None:
        return None
    if fit:
        return one
    if not args or fits(head + "(") is not True:
        return None
    inner = indent + "    "
    joined = inner + ", ".join(args)
    fit = fits(joined)
    if fit is None:
        return None
    if fit:
        return f"{head}(\n{joined}\n{indent})"
    lines = [f"{inner}{arg}," for arg in args]
    if not all(fits(line) is True for line in lines):
        return None
    return f"{head}(\n" + "\n".join(lines) + f"\n{indent})"


def from_import(module: str, names: Sequence[str], indent: str = "") -> str:
    """``from module import a, b``; when too long, one name per line in parentheses (ruff
    always explodes an import it has to split)."""
    line = f"{indent}from {module} import {', '.join(names)}"
    if not SPLIT or fits(line) is not False:  # names are ASCII identifiers: never None
        return line
    inner = indent + "    "
    return (
        f"{indent}from {module} import (\n"
        + "".join(f"{inner}{n},\n" for n in names)
        + f"{indent})"
    )
