"""Structured logs: one JSON object per line, correlation id, masked secrets."""

from __future__ import annotations

import json
import logging

from loom.engine.logging import JsonFormatter, correlation_id


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("loom.test", logging.INFO, __file__, 1, message, (), None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_log_line_is_json_with_correlation_id_when_one_is_set() -> None:
    token = correlation_id.set("req-42")
    try:
        line = JsonFormatter().format(_record("hello %s", step="a"))
    finally:
        correlation_id.reset(token)
    entry = json.loads(line)
    assert entry["message"] == "hello %s"
    assert entry["correlation_id"] == "req-42"
    assert entry["level"] == "info"
    assert entry["step"] == "a"


def test_secret_values_are_masked_when_logged_as_extras() -> None:
    record = _record(
        "calling", data={"url": "https://x", "api_key": "k-123", "nested": {"password": "p"}}
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["data"]["api_key"] == "***"
    assert entry["data"]["nested"]["password"] == "***"
    assert entry["data"]["url"] == "https://x"


def test_custom_patterns_mask_other_keys_when_configured() -> None:
    record = _record("x", data={"pin_code": "1234", "token": "t"})
    entry = json.loads(JsonFormatter(secret_patterns=[r"pin"]).format(record))
    assert entry["data"]["pin_code"] == "***"
    assert entry["data"]["token"] == "t"


def test_log_line_is_cut_and_plain_when_message_is_huge_or_coloured() -> None:
    huge = json.loads(JsonFormatter().format(_record("x" * 3_000_000)))
    assert len(huge["message"]) < 9_000
    assert huge["message"].endswith("more characters dropped]")
    record = _record("\x1b[32mINFO\x1b[0m started", color_message="\x1b[32mINFO\x1b[0m")
    line = JsonFormatter().format(record)
    assert "\x1b" not in line
    assert "\\u001b" not in line
    assert json.loads(line)["message"] == "INFO started"


def test_secret_pairs_inside_a_message_are_masked_when_logged() -> None:
    message = (
        'step say: {"token": "abc123", "note": "hi"} password=hunter2 Authorization: Bearer xyz'
    )
    entry = json.loads(JsonFormatter().format(_record(message)))
    assert "abc123" not in entry["message"]
    assert "hunter2" not in entry["message"]
    assert "xyz" not in entry["message"]
    assert '"note": "hi"' in entry["message"]
