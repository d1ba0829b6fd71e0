"""A small ``.env`` parser (no python-dotenv dependency), used only when a client opts in.

Accepted syntax, one assignment per line::

    # comment
    KEY=value                 # inline comment after whitespace
    export KEY=value          # the shell's export prefix is ignored
    KEY="double quoted\\n"     # escapes \\n \\t \\r \\" \\\\ ; may span lines
    KEY='single quoted'       # literal, may span lines
    KEY=                      # empty string

No variable expansion: ``$OTHER`` stays literal. Malformed lines are reported with their line
number so a typo never silently drops a setting.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import ConfigurationError

__all__ = ["parse_env_file", "parse_env_text"]

_KEY = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPES:
            out.append(_ESCAPES[text[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _closing_quote(text: str, quote: str) -> int:
    """Index of the unescaped closing quote in ``text`` (after the opening one), or -1."""
    i = 0
    while i < len(text):
        if text[i] == "\\" and quote == '"':
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return -1


def parse_env_text(text: str, *, source: str = ".env") -> dict[str, str]:
    """Parse the text of a ``.env`` file.

    Args:
        text: the file's content.
        source: the file name, for error messages.

    Returns:
        Variables in file order (a later assignment of the same key wins).

    Raises:
        ConfigurationError: a line is neither blank, a comment nor an assignment, or a quote
            is never closed.
    """
    values: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        number = index + 1
        line = lines[index].strip()
        index += 1
        if not line or line.startswith("#"):
            continue
        match = _KEY.match(line)
        if match is None:
            raise ConfigurationError(
                f"{source}:{number}: expected KEY=value, found {line.split('=', 1)[0][:40]!r}"
            )
        key, rest = match.group(1), match.group(2).strip()
        if rest[:1] in ("'", '"'):
            quote = rest[0]
            body = rest[1:]
            end = _closing_quote(body, quote)
            while end < 0 and index < len(lines):
                body += "\n" + lines[index]
                index += 1
                end = _closing_quote(body, quote)
            if end < 0:
                raise ConfigurationError(
                    f"{source}:{number}: {key}: the {quote} quote is not closed"
                )
            raw = body[:end]
            values[key] = _unescape(raw) if quote == '"' else raw
            continue
        comment = re.search(r"\s#", rest)
        if comment is not None:
            rest = rest[: comment.start()]
        values[key] = rest.strip()
    return values


def parse_env_file(path: str | Path) -> dict[str, str]:
    """Read and parse a ``.env`` file; a missing file gives no variables.

    Args:
        path: the file.

    Returns:
        The variables.

    Raises:
        ConfigurationError: the file is malformed or unreadable.
    """
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigurationError(f"cannot read {file}: {exc.strerror}") from None
    return parse_env_text(text, source=str(file))
