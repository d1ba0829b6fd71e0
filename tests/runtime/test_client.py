"""The request loop end to end on loopback: parsing, errors, options, logging, import cost."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import ClassVar

import httpx
import pytest

from loom.runtime.errors import (
    APIResponseValidationError,
    APIStatusError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
)
from loom.runtime.operation import Body, Operation, Param, SdkInfo

from .helpers import (
    CREATE_THING,
    GET_THING,
    TEST_SDK,
    AsyncClient,
    Client,
    Problem,
    Thing,
    thing_server,
)
from .loopback import LoopbackServer, Received, Reply, Script

Serve = Callable[[Script], LoopbackServer]


def test_request_returns_typed_model_when_server_answers_json(serve: Serve) -> None:
    received: list[Received] = []
    server = serve(thing_server(received))
    with Client(base_url=server.url) as client:
        thing = client.request(GET_THING, {"id": 7})
    assert thing == Thing(id=7, name="seven")
    assert received[0].path == "/things/7"
    assert received[0].headers["user-agent"].startswith("test-sdk/1.2.3 loom-runtime python/")


def test_unknown_fields_are_kept_when_response_has_extra_keys(serve: Serve) -> None:
    server = serve(lambda _: Reply(json={"id": 1, "name": "a", "newField": [1]}))
    with Client(base_url=server.url) as client:
        thing = client.request(GET_THING, {"id": 1})
    assert thing.model_extra == {"newField": [1]}


def test_not_found_error_carries_parsed_problem_when_server_answers_404(serve: Serve) -> None:
    server = serve(lambda _: Reply(404, json={"title": "Not Found", "detail": "no thing 3"}))
    with Client(base_url=server.url) as client, pytest.raises(NotFoundError) as info:
        client.request(GET_THING, {"id": 3})
    error = info.value
    assert error.status_code == 404
    assert isinstance(error.body, Problem)
    assert error.body.detail == "no thing 3"
    assert "getThing" in str(error)
    assert "no thing 3" in str(error)


def test_error_body_falls_back_to_raw_json_when_it_does_not_match(serve: Serve) -> None:
    server = serve(lambda _: Reply(400, json={"unexpected": True}))
    with Client(base_url=server.url) as client, pytest.raises(BadRequestError) as info:
        client.request(GET_THING, {"id": 3})
    assert info.value.body == {"unexpected": True}


def test_error_body_falls_back_to_text_when_not_json(serve: Serve) -> None:
    server = serve(lambda _: Reply(500, body=b"boom", headers={"x-should-retry": "false"}))
    with Client(base_url=server.url) as client, pytest.raises(InternalServerError) as info:
        client.request(GET_THING, {"id": 3})
    assert info.value.body == "boom"


def test_validation_error_carries_raw_body_when_success_body_is_wrong(serve: Serve) -> None:
    server = serve(lambda _: Reply(json={"id": "not-a-number", "name": "x"}))
    with Client(base_url=server.url) as client, pytest.raises(APIResponseValidationError) as info:
        client.request(GET_THING, {"id": 1})
    assert info.value.body == {"id": "not-a-number", "name": "x"}
    assert "id" in str(info.value)


def test_per_operation_error_class_is_raised_when_declared(serve: Serve) -> None:
    class ThingMissingError(NotFoundError):
        pass

    op = Operation[Thing](
        operation_id="getThing",
        method="GET",
        path="/things/{id}",
        params=GET_THING.params,
        response=Thing,
        error_classes={404: ThingMissingError},
    )
    server = serve(lambda _: Reply(404, json={"title": "x"}))
    with Client(base_url=server.url) as client, pytest.raises(ThingMissingError):
        client.request(op, {"id": 1})


def test_extra_headers_query_and_body_are_sent_when_given(serve: Serve) -> None:
    received: list[Received] = []
    server = serve(thing_server(received))
    with Client(base_url=server.url, default_headers={"X-Team": "a"}) as client:
        client.request(
            CREATE_THING,
            {},
            extra_headers={"X-Trace": "t1"},
            extra_query={"dry": True},
            extra_body={"name": "n"},
        )
    req = received[0]
    assert req.headers["x-trace"] == "t1"
    assert req.headers["x-team"] == "a"
    assert req.query == "dry=true"
    assert req.json() == {"name": "n"}


def test_body_model_is_sent_by_alias_without_unset_fields_when_posting(serve: Serve) -> None:
    from pydantic import Field

    from loom.runtime.models import BaseModel

    class NewThing(BaseModel):
        display_name: str = Field(validation_alias="displayName", serialization_alias="displayName")
        color: str | None = None

    op = Operation[Thing](
        operation_id="createThing",
        method="POST",
        path="/things",
        params=(Param("tenantId", "query", "form", True),),
        body=Body("application/json", required=True),
        response=Thing,
    )
    received: list[Received] = []
    server = serve(thing_server(received))
    with TenantClient(base_url=server.url, tenant_id="t-9") as client:
        client.request(op, {}, NewThing(display_name="x"))
    assert received[0].json() == {"displayName": "x"}
    assert received[0].headers["content-type"] == "application/json"
    assert received[0].query == "tenantId=t-9"
    # without the SDK's parameter_settings option, no parameter takes a setting's value
    with Client(base_url=server.url, tenant_id="t-9") as client:
        client.request(op, {}, NewThing(display_name="x"))
    assert received[1].query == ""


class TenantClient(Client):
    """An SDK whose configuration turns on ``parameter_settings`` (as Camunda's does)."""

    sdk_info: ClassVar[SdkInfo] = dataclasses.replace(
        TEST_SDK, parameter_settings={"tenantId": "tenant_id"}
    )


def test_body_for_operation_without_body_is_refused_when_given() -> None:
    with (
        Client(base_url="http://127.0.0.1:9") as client,
        pytest.raises(TypeError, match="no request"),
    ):
        client.request(GET_THING, {"id": 1}, {"unexpected": True})


def test_request_raw_returns_status_headers_and_parsed_when_called(serve: Serve) -> None:
    server = serve(lambda _: Reply(json={"id": 1, "name": "a"}, headers={"X-Rate": "5"}))
    with Client(base_url=server.url) as client:
        raw = client.request_raw(GET_THING, {"id": 1})
    assert raw.status_code == 200
    assert raw.headers["x-rate"] == "5"
    assert raw.parsed == Thing(id=1, name="a")
    assert isinstance(raw.http_response, httpx.Response)
    assert raw.request.url.path == "/things/1"


def test_with_options_shares_the_pool_when_copying(serve: Serve) -> None:
    server = serve(thing_server())
    with Client(base_url=server.url) as client:
        client.request(GET_THING, {"id": 1})
        copy = client.with_options(timeout=3.0, max_retries=0)
        copy.request(GET_THING, {"id": 1})
        assert copy.max_retries == 0
        assert client.max_retries == 2
        assert copy._shared is client._shared  # pyright: ignore[reportPrivateUsage]


def test_status_error_message_hides_query_when_api_key_in_query(serve: Serve) -> None:
    server = serve(lambda _: Reply(403, json={"title": "Forbidden"}))
    op = Operation[Thing](
        operation_id="getThing",
        method="GET",
        path="/things",
        params=(Param("key", "query", "form", True),),
        response=Thing,
    )
    with Client(base_url=server.url) as client, pytest.raises(APIStatusError) as info:
        client.request(op, {"key": "super-secret-key"})
    assert "super-secret-key" not in str(info.value)
    assert "super-secret-key" not in repr(info.value)


def test_logs_request_and_response_without_secrets_when_debug(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    server = serve(thing_server())
    logger = logging.getLogger("test.runtime.secrets")
    with (
        caplog.at_level(logging.DEBUG, logger="test.runtime.secrets"),
        Client(base_url=server.url, token="tok-very-secret", logger=logger) as client,
    ):
        client.request(GET_THING, {"id": 1})
        text = caplog.text + repr(client) + repr(client.settings)
    assert "request: GET" in caplog.text
    assert "-> 200" in caplog.text
    assert "tok-very-secret" not in text
    assert "seven" not in caplog.text  # bodies are not logged by default


def test_logs_bodies_when_log_bodies_is_set(serve: Serve, caplog: pytest.LogCaptureFixture) -> None:
    server = serve(thing_server())
    logger = logging.getLogger("test.runtime.bodies")
    with (
        caplog.at_level(logging.DEBUG, logger="test.runtime.bodies"),
        Client(base_url=server.url, logger=logger, log_bodies=True) as client,
    ):
        client.request(GET_THING, {"id": 1})
    assert "seven" in caplog.text


async def test_async_client_returns_typed_model_when_server_answers(serve: Serve) -> None:
    server = serve(thing_server())
    async with AsyncClient(base_url=server.url) as client:
        thing = await client.request(GET_THING, {"id": 7})
        raw = await client.request_raw(GET_THING, {"id": 7})
    assert thing.name == "seven"
    assert raw.parsed == thing


def test_client_construction_skips_httpx_and_pydantic_models_when_imported() -> None:
    code = textwrap.dedent(
        """
        import sys
        from typing import ClassVar
        from loom.runtime.client import SyncAPIClient, AsyncAPIClient
        from loom.runtime.operation import SdkInfo

        class C(SyncAPIClient):
            sdk_info: ClassVar[SdkInfo] = SdkInfo("x", "1", "XSDK", "http://127.0.0.1:1")

        class A(AsyncAPIClient):
            sdk_info: ClassVar[SdkInfo] = SdkInfo("x", "1", "XSDK", "http://127.0.0.1:1")

        C(client_id="a", client_secret="b", oauth_url="http://127.0.0.1:1/t"); A()
        heavy = ("httpx", "ssl", "pydantic.main", "importlib.metadata")
        print(*(name in sys.modules for name in heavy))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.split() == ["False"] * 4, out.stdout + out.stderr


def test_with_options_timeout_applies_to_the_copy_when_server_is_slow(serve: Serve) -> None:
    from loom.runtime.errors import APITimeoutError

    server = serve(lambda _: Reply(delay_seconds=0.3, json={"id": 1, "name": "slow"}))
    with Client(base_url=server.url, max_retries=0) as client:
        with pytest.raises(APITimeoutError):
            client.with_options(timeout=0.05).request(GET_THING, {"id": 1})
        assert client.request(GET_THING, {"id": 1}).name == "slow"


def test_own_http_client_is_used_and_left_open_when_passed(serve: Serve) -> None:
    received: list[Received] = []
    server = serve(thing_server(received))
    own = httpx.Client(headers={"X-Own": "yes"})
    with Client(base_url=server.url, http_client=own) as client:
        client.request(GET_THING, {"id": 1})
    assert received[0].headers["x-own"] == "yes"
    assert received[0].headers["user-agent"].startswith("test-sdk/1.2.3")
    assert not own.is_closed
    own.close()


def test_api_key_from_environment_is_sent_when_strategy_inferred(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[Received] = []
    server = serve(thing_server(received))
    monkeypatch.setenv("TESTSDK_API_KEY", "env-key")
    with Client(base_url=server.url) as client:
        assert client.settings.auth_strategy == "API_KEY"
        client.request(GET_THING, {"id": 1})
    assert received[0].headers["x-api-key"] == "env-key"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pw@host:8443/v2/x?api_key=k#f", "https://host:8443/v2/x"),
        ("http://host/path", "http://host/path"),
        ("http://host/a@b", "http://host/a@b"),
    ],
)
def test_redact_url_drops_userinfo_and_query_when_logging(url: str, expected: str) -> None:
    from loom.runtime._base import redact_url

    assert redact_url(url) == expected
    assert "pw" not in repr(Client(base_url="https://user:pw@host:8443/v2"))
