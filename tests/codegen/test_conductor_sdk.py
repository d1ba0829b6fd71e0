"""The Conductor SDK from examples/conductor: 272 operations, sync and async, token-exchange auth
read from conductor-python's variables, called against a loopback fake of Conductor's schema; and
(slow) the generated tree passes ruff, pyright --strict and mypy --strict."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from loom.codegen.config import load_config
from loom.codegen.diagnostics import FatalSchemaError
from loom.codegen.pipeline import Result, generate
from tests.codegen.support import Recorded, RecordingServer, Reply
from tests.codegen.test_golden import _check_all  # pyright: ignore[reportPrivateUsage]

ROOT = Path(__file__).resolve().parents[2]
CONDUCTOR = ROOT / "examples" / "conductor"
WORKFLOW_DEF: dict[str, Any] = {"name": "order", "version": 1, "tasks": [], "timeoutSeconds": 60}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    out = tmp_path_factory.mktemp("conductor")
    config = load_config(CONDUCTOR / "loom.toml")
    return generate(CONDUCTOR / "orkes-conductor-api.json", out, config), out


@pytest.fixture(scope="module")
def sdk(generated: tuple[Result, Path]) -> ModuleType:
    _, out = generated
    for name in [m for m in sys.modules if m.split(".")[0] == "conductor_sdk"]:
        del sys.modules[name]
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module("conductor_sdk")
    finally:
        sys.path.remove(str(out))


class FakeConductor(RecordingServer):
    """Conductor's token endpoint and two of its operations, as its schema describes them.

    Only the token issued last is valid; ``expire()`` makes the server forget it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.issued: list[str] = []

    def expire(self) -> None:
        self.issued.append("")

    def token(self, req: Recorded) -> Reply:
        if req.json() != {"keyId": "key-1", "keySecret": "secret-1"}:
            return Reply(401, {"message": "invalid key"})
        self.issued.append(f"jwt-{len(self.issued) + 1}")
        return Reply(200, {"token": self.issued[-1]})


@pytest.fixture
def conductor(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeConductor]:
    server = FakeConductor()

    def authorized(reply: Reply) -> Any:
        def handle(req: Recorded) -> Reply:
            valid = server.issued[-1] if server.issued else None
            if not valid or req.headers.get("x-authorization") != valid:
                return Reply(401, {"error": "EXPIRED_TOKEN"})
            return reply

        return handle

    server.start()
    try:
        server.routes[("POST", "/api/token")] = server.token
        server.routes[("GET", "/api/metadata/workflow")] = authorized(Reply(200, [WORKFLOW_DEF]))
        server.routes[("POST", "/api/workflow")] = authorized(Reply(200, "wf-42", "text/plain"))
        for key in ("CONDUCTOR_SERVER_URL", "CONDUCTOR_AUTH_KEY", "CONDUCTOR_AUTH_SECRET"):
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("CONDUCTOR_SERVER_URL", server.url + "/api")  # as conductor-python
        monkeypatch.setenv("CONDUCTOR_AUTH_KEY", "key-1")
        monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", "secret-1")
        yield server
    finally:
        server.stop()


def test_sdk_has_all_272_operations_in_sync_and_async_clients(
    generated: tuple[Result, Path], sdk: ModuleType
) -> None:
    result, _ = generated
    assert result.api is not None
    assert len(result.api.operations) == 272
    assert [d for d in result.diagnostics if d.severity.value == "error"] == []
    for resource in result.api.resources:
        sync = getattr(sdk.Client, resource.attr)
        aio = getattr(sdk.AsyncClient, resource.attr)
        assert sync is not None
        assert aio is not None


def test_token_from_post_api_token_is_sent_in_x_authorization_when_calling(
    sdk: ModuleType, conductor: FakeConductor
) -> None:
    with sdk.Client() as client:
        defs = client.metadata_resource.get_workflow_defs()
        started = client.workflow_resource.start_workflow(name="order", version=1)
    assert [d.name for d in defs] == ["order"]
    assert started == "wf-42"
    token_calls = [r for r in conductor.requests if r.path == "/api/token"]
    assert len(token_calls) == 1  # fetched once, reused
    api_calls = [r for r in conductor.requests if r.path != "/api/token"]
    assert [r.headers["x-authorization"] for r in api_calls] == ["jwt-1", "jwt-1"]


def test_async_client_exchanges_the_key_and_renews_after_401(
    sdk: ModuleType, conductor: FakeConductor
) -> None:
    async def main() -> list[Any]:
        async with sdk.AsyncClient() as client:
            first = await client.metadata_resource.get_workflow_defs()
            conductor.expire()  # a restart, an expiry: a 401, one new exchange, the same call
            second = await client.metadata_resource.get_workflow_defs()
            return [first, second]

    first, second = asyncio.run(main())
    assert first[0].name == second[0].name == "order"
    tokens = [
        r.headers.get("x-authorization") for r in conductor.requests if r.path != "/api/token"
    ]
    assert tokens == ["jwt-1", "jwt-1", "jwt-3"]
    assert [r.path for r in conductor.requests].count("/api/token") == 2


@pytest.mark.slow
def test_conductor_sdk_passes_ruff_pyright_and_mypy_strict(generated: tuple[Result, Path]) -> None:
    _check_all(generated[1], "conductor_sdk")


def test_token_exchange_table_is_read_and_bad_keys_are_refused(tmp_path: Path) -> None:
    config = load_config(CONDUCTOR / "loom.toml")
    assert config.token_exchange == {
        "path": "/api/token",
        "id_field": "keyId",
        "secret_field": "keySecret",
        "token_field": "token",
        "header": "X-Authorization",
        "prefix": "",
        "lifetime_seconds": 2700.0,
    }
    assert config.base_url_drop_suffix == "/api"
    bad = tmp_path / "loom.toml"
    bad.write_text('[runtime.token_exchange]\nheadr = "X-Auth"\n')
    with pytest.raises(FatalSchemaError) as caught:
        load_config(bad)
    assert "runtime.token_exchange.headr: unknown key (did you mean 'header'?)" in str(caught.value)
    bad.write_text("[runtime.token_exchange]\nlifetime_seconds = -1\n")
    with pytest.raises(FatalSchemaError):
        load_config(bad)
