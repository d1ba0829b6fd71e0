"""The server's own words for an error: a short, secret-free message from an error body.

APIs put the human-readable part of an error in different places: RFC 9457 problem details
(``title`` and ``detail``), ``{"message": ...}`` (GitHub), ``{"error": {"message": ...}}``
(Stripe), OAuth 2.0's ``error_description`` (RFC 6749 §5.2), ``{"errors": [...]}`` lists. The
body may be the operation's declared error model or raw JSON; a model is read through its wire
names, so the same search applies to both. What is found is cut to one line of at most
``MAX_CHARS`` characters, and anything that looks like a credential (the request's own
credentials, ``key=value`` pairs named like secrets, bearer tokens) is masked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import pydantic

if TYPE_CHECKING:
    import httpx

__all__ = ["MAX_CHARS", "describe", "error_message", "redact"]

MAX_CHARS = 300
_MASK = "***"
# The most message-like names first; the search takes the first that holds text.
_MESSAGE_KEYS = (
    "message",
    "error_description",
    "errorMessage",
    "error_message",
    "detail",
    "details",
    "msg",
    "reason",
    "description",
    "error",
    "title",
)
_MESSAGE_WORDS = ("message", "msg", "description", "detail", "reason", "text")
_CONTAINERS = ("error", "errors", "fault", "data")
_SECRET_PAIR = re.compile(
    r"(?i)\b((?:api[_-]?key|access[_-]?token|token|secret|password|passwd|client[_-]?secret)"
    r"\s*[=:]\s*)([^\s,;&\"']+)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie")


def _plain(body: object) -> object:
    """A model as its wire-named JSON; anything else unchanged."""
    if isinstance(body, pydantic.BaseModel):
        return body.model_dump(mode="json", by_alias=True, exclude_none=True)
    return body


def _text_of(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    return None


def _find(node: object, depth: int) -> str | None:
    """The most message-like text in ``node`` (a mapping or a list), searching two levels."""
    node = _plain(node)
    if isinstance(node, Sequence) and not isinstance(node, str | bytes):
        items = cast("Sequence[object]", node)
        if not items:
            return None
        first = items[0]
        return _text_of(first) or (_find(first, depth - 1) if depth > 0 else None)
    if not isinstance(node, Mapping):
        return None
    mapping = cast("Mapping[str, object]", node)
    for key in _MESSAGE_KEYS:
        text = _text_of(mapping.get(key))
        if text is not None:
            return text
    for word in _MESSAGE_WORDS:  # a model's own name for it: ``errorMsg``, ``reasonText``
        for key, value in mapping.items():
            text = _text_of(value)
            if text is not None and word in key.lower():
                return text
    if depth <= 0:
        return None
    for key in _CONTAINERS:
        found = _find(mapping.get(key), depth - 1)
        if found is not None:
            return found
    return None


def _problem(body: object) -> str | None:
    """RFC 9457 ``title: detail`` when the body has both (problem+json)."""
    node = _plain(body)
    if not isinstance(node, Mapping):
        return None
    mapping = cast("Mapping[str, object]", node)
    title, detail = _text_of(mapping.get("title")), _text_of(mapping.get("detail"))
    if title and detail:
        return f"{title}: {detail}"
    return None


def _request_secrets(request: httpx.Request | None) -> list[str]:
    """Credentials the request carried, so that a server echoing them never shows them."""
    if request is None:
        return []
    out: list[str] = []
    for name, value in request.headers.items():
        lowered = name.lower()
        if lowered == "cookie":
            out.extend(pair.partition("=")[2] for pair in value.split(";"))
        elif lowered in _SECRET_HEADERS:
            out.append(value.split(" ", 1)[-1])  # the credentials after the scheme word
        elif any(w in lowered for w in ("key", "token", "secret")):
            out.append(value)
    out.extend(value for _, value in request.url.params.multi_items())
    return [v.strip() for v in out if len(v.strip()) >= 6]


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` with the given secrets, ``key=value`` credentials and bearer tokens masked."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, _MASK)
    text = _SECRET_PAIR.sub(lambda m: m.group(1) + _MASK, text)
    return _BEARER.sub(lambda m: m.group(1) + " " + _MASK, text)


def error_message(body: object, request: httpx.Request | None = None) -> str:
    """A one-line message from an error body, or ``""`` when it has none.

    Args:
        body: the declared error model, raw JSON, or text.
        request: the request that failed; its credentials are masked if the body repeats them.

    Returns:
        At most ``MAX_CHARS`` characters, secrets masked.
    """
    found: str | None
    if isinstance(body, str):
        stripped = body.strip()
        # an HTML error page says nothing useful in one line
        found = stripped if stripped and not stripped.startswith("<") else None
    else:
        found = _problem(body) or _find(body, 2)
    if found is None:
        return ""
    line = " ".join(redact(found, _request_secrets(request)).split())
    return line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 1] + "…"


def describe(body: Any, request: httpx.Request | None = None) -> str:
    """`` (message)`` for the end of an exception message, or ``""``."""
    text = error_message(body, request)
    return f" ({text})" if text else ""
