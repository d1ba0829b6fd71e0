"""The server's words in error messages: common shapes, models, truncation, secrets."""

from __future__ import annotations

import httpx
import pydantic
import pytest

from loom.runtime.error_message import MAX_CHARS, error_message, redact


class _Inner(pydantic.BaseModel):
    message: str | None = None


class _Envelope(pydantic.BaseModel):
    error: _Inner


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"message": "Bad credentials"}, "Bad credentials"),
        ({"error": {"message": "No such customer"}}, "No such customer"),
        ({"error": "invalid_grant", "error_description": "expired"}, "expired"),
        ({"errors": [{"message": "first"}, {"message": "second"}]}, "first"),
        ({"errors": ["plain text"]}, "plain text"),
        ({"title": "Bad Request", "detail": "age must be > 0"}, "Bad Request: age must be > 0"),
        ({"code": 3, "errorMsg": "own name"}, "own name"),
        ({"code": 3}, ""),
        ("  service down \n", "service down"),
        ("<html><body>502</body></html>", ""),
        (None, ""),
    ],
)
def test_message_comes_from_the_usual_places_when_body_is_json(body: object, expected: str) -> None:
    assert error_message(body) == expected


def test_message_is_read_through_wire_names_when_body_is_a_model() -> None:
    assert error_message(_Envelope(error=_Inner(message="from the model"))) == "from the model"


def test_message_is_one_truncated_line_when_the_server_writes_a_lot() -> None:
    text = error_message({"message": "line one\nline two " + "y" * 1000})
    assert text.startswith("line one line two")
    assert len(text) == MAX_CHARS
    assert text.endswith("…")


def test_request_credentials_are_masked_when_the_body_repeats_them() -> None:
    request = httpx.Request(
        "GET",
        "https://api.example.com/x?api_key=query-secret-1",
        headers={"Authorization": "Bearer header-secret-2", "Cookie": "sid=cookie-secret-3"},
    )
    body = {"message": "bad query-secret-1, header-secret-2 and cookie-secret-3"}
    assert error_message(body, request) == "bad ***, *** and ***"


def test_secret_looking_pairs_and_bearer_tokens_are_masked_when_unknown_to_the_request() -> None:
    assert redact("password=hunter2 token: abc Bearer abcdefghijkl") == (
        "password=*** token: *** Bearer ***"
    )
