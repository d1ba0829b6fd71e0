"""Masking of secret values in every sink: API responses, logs, events and error texts.

A value is secret when its key looks secret (``password``, ``api_key``, ``Authorization``...,
configurable regular expressions matched case-insensitively anywhere in the key). Secret
values are replaced by ``"***"`` wherever they are nested. Inside any string, three more kinds
are masked: the password of a URL (``postgresql://user:pw@host/db``), the value of a
secret-named pair written as text (``{"token": "abc"}``, ``api_key=abc``), and every known
secret value (:data:`known_secrets`: the values under secret keys of the execution being
served or run), so a secret copied under another key or into an error message is masked too.

Masked values are write-only: :func:`restore_masked` puts the stored value back wherever a
client sends a definition back with the mask it was shown, so GET, edit, PUT keeps secrets.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, cast

__all__ = [
    "DEFAULT_SECRET_PATTERNS",
    "MASK",
    "compile_patterns",
    "is_secret_key",
    "known_secrets",
    "mask_secrets",
    "mask_text",
    "mask_url_credentials",
    "restore_masked",
    "secret_values",
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
# A key/value pair written as text: "key": "value", 'key': value, key=value (group 2: the key,
# group 4: the value).
_PAIR = re.compile(
    r"""(["']?)([A-Za-z_][\w\-.]{0,63})\1(\s*[:=]\s*)("(?:[^"\\]|\\.)*"|'[^']*'|(?:(?i:bearer|basic|token|digest)\s+)?[^\s,;&{}\[\]"']+)"""
)
# Secrets shorter than this are not looked for inside other text (too many false matches).
MIN_KNOWN_SECRET_CHARS = 4

known_secrets: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "loom_known_secrets", default=frozenset()
)


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


def mask_text(
    text: str,
    patterns: Iterable[str | re.Pattern[str]] = DEFAULT_SECRET_PATTERNS,
    *,
    secrets: Iterable[str] | None = None,
) -> str:
    """Mask what looks secret inside free text (a log message, an error, an event).

    URL passwords, values of secret-named pairs (``"token": "abc"``, ``password=abc``) and
    every one of ``secrets`` (by default :data:`known_secrets`) become ``***``.
    """
    text = mask_url_credentials(text)
    matcher = compile_patterns(patterns)
    if (":" in text or "=" in text) and matcher.search(text) is not None:

        def pair(m: re.Match[str]) -> str:
            if matcher.search(m.group(2)) is None:
                return m.group(0)
            quote = m.group(4)[0] if m.group(4)[:1] in ('"', "'") else ""
            return f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{quote}{MASK}{quote}"

        text = _PAIR.sub(pair, text)
    for secret in known_secrets.get() if secrets is None else secrets:
        if len(secret) >= MIN_KNOWN_SECRET_CHARS and secret in text:
            text = text.replace(secret, MASK)
    return text


def secret_values(
    value: object, patterns: Iterable[str | re.Pattern[str]] = DEFAULT_SECRET_PATTERNS
) -> frozenset[str]:
    """The strings under secret-looking keys in ``value`` (what :data:`known_secrets` holds)."""
    matcher = compile_patterns(patterns)
    found: set[str] = set()
    stack: list[tuple[object, bool]] = [(value, False)]
    while stack:
        item, secret = stack.pop()
        if isinstance(item, str):
            if secret and item != MASK:
                found.add(item)
        elif isinstance(item, Mapping):
            for key, sub in cast("Mapping[object, object]", item).items():
                stack.append((sub, secret or (isinstance(key, str) and bool(matcher.search(key)))))
        elif isinstance(item, list | tuple):
            stack.extend((sub, secret) for sub in cast("list[object]", item))
    return frozenset(found)


def mask_secrets(
    value: Any,
    patterns: Iterable[str | re.Pattern[str]] = DEFAULT_SECRET_PATTERNS,
    *,
    max_depth: int = 64,
    secrets: Iterable[str] | None = None,
) -> Any:
    """A copy of ``value`` with the values under secret-looking keys replaced by ``"***"``.

    Mappings and lists are walked recursively (tuples become lists); a secret key masks its
    whole value, even a nested object. Strings everywhere have URL passwords masked.

    Args:
        value: JSON-like data (typically params, outputs or a log record's extras).
        patterns: regular expressions for secret key names (case-insensitive search).
        max_depth: deeper structures are replaced by ``"***"`` rather than walked.
        secrets: values masked wherever they appear in a string (default: :data:`known_secrets`).

    Returns:
        The masked copy; ``value`` itself is not modified.
    """
    matcher = compile_patterns(patterns)
    known = known_secrets.get() if secrets is None else frozenset(secrets)
    return _mask(value, matcher, max_depth, tuple(patterns), known)


def _mask(
    value: object,
    matcher: re.Pattern[str],
    depth: int,
    patterns: tuple[str | re.Pattern[str], ...],
    secrets: frozenset[str],
) -> object:
    if isinstance(value, str):
        return mask_text(value, patterns, secrets=secrets)
    if depth <= 0 and isinstance(value, Mapping | list | tuple):
        return MASK
    if isinstance(value, Mapping):
        result: dict[object, object] = {}
        for key, item in cast("Mapping[object, object]", value).items():
            if isinstance(key, str) and matcher.search(key) is not None:
                result[key] = MASK if item is not None else None
            else:
                result[key] = _mask(item, matcher, depth - 1, patterns, secrets)
        return result
    if isinstance(value, list | tuple):
        return [
            _mask(item, matcher, depth - 1, patterns, secrets)
            for item in cast("list[object]", value)
        ]
    return value


def restore_masked(sent: object, stored: object, mask: Any) -> object:
    """``sent`` with every part that equals the masked form of ``stored`` replaced by ``stored``.

    A client that GETs a definition sees secrets as ``***``; when it sends the definition back
    (edited elsewhere), the parts it left as shown keep their stored secret instead of
    becoming the literal mask. Objects are matched by key, lists of objects by their ``id``
    or ``name`` (then by position), so reordering steps or parameters keeps working.

    Args:
        sent: the value the client sent.
        stored: the value stored now (the current version).
        mask: the masking function that made what the client was shown.
    """
    if sent == stored:
        return sent
    if sent == mask(stored):
        return stored
    if isinstance(sent, dict) and isinstance(stored, dict):
        old = cast("dict[str, object]", stored)
        return {
            k: restore_masked(v, old[k], mask) if k in old else v
            for k, v in cast("dict[str, object]", sent).items()
        }
    if isinstance(sent, list) and isinstance(stored, list):
        old_items = cast("list[object]", stored)
        by_name = {_identity(item): item for item in old_items if _identity(item) is not None}
        restored: list[object] = []
        for index, item in enumerate(cast("list[object]", sent)):
            name = _identity(item)
            if name is not None and name in by_name:
                restored.append(restore_masked(item, by_name[name], mask))
            elif index < len(old_items):
                restored.append(restore_masked(item, old_items[index], mask))
            else:
                restored.append(item)
        return restored
    return cast("object", sent)


def _identity(item: object) -> str | None:
    if isinstance(item, dict):
        entry = cast("dict[str, object]", item)
        for key in ("id", "name"):
            if isinstance(entry.get(key), str):
                return f"{key}:{entry[key]}"
    return None
