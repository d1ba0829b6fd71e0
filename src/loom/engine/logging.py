"""Structured JSON logs with a correlation id per request and per execution.

The correlation id lives in a context variable: the HTTP middleware sets it from
``X-Correlation-ID`` (or a new one), the scheduler sets it to the execution's while it runs one
of its steps. Values under secret-looking keys in ``extra={"data": ...}`` are masked.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from loom.engine.masking import mask_secrets

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "loom_correlation_id", default=None
)

_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation id, extras."""

    def __init__(self, *, secret_patterns: Sequence[str] | None = None) -> None:
        super().__init__()
        self._patterns = tuple(secret_patterns) if secret_patterns else None

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        cid = correlation_id.get()
        if cid:
            entry["correlation_id"] = cid
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        masked = (
            mask_secrets(entry, patterns=self._patterns) if self._patterns else mask_secrets(entry)
        )
        return json.dumps(masked, default=str, ensure_ascii=False)


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
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(correlation)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
