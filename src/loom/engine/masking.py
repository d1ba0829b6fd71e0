"""Masking of secret values in logs and API responses.

A value is secret when its key looks secret (``password``, ``api_key``, ``Authorization``...,
configurable regular expressions matched case-insensitively anywhere in the key). Secret
values are replaced by ``"***"`` wherever they are nested; the password of a URL
(``postgresql://user:pw@host/db``) in any string is masked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, cast

__all__ = [
    "DEFAULT_SECRET_PATTERNS",
    "MASK",
    "compile_patterns",
    "is_secret_key",
    "mask_secrets",
    "mask_url_credentials",
]

MASK = "***"

DEFAULT_SECRET_PATTERNS: tuple[str, ...] = (
    r"passw(or)?d",
    r"passphrase",
    r"secret",
    r"token",
    r"api[-_ ]?key",
    r"access[-_ ]?key",
    r"private[-_ ]?key",
    r"authori[sz]ation",
    r"(^|[-_ ])auth($|[-_ ])",
    r"credential",
    r"cookie",
    r"session[-_ ]?id",
    r"signature",
    r"^pwd$",
    r"dsn",
)

# scheme://user:password@host — the password is group 2.
_URL_CREDENTIALS = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]*:)([^/\s@]+)(@)")


@lru_cache(maxsize=64)
def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def compile_patterns(patterns: Iterable[str | re.Pattern[str]]) -> re.Pattern[str]:
    """One case-insensitive regular expression matching any of ``patterns``.

    Raises:
        re.error: a pattern is not a valid regular expression.
    """
    sources = tuple(p.pattern if isinstance(p, re.Pattern) else p for p in patterns)
    if not sources:
        return re.compile(r"(?!)")  # matches nothing
    return _compile(sources)


def is_secret_key(
    key: object, patterns: Iterable[str | re.Pattern[str]] = DEFAULT_SECRET_PATTERNS
) -> bool:
    """Whether a key looks like it holds a secret."""
    return isinstance(key, str) and compile_patterns(patterns).search(key) is not None


def mask_url_credentials(text: str) -> str:
    """``scheme://user:password@host`` becomes ``scheme://user:***@host`` inside ``text``."""
    if "://" not in text:
        return text
    return _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)


def mask_secrets(
    value: Any,
    patterns: Iterable[str | re.Pattern[str]] = DEFAULT_SECRET_PATTERNS,
    *,
    max_depth: int = 64,
) -> Any:
    """A copy of ``value`` with the values under secret-looking keys replaced by ``"***"``.

    Mappings and lists are walked recursively (tuples become lists); a secret key masks its
    whole value, even a nested object. Strings everywhere have URL passwords masked.

    Args:
        value: JSON-like data (typically params, outputs or a log record's extras).
        patterns: regular expressions for secret key names (case-insensitive search).
        max_depth: deeper structures are replaced by ``"***"`` rather than walked.

    Returns:
        The masked copy; ``value`` itself is not modified.
    """
    matcher = compile_patterns(patterns)
    return _mask(value, matcher, max_depth)


def _mask(value: object, matcher: re.Pattern[str], depth: int) -> object:
    if isinstance(value, str):
        return mask_url_credentials(value)
    if depth <= 0 and isinstance(value, Mapping | list | tuple):
        return MASK
    if isinstance(value, Mapping):
        result: dict[object, object] = {}
        for key, item in cast("Mapping[object, object]", value).items():
            if isinstance(key, str) and matcher.search(key) is not None:
                result[key] = MASK if item is not None else None
            else:
                result[key] = _mask(item, matcher, depth - 1)
        return result
    if isinstance(value, list | tuple):
        return [_mask(item, matcher, depth - 1) for item in cast("list[object]", value)]
    return value
