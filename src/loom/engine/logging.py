"""Structured JSON logs with a correlation id per request and per execution.

The correlation id lives in a context variable: the HTTP middleware sets it from
``X-Correlation-ID`` (or a new one), the scheduler sets it to the execution's while it runs one
of its steps. Values under secret-looking keys in ``extra={"data": ...}`` are masked, and so
is what looks secret inside the message itself (``{"token": ...}`` written by a ``log`` step,
the execution's secret params copied into text; see :func:`loom.engine.masking.mask_text`).
Messages are cut at :data:`~loom.engine.limits.MAX_TEXT_CHARS`, and terminal colour codes
(uvicorn adds them to its records) never reach a JSON line.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from loom.engine.limits import MAX_TEXT_CHARS, clip
from loom.engine.masking import DEFAULT_SECRET_PATTERNS, mask_secrets, mask_text

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "loom_correlation_id", default=None
)

# color_message: uvicorn's copy of the message with terminal colour codes.
_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
MAX_EXCEPTION_CHARS = 32_768


def _plain(text: str) -> str:
    return _ANSI.sub("", text) if "\x1b" in text else text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation id, extras."""

    def __init__(self, *, secret_patterns: Sequence[str] | None = None) -> None:
        super().__init__()
        self._patterns = tuple(secret_patterns) if secret_patterns else DEFAULT_SECRET_PATTERNS

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _plain(clip(record.getMessage(), MAX_TEXT_CHARS)),
        }
        cid = correlation_id.get()
        if cid:
            entry["correlation_id"] = cid
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = (
                    _plain(clip(value, MAX_TEXT_CHARS)) if isinstance(value, str) else value
                )
        if record.exc_info:
            entry["exception"] = _plain(
                clip(self.formatException(record.exc_info), MAX_EXCEPTION_CHARS)
            )
        masked = mask_secrets(entry, patterns=self._patterns)
        return json.dumps(masked, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Human-readable lines, masked and cut like the JSON ones."""

    def __init__(self, fmt: str, *, secret_patterns: Sequence[str] | None = None) -> None:
        super().__init__(fmt)
        self._patterns = tuple(secret_patterns) if secret_patterns else DEFAULT_SECRET_PATTERNS

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(clip(super().format(record), MAX_EXCEPTION_CHARS), self._patterns)


class _CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation = correlation_id.get() or "-"
        return True


def configure_logging(
    *, level: str = "INFO", json_lines: bool = True, secret_patterns: Sequence[str] | None = None
) -> None:
    """Send every log record to stderr, as JSON lines or as plain text.

    Args:
        level: the root level.
        json_lines: JSON objects (default) or human-readable lines.
        secret_patterns: regexes of keys whose values are masked.
    """
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter(secret_patterns=secret_patterns))
    else:
        handler.addFilter(_CorrelationFilter())
        handler.setFormatter(
            TextFormatter(
                "%(asctime)s %(levelname)s %(name)s [%(correlation)s] %(message)s",
                secret_patterns=secret_patterns,
            )
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
