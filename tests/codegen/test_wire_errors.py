"""Error responses on the wire (issue 17, items 4 and 5): typed bodies and the server's words.

The regression schema ``tests/fixtures/wire/errors.yaml`` declares errors as ``default``, as
``4XX``/``5XX`` ranges and as one status; each kind is parsed into its declared model and
``str(error)`` carries the message from where that model keeps it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.codegen.support import RecordingServer, Reply, generate_sdk, recording_server

FIXTURE = Path(__file__).parent.parent / "fixtures" / "wire" / "errors.yaml"


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    _, module = generate_sdk(FIXTURE, tmp_path_factory.mktemp("errors"), package="errors_sdk")
    return module


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with recording_server() as s:
        yield s


def _client(sdk: ModuleType, server: RecordingServer) -> Any:
    return sdk.Client(base_url=server.url, max_retries=0, token="sk_test_secret_123456")


def test_default_response_is_parsed_into_its_model_when_no_status_matches(
    sdk: ModuleType, server: RecordingServer
) -> None:
    body = {"error": {"type": "invalid_request_error", "message": "No such customer: 'cus_1'"}}
    server.routes[("GET", "/default")] = Reply(404, body)
    with pytest.raises(sdk.NotFoundError) as caught:
        _client(sdk, server).errors.with_default()
    assert type(caught.value.body).__name__ == "StripeError"
    assert caught.value.body.error.type == "invalid_request_error"
    assert "No such customer: 'cus_1'" in str(caught.value)


def test_range_response_is_parsed_into_its_model_when_status_is_in_4xx(
    sdk: ModuleType, server: RecordingServer
) -> None:
    body = {"error": "invalid_grant", "error_description": "The code has expired"}
    server.routes[("GET", "/ranges")] = Reply(400, body)
    with pytest.raises(sdk.BadRequestError) as caught:
        _client(sdk, server).errors.with_ranges()
    assert type(caught.value.body).__name__ == "OAuthError"
    assert str(caught.value).endswith("returned 400 (The code has expired)")


def test_range_response_is_parsed_into_its_model_when_status_is_in_5xx(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/ranges")] = Reply(503, {"faultCode": 7, "reasonText": "maintenance"})
    with pytest.raises(sdk.InternalServerError) as caught:
        _client(sdk, server).errors.with_ranges()
    assert type(caught.value.body).__name__ == "Fault"
    assert caught.value.body.fault_code == 7
    assert "(maintenance)" in str(caught.value)


def test_exact_status_wins_over_its_range_when_both_are_declared(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/ranges")] = Reply(
        404, {"message": "Not Found", "documentation_url": "x"}
    )
    with pytest.raises(sdk.NotFoundError) as caught:
        _client(sdk, server).errors.with_ranges()
    assert type(caught.value.body).__name__ == "GitHubError"
    assert "(Not Found)" in str(caught.value)


def test_message_masks_credentials_when_the_server_echoes_them(
    sdk: ModuleType, server: RecordingServer
) -> None:
    long = "Invalid API Key provided: sk_test_secret_123456; " + "x" * 400
    server.routes[("GET", "/default")] = Reply(401, {"error": {"message": long}})
    with pytest.raises(sdk.AuthenticationError) as caught:
        _client(sdk, server).errors.with_default()
    text = str(caught.value)
    assert "sk_test_secret_123456" not in text
    assert "Invalid API Key provided: ***" in text
    assert len(text) < 450
