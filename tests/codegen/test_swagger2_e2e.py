"""An SDK generated from a Swagger 2.0 document, called over loopback, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.codegen.support import RecordingServer, Reply, generate_sdk, recording_server
from tests.codegen.swagger2_support import FIXTURES

SCHEMA = FIXTURES / "e2e" / "store.yaml"
ITEM = {"id": 7, "name": "hammer", "note": None, "kind": "tool"}


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    result, module = generate_sdk(SCHEMA, tmp_path_factory.mktemp("store"), package="store_sdk")
    assert [d for d in result.diagnostics if d.severity.value == "error"] == []
    return module


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with recording_server() as s:
        yield s


def _client(sdk: ModuleType, server: RecordingServer) -> Any:
    return sdk.Client(base_url=server.url, api_key="k-1", max_retries=0)


def test_base_url_comes_from_host_base_path_and_schemes_when_not_configured(
    sdk: ModuleType,
) -> None:
    assert sdk.Client().base_url == "https://store.example.com/api"


def test_collection_formats_go_on_the_wire_as_the_swagger_document_says(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/items/1,2")] = Reply(200, [ITEM])
    items = _client(sdk, server).items.find(
        [1, 2],
        limit=5,
        tags=["a", "b"],
        colors=["red", "blue"],
        words=["x", "y"],
        cells=["p", "q"],
        sizes=["s", "m"],
        x_flags=["f1", "f2"],
    )
    req = server.last
    assert req.raw_query == (
        "limit=5&tags=a,b&colors=red|blue&words=x%20y&cells=p%09q&sizes=s&sizes=m"
    )
    assert req.headers["x-flags"] == "f1|f2"
    assert req.headers["x-store-key"] == "k-1"
    assert items[0].name == "hammer"
    assert items[0].note is None


def test_body_parameter_is_sent_as_json_when_creating(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("POST", "/items")] = Reply(201, ITEM)
    models: Any = sdk.models
    created = _client(sdk, server).items.create(name="hammer", kind=models.ItemKind.TOOL)
    assert server.last.json() == {"name": "hammer", "kind": "tool"}
    assert server.last.headers["content-type"] == "application/json"
    assert created.id == 7


def test_form_data_file_and_csv_array_are_sent_as_multipart_when_uploading(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("POST", "/items/7/photo")] = Reply(204)
    _client(sdk, server).items.upload_photo(
        7, body={"photo": ("p.png", b"\x89PNG", "image/png"), "caption": "hi", "labels": ["a", "b"]}
    )
    req = server.last
    assert req.headers["content-type"].startswith("multipart/form-data; boundary=")
    body = req.body
    assert b'name="photo"; filename="p.png"' in body
    assert b"\x89PNG" in body
    assert b'name="labels"\r\n\r\na,b\r\n' in body  # collectionFormat csv: one part


def test_form_urlencoded_login_sends_space_separated_array_without_the_key(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("POST", "/login")] = Reply(200, {"token": "t"})
    session = _client(sdk, server).session.login(body={"user": "ann", "scopes": ["r", "w"]})
    req = server.last
    assert req.body == b"user=ann&scopes=r%20w"
    assert "x-store-key" not in req.headers  # security: [] on the operation
    assert session.token == "t"


def test_file_response_is_bytes_and_referenced_error_response_is_typed(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/items/7/photo")] = Reply(200, b"\x89PNG", "image/png")
    assert _client(sdk, server).items.download_photo(7) == b"\x89PNG"
    server.routes[("GET", "/items/9")] = Reply(404, {"message": "gone"})
    with pytest.raises(sdk.NotFoundError) as caught:
        _client(sdk, server).items.find([9])
    assert caught.value.body.message == "gone"


def test_async_client_sends_the_same_request_when_awaited(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/items/3")] = Reply(200, [ITEM])

    async def call() -> Any:
        async with sdk.AsyncClient(base_url=server.url, api_key="k-2", max_retries=0) as client:
            return await client.items.find([3], colors=["c", "d"])

    items = asyncio.run(call())
    assert server.last.raw_query == "colors=c|d"
    assert server.last.headers["x-store-key"] == "k-2"
    assert items[0].kind == "tool"
