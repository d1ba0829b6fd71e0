"""Generated SDKs on the wire: every kind of operation, sync and async, against a real server."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest

from tests.codegen.support import RecordingServer, Reply, generate_sdk, recording_server

FIXTURE = Path(__file__).parent.parent / "fixtures" / "codegen" / "petstore.yaml"
CAT = {"kind": "cat", "name": "Tom", "lives": 7, "class": "mammal", "whiskers": 12}
DOG = {"kind": "dog", "name": "Rex", "goodBoy": True}


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    out = tmp_path_factory.mktemp("petstore")
    _, module = generate_sdk(FIXTURE, out, package="petstore_sdk")
    return module


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with recording_server() as s:
        yield s


def _client(sdk: ModuleType, server: RecordingServer, **kw: Any) -> Any:
    return sdk.Client(base_url=server.url, max_retries=0, **kw)


def test_list_sends_query_header_and_cookie_when_given(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/pets")] = Reply(200, [CAT, DOG])
    client = _client(sdk, server)
    pets = client.pets.list(x_request_id="r-1", limit=5, tags=["a", "b"], session="s1")
    req = server.last
    assert req.method == "GET"
    assert req.query == [("limit", "5"), ("tags", "a"), ("tags", "b")]
    assert req.headers["x-request-id"] == "r-1"
    assert "session=s1" in req.headers["cookie"]
    assert [type(p).__name__ for p in pets] == ["Cat", "Dog"]
    assert pets[0].class_ == "mammal"
    assert pets[0].model_extra == {"whiskers": 12}


def test_omitted_optional_parameters_are_not_sent_when_not_given(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/pets")] = Reply(200, [])
    _client(sdk, server).pets.list(x_request_id="r")
    assert server.last.query == []
    assert "cookie" not in server.last.headers


def test_create_sends_fields_and_nested_model_by_alias_when_body_fields_are_arguments(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("POST", "/pets")] = Reply(201, CAT)
    models: Any = sdk.models
    pet = _client(sdk, server).pets.create(
        name="Tom", kind=models.NewPetKind.CAT, friend=models.NewPet(name="Rex", kind="dog")
    )
    assert server.last.headers["content-type"].startswith("application/json")
    assert server.last.json() == {
        "name": "Tom",
        "kind": "cat",
        "friend": {"name": "Rex", "kind": "dog"},
    }
    assert pet.lives == 7


def test_create_sends_nested_typed_dict_and_none_as_given_when_fields_are_plain_values(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("POST", "/pets")] = Reply(201, DOG)
    pet = _client(sdk, server).pets.create(
        name="Rex", kind="dog", owner=None, friend={"name": "Tom", "kind": "cat"}
    )
    assert server.last.json() == {
        "name": "Rex",
        "kind": "dog",
        "owner": None,
        "friend": {"name": "Tom", "kind": "cat"},
    }
    assert pet.good_boy is True


def test_create_sends_whole_model_when_body_style_is_body(
    tmp_path: Path, server: RecordingServer
) -> None:
    _, body_sdk = generate_sdk(FIXTURE, tmp_path, package="petstore_body", body_style="body")
    server.routes[("POST", "/pets")] = Reply(201, CAT)
    models: Any = body_sdk.models
    client = _client(body_sdk, server)
    client.pets.create(body=models.NewPet(name="Tom", kind=models.NewPetKind.CAT))
    assert server.last.json() == {"name": "Tom", "kind": "cat"}
    client.pets.create(body={"name": "Rex", "kind": "dog", "owner": None})
    assert server.last.json() == {"name": "Rex", "kind": "dog", "owner": None}


def test_request_model_enforces_constraints_when_constructed(sdk: ModuleType) -> None:
    from pydantic import ValidationError

    models: Any = sdk.models
    with pytest.raises(ValidationError):
        models.NewPet(name="", kind="cat")


def test_typed_error_carries_parsed_problem_when_server_answers_400(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("POST", "/pets")] = Reply(
        400, {"title": "Bad", "status": 400, "detail": None}, "application/problem+json"
    )
    with pytest.raises(sdk.BadRequestError) as info:
        _client(sdk, server).pets.create(name="x", kind="cat")
    err = info.value
    assert err.status_code == 400
    assert type(err.body).__name__ == "Problem"
    assert err.body.title == "Bad"


def test_not_found_error_when_server_answers_404(sdk: ModuleType, server: RecordingServer) -> None:
    server.routes[("GET", "/pets/7")] = Reply(404, {"title": "gone"}, "application/problem+json")
    with pytest.raises(sdk.NotFoundError):
        _client(sdk, server).pets.get(7)


def test_unknown_enum_value_is_kept_when_response_has_one(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/pets/search")] = Reply(200, {"items": [], "total": 0})
    models: Any = sdk.models
    status = models.PetStatus("lost")
    assert status.value == "lost"
    assert not status.is_known


def test_styles_encode_deep_object_pipe_and_space_when_searching(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/pets/search")] = Reply(200, {"items": [CAT], "total": 1})
    page = _client(sdk, server).pets.search(
        filter={"name": "Tom", "age": 3}, ids=[1, 2], words=["x", "y"]
    )
    q = server.last.query
    assert ("filter[name]", "Tom") in q
    assert ("filter[age]", "3") in q
    assert ("ids", "1|2") in q
    assert ("words", "x y") in q
    assert page.total == 1


def test_label_and_matrix_path_styles_when_path_uses_them(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/labels/.red,blue/matrix/;shape=round")] = Reply(204)
    result = _client(sdk, server).styles.styled_path(["red", "blue"], "round")
    assert result is None
    assert unquote(server.last.path) == "/labels/.red,blue/matrix/;shape=round"


def test_multipart_sends_several_files_and_json_fields_when_uploading(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("POST", "/pets/3/photo")] = Reply(200, {"stored": 2})
    result = _client(sdk, server).files.upload_photo(
        3,
        body={
            "file": ("a.png", b"\x89PNG", "image/png"),
            "extra": [("b.txt", b"bee"), ("c.txt", b"sea")],
            "caption": "hi",
            "meta": {"source": "cam"},
        },
    )
    assert result.stored == 2
    ctype = server.last.headers["content-type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    msg = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + server.last.body
    )
    parts = {
        (p.get_param("name", header="content-disposition"), p.get_filename()): p
        for p in msg.iter_parts()
    }
    assert parts[("file", "a.png")].get_content() == b"\x89PNG"
    assert ("extra", "b.txt") in parts
    assert ("extra", "c.txt") in parts
    assert parts[("caption", None)].get_content().strip() == "hi"
    assert '"source"' in str(parts[("meta", None)].get_content())


def test_binary_download_returns_bytes_when_response_is_image(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/pets/3/photo")] = Reply(200, b"\x00\x01png", "image/png")
    assert _client(sdk, server).files.download_photo(3) == b"\x00\x01png"


def test_binary_upload_sends_octet_stream_when_body_is_bytes(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("PUT", "/pets/3/raw")] = Reply(204)
    _client(sdk, server).files.put_raw(3, body=b"\x00raw")
    assert server.last.headers["content-type"] == "application/octet-stream"
    assert server.last.body == b"\x00raw"


def test_form_body_and_text_response_when_logging_in(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("POST", "/login")] = Reply(200, "hello Tom", "text/plain")
    text = _client(sdk, server).auth.login(body={"user": "Tom", "password": "p w"})
    assert text == "hello Tom"
    assert server.last.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert parse_qsl(server.last.body.decode()) == [("user", "Tom"), ("password", "p w")]


def test_deprecated_operation_warns_when_called(sdk: ModuleType, server: RecordingServer) -> None:
    server.routes[("DELETE", "/pets/3")] = Reply(204)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _client(sdk, server).pets.delete(3)
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)


def test_raw_response_gives_status_headers_and_parsed_body_when_requested(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/pets/5")] = Reply(200, DOG, headers={"X-Rate": "9"})
    raw = _client(sdk, server).pets.with_raw_response.get(5)
    assert raw.status_code == 200
    assert raw.headers["x-rate"] == "9"
    assert raw.parsed.name == "Rex"


def test_async_client_has_the_same_methods_when_awaited(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/pets/5")] = Reply(200, CAT)
    server.routes[("POST", "/login")] = Reply(200, "hi", "text/plain")

    async def main() -> tuple[Any, Any]:
        async with sdk.AsyncClient(base_url=server.url, max_retries=0) as client:
            pet = await client.pets.get(5)
            text = await client.auth.login(body={"user": "u", "password": "p"})
            return pet, text

    pet, text = asyncio.run(main())
    assert pet.lives == 7
    assert text == "hi"
    sync_methods = {m for m in dir(sdk.Client(base_url=server.url).pets) if not m.startswith("_")}
    async_methods = {
        m for m in dir(sdk.AsyncClient(base_url=server.url).pets) if not m.startswith("_")
    }
    assert sync_methods == async_methods


def test_default_base_url_comes_from_server_variables_when_not_configured(
    sdk: ModuleType,
) -> None:
    assert sdk.Client.sdk_info.default_base_url == "https://pets.example/v2"


def test_import_is_lazy_when_client_is_constructed(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "sdk"
    generate_sdk(FIXTURE, out, package="lazy_pets")
    code = (
        "import sys, lazy_pets; lazy_pets.Client();"
        "loaded = [m for m in sys.modules if m.startswith('lazy_pets.')];"
        "print(','.join(sorted(loaded)))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=out, capture_output=True, text=True, check=True
    )
    loaded = proc.stdout.strip().split(",")
    assert not any(m.startswith("lazy_pets.models.") for m in loaded)
    assert not any(m.startswith("lazy_pets.resources.") for m in loaded)
    assert "httpx" not in proc.stdout


def test_flat_layout_raises_per_operation_error_classes_when_configured(
    tmp_path: Path, server: RecordingServer
) -> None:
    _, flat = generate_sdk(
        FIXTURE, tmp_path, package="flat_pets", layout="flat", error_classes="per-operation"
    )
    server.routes[("GET", "/pets/7")] = Reply(404, {"title": "gone"}, "application/problem+json")
    server.routes[("GET", "/pets/8")] = Reply(200, DOG)
    client: Any = flat.Client(base_url=server.url, max_retries=0)
    assert client.get_pet(8).name == "Rex"
    assert client.with_raw_response.get_pet(8).status_code == 200
    errors: Any = flat.errors
    with pytest.raises(errors.GetPetNotFoundError) as info:
        client.get_pet(7)
    assert isinstance(info.value, errors.NotFoundError)
    assert info.value.body.title == "gone"


def test_unknown_discriminator_value_parses_as_unknown_variant_when_server_is_newer(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/pets/9")] = Reply(200, {"kind": "bird", "name": "Tweety", "wings": 2})
    pet = _client(sdk, server).pets.get(9)
    assert type(pet).__name__ == "UnknownVariant"
    assert pet.model_extra == {"kind": "bird", "name": "Tweety", "wings": 2}


def test_accept_lists_declared_media_types_when_operation_returns_errors(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/pets/5")] = Reply(200, DOG)
    server.routes[("GET", "/pets/3/photo")] = Reply(200, b"png", "image/png")
    client = _client(sdk, server)
    client.pets.get(5)
    assert server.last.headers["accept"] == "application/json, application/problem+json"
    client.files.download_photo(3)
    assert server.last.headers["accept"] == "image/png"
