"""TOKEN_EXCHANGE auth (Conductor's ``POST /token``) against a real loopback API server."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from loom.runtime.client import AsyncAPIClient, SyncAPIClient
from loom.runtime.config import ConfigurationError
from loom.runtime.errors import AuthenticationError
from loom.runtime.operation import Operation, SdkInfo, SecurityScheme, TokenExchange

from .helpers import FAST_RETRIES, Client
from .loopback import LoopbackServer, Received, Reply, Script

Serve = Callable[[Script], LoopbackServer]
SECRET = "key-s3cret"
WORKFLOWS = Operation[dict[str, Any]](
    operation_id="getWorkflows", method="GET", path="/workflow", response=dict[str, Any]
)
CONDUCTOR = SdkInfo(
    name="conductor-test",
    version="1",
    env_prefix="CONDUCTOR",
    default_base_url="http://127.0.0.1:9/api",
    env_names={"base_url": "CONDUCTOR_SERVER_URL"},
    env_aliases={"client_id": ("CONDUCTOR_AUTH_KEY",), "client_secret": ("CONDUCTOR_AUTH_SECRET",)},
    security_schemes={
        "api_key": SecurityScheme(kind="apiKey", name="X-Authorization", location="header")
    },
    token_exchange=TokenExchange(),
)


class ConductorClient(SyncAPIClient):
    sdk_info: ClassVar[SdkInfo] = CONDUCTOR
    retry_policy = FAST_RETRIES


class AsyncConductorClient(AsyncAPIClient):
    sdk_info: ClassVar[SdkInfo] = CONDUCTOR
    retry_policy = FAST_RETRIES


@dataclass
class FakeConductor:
    """``POST /api/token`` issues tokens; other paths need a current one in X-Authorization."""

    issued: list[str] = field(default_factory=list[str])
    revoked: set[str] = field(default_factory=set[str])
    token_bodies: list[Any] = field(default_factory=list[Any])
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, req: Received) -> Reply:
        if req.path == "/api/token":
            body = req.json()
            with self.lock:
                self.token_bodies.append(body)
                if body != {"keyId": "key-1", "keySecret": SECRET}:
                    return Reply(401, json={"message": "bad credentials"})
                token = f"tok-{len(self.issued) + 1}"
                self.issued.append(token)
            return Reply(json={"token": token})
        token = req.headers.get("x-authorization", "")
        if token not in self.issued or token in self.revoked:
            return Reply(401, json={"error": "EXPIRED_TOKEN"})
        return Reply(json={"token": token})


def _client(server: LoopbackServer, **kwargs: Any) -> ConductorClient:
    return ConductorClient(
        base_url=server.url + "/api", client_id="key-1", client_secret=SECRET, **kwargs
    )


def test_token_is_fetched_once_and_reused_when_calls_repeat(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeConductor()
    server = serve(fake)
    with caplog.at_level(logging.DEBUG), _client(server) as client:
        for _ in range(5):
            assert client.request(WORKFLOWS, {}) == {"token": "tok-1"}
    assert fake.issued == ["tok-1"]
    assert fake.token_bodies == [{"keyId": "key-1", "keySecret": SECRET}]
    assert server.count("/api/workflow") == 5
    assert SECRET not in caplog.text
    assert "tok-1" not in caplog.text


def test_token_is_exchanged_again_and_request_resent_when_the_api_says_401(
    serve: Serve,
) -> None:
    fake = FakeConductor()
    server = serve(fake)
    with _client(server) as client:
        assert client.request(WORKFLOWS, {}) == {"token": "tok-1"}
        fake.revoked.add("tok-1")
        assert client.request(WORKFLOWS, {}) == {"token": "tok-2"}
        assert client.request(WORKFLOWS, {}) == {"token": "tok-2"}
    assert fake.issued == ["tok-1", "tok-2"]


def test_token_is_renewed_when_its_configured_lifetime_runs_out(serve: Serve) -> None:
    fake = FakeConductor()
    server = serve(fake)
    short = dataclasses.replace(CONDUCTOR, token_exchange=TokenExchange(lifetime_seconds=0.2))

    class ShortLived(SyncAPIClient):
        sdk_info: ClassVar[SdkInfo] = short
        retry_policy = FAST_RETRIES

    with ShortLived(base_url=server.url + "/api", client_id="key-1", client_secret=SECRET) as c:
        assert c.request(WORKFLOWS, {}) == {"token": "tok-1"}
        time.sleep(0.3)
        assert c.request(WORKFLOWS, {}) == {"token": "tok-2"}


def test_wrong_secret_is_an_authentication_error_without_the_secret(serve: Serve) -> None:
    server = serve(FakeConductor())
    wrong = "wrong-secret-4711"
    client = ConductorClient(base_url=server.url + "/api", client_id="key-1", client_secret=wrong)
    with client, pytest.raises(AuthenticationError) as caught:
        client.request(WORKFLOWS, {})
    assert f"the token request to {server.url}/api/token failed (status 401" in str(caught.value)
    assert wrong not in str(caught.value)
    assert wrong not in repr(client)


def test_strategy_is_inferred_from_key_and_secret_in_conductor_variables(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeConductor()
    server = serve(fake)
    monkeypatch.setenv("CONDUCTOR_SERVER_URL", server.url + "/api")
    monkeypatch.setenv("CONDUCTOR_AUTH_KEY", "key-1")
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", SECRET)
    with ConductorClient() as client:
        assert client.settings.auth_strategy == "TOKEN_EXCHANGE"
        assert client.request(WORKFLOWS, {}) == {"token": "tok-1"}


def test_token_exchange_is_refused_when_the_sdk_has_no_token_endpoint() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Client(auth_strategy="TOKEN_EXCHANGE", client_id="a", client_secret="b")
    assert "generated without [runtime.token_exchange]" in str(caught.value)


def test_fifty_tasks_share_one_token_exchange_when_concurrent(serve: Serve) -> None:
    fake = FakeConductor()
    server = serve(fake)

    async def main() -> list[Any]:
        async with AsyncConductorClient(
            base_url=server.url + "/api", client_id="key-1", client_secret=SECRET
        ) as client:
            return await asyncio.gather(*(client.request(WORKFLOWS, {}) for _ in range(50)))

    results = asyncio.run(main())
    assert results == [{"token": "tok-1"}] * 50
    assert fake.issued == ["tok-1"]
