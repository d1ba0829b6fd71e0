"""Auth flows against a real loopback OAuth server and API: caching, refresh, 401, concurrency."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx
import pytest

from loom.runtime.auth import ApiKeyAuth, BasicAuth, BearerAuth, OAuth2ClientCredentials
from loom.runtime.client import SyncAPIClient
from loom.runtime.errors import AuthenticationError
from loom.runtime.operation import Operation, SdkInfo, SecurityScheme

from .helpers import AsyncClient, Client
from .loopback import LoopbackServer, Received, Reply, Script, TokenServer

Serve = Callable[[Script], LoopbackServer]

PROTECTED = Operation[dict[str, Any]](
    operation_id="protected", method="GET", path="/api/thing", response=dict[str, Any]
)
PUBLIC = Operation[dict[str, Any]](
    operation_id="public", method="GET", path="/api/public", response=dict[str, Any], security=()
)
SECRET = "s3cret-value"


def oauth_client(server: TokenServer, **kwargs: Any) -> Client:
    return Client(
        base_url=server.server.url,
        client_id="my-client",
        client_secret=SECRET,
        oauth_url=server.token_url,
        audience="my-api",
        **kwargs,
    )


def test_oauth_token_is_fetched_once_and_reused_when_calls_repeat(
    token_server: TokenServer, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("test.runtime.oauth_once")
    with (
        caplog.at_level(logging.DEBUG),
        oauth_client(token_server, scopes="read write", logger=logger) as client,
    ):
        for _ in range(5):
            assert client.request(PROTECTED, {})["token"] == "tok-1"
    assert token_server.token_requests == 1
    assert "requesting an OAuth token" in caplog.text
    assert "tok-1" not in caplog.text
    assert SECRET not in caplog.text
    form = token_server.forms[0]
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "my-client",
        "client_secret": SECRET,
        "audience": "my-api",
        "scope": "read write",
    }


def test_token_request_is_retried_when_token_endpoint_is_briefly_down(
    token_server: TokenServer,
) -> None:
    token_server.token_failures = [503]
    with oauth_client(token_server) as client:
        assert client.request(PROTECTED, {})["token"] == "tok-1"
    assert token_server.token_requests == 2


async def test_token_request_is_retried_when_async_and_endpoint_answers_429(
    token_server: TokenServer,
) -> None:
    token_server.token_failures = [429]
    async with AsyncClient(
        base_url=token_server.server.url,
        client_id="my-client",
        client_secret=SECRET,
        oauth_url=token_server.token_url,
    ) as client:
        assert (await client.request(PROTECTED, {}))["token"] == "tok-1"
    assert token_server.token_requests == 2


def test_oauth_token_is_refreshed_before_expiry_when_lifetime_runs_out(
    token_server: TokenServer,
) -> None:
    token_server.expires_in = 2.0  # renewed after half the lifetime (the skew's cap)
    with oauth_client(token_server) as client:
        assert client.request(PROTECTED, {})["token"] == "tok-1"
        time.sleep(1.1)
        assert client.request(PROTECTED, {})["token"] == "tok-2"
    assert token_server.token_requests == 2


def test_revoked_token_is_renewed_once_and_request_retried_when_api_says_401(
    token_server: TokenServer,
) -> None:
    with oauth_client(token_server) as client:
        client.request(PROTECTED, {})
        token_server.revoked.add("tok-1")
        assert client.request(PROTECTED, {})["token"] == "tok-2"
    assert token_server.token_requests == 2
    assert token_server.api_tokens == ["tok-1", "tok-1", "tok-2"]


def test_authentication_error_after_one_renewal_when_401_persists(
    token_server: TokenServer,
) -> None:
    token_server.expires_in = 3600
    with oauth_client(token_server) as client:
        token_server.revoked.update({"tok-1", "tok-2", "tok-3"})
        with pytest.raises(AuthenticationError):
            client.request(PROTECTED, {})
    assert token_server.token_requests == 2
    assert token_server.api_tokens == ["tok-1", "tok-2"]


def test_operation_without_security_sends_no_token_when_security_is_empty(
    token_server: TokenServer,
) -> None:
    with oauth_client(token_server) as client, pytest.raises(AuthenticationError):
        client.request(PUBLIC, {})
    assert token_server.token_requests == 0
    assert token_server.api_tokens == [""]


def test_fifty_threads_cause_exactly_one_token_request_when_concurrent(
    token_server: TokenServer,
) -> None:
    token_server.token_delay_seconds = 0.2
    results: list[str] = []
    lock = threading.Lock()
    with oauth_client(token_server) as client:
        barrier = threading.Barrier(50)

        def call() -> None:
            barrier.wait()
            token = client.request(PROTECTED, {})["token"]
            with lock:
                results.append(token)

        threads = [threading.Thread(target=call) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert token_server.token_requests == 1
    assert results == ["tok-1"] * 50


async def test_fifty_tasks_cause_exactly_one_token_request_when_concurrent(
    token_server: TokenServer,
) -> None:
    token_server.token_delay_seconds = 0.2
    async with AsyncClient(
        base_url=token_server.server.url,
        client_id="my-client",
        client_secret=SECRET,
        oauth_url=token_server.token_url,
    ) as client:
        results = await asyncio.gather(*(client.request(PROTECTED, {}) for _ in range(50)))
        token_server.revoked.add("tok-1")
        renewed = await asyncio.gather(*(client.request(PROTECTED, {}) for _ in range(10)))
    assert [r["token"] for r in results] == ["tok-1"] * 50
    assert [r["token"] for r in renewed] == ["tok-2"] * 10
    assert token_server.token_requests == 2


async def test_threads_and_tasks_sharing_one_auth_fetch_once_when_concurrent(
    token_server: TokenServer,
) -> None:
    token_server.token_delay_seconds = 0.3
    auth = OAuth2ClientCredentials(
        token_url=token_server.token_url, client_id="my-client", client_secret=SECRET
    )
    sync_client = Client(base_url=token_server.server.url, auth=auth)
    tokens: list[str] = []
    lock = threading.Lock()

    def call() -> None:
        token = sync_client.request(PROTECTED, {})["token"]
        with lock:
            tokens.append(token)

    threads = [threading.Thread(target=call) for _ in range(25)]
    async with AsyncClient(base_url=token_server.server.url, auth=auth) as async_client:
        for t in threads:
            t.start()
        results = await asyncio.gather(*(async_client.request(PROTECTED, {}) for _ in range(25)))
        for t in threads:
            await asyncio.to_thread(t.join, 30)
    sync_client.close()
    assert token_server.token_requests == 1
    assert sorted(tokens + [r["token"] for r in results]) == ["tok-1"] * 50


def test_disk_cache_is_private_and_shared_when_token_cache_dir_set(
    token_server: TokenServer, tmp_path: Path
) -> None:
    cache = tmp_path / "tokens"
    with oauth_client(token_server, token_cache_dir=cache) as client:
        client.request(PROTECTED, {})
    files = list(cache.iterdir())
    assert [f.name for f in files] == ["oauth-token-my-client-my-api-127.0.0.1.json"]
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600
    payload = json.loads(files[0].read_text())
    assert payload["access_token"] == "tok-1"
    assert SECRET not in files[0].read_text()
    with oauth_client(token_server, token_cache_dir=cache) as second:
        assert second.request(PROTECTED, {})["token"] == "tok-1"
    assert token_server.token_requests == 1


def test_token_error_names_no_secret_when_credentials_are_wrong(
    token_server: TokenServer, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("test.runtime.oauth")
    client = Client(
        base_url=token_server.server.url,
        client_id="my-client",
        client_secret="wrong-secret-123",
        oauth_url=token_server.token_url,
        logger=logger,
    )
    with (
        caplog.at_level(logging.DEBUG, logger="test.runtime.oauth"),
        client,
        pytest.raises(AuthenticationError) as info,
    ):
        client.request(PROTECTED, {})
    text = str(info.value) + repr(info.value) + caplog.text + repr(client.settings)
    assert "invalid_client" in str(info.value)
    assert "wrong-secret-123" not in text


def test_reprs_mask_secrets_when_printed() -> None:
    texts = [
        repr(BasicAuth("u", "pw-secret")),
        repr(BearerAuth("tok-secret")),
        repr(ApiKeyAuth("X-Key", "header", "key-secret")),
        repr(
            OAuth2ClientCredentials(
                token_url="http://x/t", client_id="c", client_secret="oauth-secret"
            )
        ),
        repr(Client(username="u", password="pw-secret")),
        repr(Client(username="u", password="pw-secret").settings),
    ]
    for text in texts:
        assert "secret" not in text.replace("client_secret", "").replace("SecretStr", ""), text


def echo(received: list[Received]) -> Script:
    def script(req: Received) -> Reply:
        received.append(req)
        return Reply(json={})

    return script


def test_basic_auth_header_is_sent_when_username_and_password_set(serve: Serve) -> None:
    received: list[Received] = []
    server = serve(echo(received))
    with Client(base_url=server.url, username="ann", password="pw") as client:
        client.request(PROTECTED, {})
    expected = "Basic " + base64.b64encode(b"ann:pw").decode()
    assert received[0].headers["authorization"] == expected


def test_bearer_token_is_sent_when_token_set(serve: Serve) -> None:
    received: list[Received] = []
    server = serve(echo(received))
    with Client(base_url=server.url, token="t-1") as client:
        client.request(PROTECTED, {})
    assert received[0].headers["authorization"] == "Bearer t-1"


@pytest.mark.parametrize("location", ["header", "query", "cookie"])
def test_api_key_is_sent_in_its_location_when_scheme_declares_it(
    serve: Serve, location: Literal["header", "query", "cookie"]
) -> None:
    received: list[Received] = []
    server = serve(echo(received))
    scheme = SecurityScheme(kind="apiKey", name="api_key", location=location)

    class KeyClient(SyncAPIClient):
        sdk_info: ClassVar[SdkInfo] = SdkInfo(
            "key-sdk", "1", "KEYSDK", server.url, security_schemes={"k": scheme}
        )

    with KeyClient(api_key="k-123") as client:
        client.request(PROTECTED, {})
    req = received[0]
    if location == "header":
        assert req.headers["api_key"] == "k-123"
    elif location == "query":
        assert req.query == "api_key=k-123"
    else:
        assert req.headers["cookie"] == "api_key=k-123"


def test_custom_httpx_auth_is_used_when_passed(serve: Serve) -> None:
    class Signed(httpx.Auth):
        def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
            request.headers["X-Signature"] = "sig"
            yield request

    received: list[Received] = []
    server = serve(echo(received))
    # An explicit auth= wins even over credentials in the settings.
    with Client(base_url=server.url, auth=Signed(), token="ignored") as client:
        client.request(PROTECTED, {})
    assert received[0].headers["x-signature"] == "sig"
    assert "authorization" not in received[0].headers
