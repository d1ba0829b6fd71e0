"""Form and multipart bodies honour the ``encoding`` object (issue 17, item 1).

The server reads each urlencoded body back as Stripe's does (``a[b][c]=``, ``a[0]=``), so every
test checks what a bracket-aware server understands, not how the bytes happen to look.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from loom.codegen.config import GeneratorConfig
from loom.codegen.diagnostics import DiagnosticSink
from loom.codegen.ir.build import build_api
from loom.codegen.sources import load_text
from tests.codegen.bracket_form import parse_bracket_form
from tests.codegen.support import RecordingServer, Reply, generate_sdk, recording_server

FIXTURES = Path(__file__).parent.parent / "fixtures"
FORMS = FIXTURES / "wire" / "forms.yaml"


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    _, module = generate_sdk(FORMS, tmp_path_factory.mktemp("forms"), package="forms_sdk")
    return module


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with recording_server() as s:
        yield s


def _client(sdk: ModuleType, server: RecordingServer) -> Any:
    return sdk.Client(base_url=server.url, max_retries=0)


def test_deep_object_properties_nest_in_brackets_when_the_encoding_says_so(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("POST", "/customers")] = Reply(200, {})
    body = sdk.models.CreateCustomerRequest(
        email="a@example.com",
        metadata={"order": "42", "note": "a&b=c"},
        address={"city": "Paris", "geo": {"lat": 48.85, "lon": 2.35}},
        items=[{"price": "price_1", "quantity": 2}, {"price": "price_2"}],
        expand=["customer", "invoice.subscription"],
    )
    _client(sdk, server).customers.create(body=body)
    assert server.last.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_bracket_form(server.last.body) == {
        "email": "a@example.com",
        "metadata": {"order": "42", "note": "a&b=c"},
        "address": {"city": "Paris", "geo": {"lat": "48.85", "lon": "2.35"}},
        "items": [{"price": "price_1", "quantity": "2"}, {"price": "price_2"}],
        "expand": ["customer", "invoice.subscription"],
    }


def test_properties_without_a_style_keep_the_defaults_when_encoding_is_silent(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("POST", "/customers")] = Reply(200, {})
    body = {
        "tags": ["a", "b"],
        "settings": {"mode": "x"},
        "raw": {"a": 1},
        "pipes": ["p", "q"],
        "joined": ["j", "k"],
        "url": "https://x.test/a?b=c",
    }
    _client(sdk, server).customers.create(body=body)
    read = parse_bracket_form(server.last.body)
    assert read["tags"] == ["a", "b"]  # arrays: form, exploded
    assert json.loads(read["settings"]) == {"mode": "x"}  # objects: contentType application/json
    assert json.loads(read["raw"]) == {"a": 1}
    assert read["pipes"] == "p|q"
    assert read["joined"] == "j,k"
    assert b"url=https://x.test/a?b=c" in server.last.body  # allowReserved


def test_multipart_parts_follow_the_encoding_when_it_names_types_and_styles(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("POST", "/uploads")] = Reply(200, {})
    _client(sdk, server).files.upload(
        body={
            "file": b"\x89PNG",
            "metadata": {"k": "v"},
            "options": {"dpi": 300},
            "note": "# title",
        }
    )
    ctype = server.last.headers["content-type"]
    msg = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + server.last.body
    )
    parts = {p.get_param("name", header="content-disposition"): p for p in msg.iter_parts()}
    assert parts["file"].get_content_type() == "image/png"
    assert parts["metadata[k]"].get_content().strip() == "v"
    assert parts["options"].get_content_type() == "application/json"
    assert parts["note"].get_content_type() == "text/markdown"


def test_bad_encoding_style_is_a_diagnostic_when_it_is_not_a_form_style() -> None:
    text = FORMS.read_text().replace("joined: {style: form", "joined: {style: matrix")
    sink = DiagnosticSink()
    build_api(load_text(text, sink=sink).document, GeneratorConfig(), sink)
    found = [d for d in sink.sorted() if d.code == "invalid-encoding"]
    assert [d.pointer for d in found] == [
        "#/paths/~1customers/post/requestBody/content/application~1x-www-form-urlencoded"
        "/encoding/joined/style"
    ]
