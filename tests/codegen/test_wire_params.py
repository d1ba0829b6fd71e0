"""Parameters that share a name across locations (issue 17, item 2).

``tests/fixtures/wire/params.yaml`` has ``param`` in the path, the query, a header and a cookie:
the Python names say where each goes (``param``, ``param_query``, ``param_header``,
``param_cookie``) and each value arrives in its own place.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from loom.codegen.config import GeneratorConfig
from loom.codegen.diagnostics import DiagnosticSink
from loom.codegen.ir.build import build_api
from loom.codegen.sources import load_document
from tests.codegen.support import RecordingServer, Reply, generate_sdk, recording_server

FIXTURE = Path(__file__).parent.parent / "fixtures" / "wire" / "params.yaml"


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    _, module = generate_sdk(FIXTURE, tmp_path_factory.mktemp("params"), package="params_sdk")
    return module


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with recording_server() as s:
        yield s


def test_python_names_say_the_location_when_a_name_is_shared() -> None:
    sink = DiagnosticSink()
    api = build_api(load_document(FIXTURE, sink=sink).document, GeneratorConfig(), sink)
    by_op = {op.operation_id: op for op in api.operations}
    names = [(p.name, p.location, p.key) for p in by_op["getItem"].params]
    assert names == [
        ("param", "path", "param"),
        ("param_query", "query", "query:param"),
        ("param_header", "header", "header:param"),
        ("param_cookie", "cookie", "cookie:param"),
        ("other", "query", "other"),
    ]
    # the query parameter comes first in the location order, whatever the document's order
    assert [(p.name, p.location) for p in by_op["search"].params] == [
        ("q_header", "header"),
        ("q", "query"),
    ]


def test_each_value_goes_to_its_own_place_when_a_name_is_shared(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/items/in-path")] = Reply(200, {})
    client = sdk.Client(base_url=server.url, max_retries=0)
    client.items.get(
        "in-path",
        param_query="in-query",
        param_header="in-header",
        param_cookie="in-cookie",
        other=3,
    )
    req = server.last
    assert req.path == "/items/in-path"
    assert req.query == [("param", "in-query"), ("other", "3")]
    assert req.headers["param"] == "in-header"
    assert req.headers["cookie"] == "param=in-cookie"


def test_signature_keeps_one_argument_per_parameter_when_a_name_is_shared(
    sdk: ModuleType,
) -> None:
    params = inspect.signature(sdk.Client(base_url="http://x").items.search).parameters
    assert params["q"].default is inspect.Parameter.empty  # the required query parameter
    assert "q_header" in params


def test_mercure_sends_last_event_id_as_query_and_header_when_both_are_given(
    tmp_path: Path, server: RecordingServer
) -> None:
    real = Path(__file__).parent.parent / "fixtures" / "real_apis" / "mercure.local.json"
    _, mercure = generate_sdk(real, tmp_path, package="mercure_sdk")
    server.routes[("GET", "/.well-known/mercure")] = Reply(200, "data: x\n\n", "text/event-stream")
    client = mercure.Client(base_url=server.url, max_retries=0)
    subscribe = client.well_known.get_mercure
    subscribe(topic=["t"], last_event_id="from-query", last_event_id_header="from-header")
    assert server.last.query == [("topic", "t"), ("Last-Event-ID", "from-query")]
    assert server.last.headers["last-event-id"] == "from-header"
