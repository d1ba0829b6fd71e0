"""Pagers declared by parameters and response shape, never asking past the last page (item 6).

Each style of ``tests/fixtures/wire/paging.yaml`` runs against a loopback server that serves
seven things in pages of three and counts the requests: every thing arrives once, and the pager
sends exactly as many requests as there are pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from loom.codegen.config import GeneratorConfig
from loom.codegen.diagnostics import DiagnosticSink
from loom.codegen.ir.build import build_api
from loom.codegen.sources import load_document
from tests.codegen.support import Recorded, RecordingServer, Reply, generate_sdk, recording_server

FIXTURE = Path(__file__).parent.parent / "fixtures" / "wire" / "paging.yaml"
THINGS = [{"id": f"t{i}"} for i in range(7)]
SIZE = 3
PAGES = 3  # 3 + 3 + 1


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    _, module = generate_sdk(FIXTURE, tmp_path_factory.mktemp("paging"), package="paging_sdk")
    return module


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with recording_server() as s:
        yield s


def _q(req: Recorded, name: str, default: str = "") -> str:
    return dict(req.query).get(name, default)


def _slice(start: int) -> tuple[list[dict[str, str]], bool]:
    page = THINGS[start : start + SIZE]
    return page, start + SIZE < len(THINGS)


def _stripe_search(req: Recorded) -> Reply:
    start = int(_q(req, "page", "0").removeprefix("tok_") or 0)
    page, more = _slice(start)
    return Reply(200, {"data": page, "has_more": more, "next_page": f"tok_{start + SIZE}"})


def _stripe_list(req: Recorded) -> Reply:
    after = _q(req, "starting_after")
    start = next((i + 1 for i, t in enumerate(THINGS) if t["id"] == after), 0)
    page, more = _slice(start)
    return Reply(200, {"data": page, "has_more": more})


def _github(req: Recorded) -> Reply:
    number = int(_q(req, "page", "1"))
    page, more = _slice((number - 1) * SIZE)
    link = (
        f'<http://x/issues?per_page={SIZE}&page={number + 1}>; rel="next", <http://x>; rel="last"'
    )
    return Reply(200, page, headers={"Link": link} if more else {"Link": '<http://x>; rel="first"'})


def _twilio(req: Recorded) -> Reply:
    number = int(_q(req, "Page", "0"))
    page, more = _slice(number * SIZE)
    uri = f"/calls?PageSize={SIZE}&Page={number + 1}&PageToken=PA{number + 1}" if more else None
    return Reply(200, {"calls": page, "next_page_uri": uri, "page": number})


def _offset(req: Recorded) -> Reply:
    start = int(_q(req, "offset", "0"))
    return Reply(200, {"items": THINGS[start : start + SIZE], "total": len(THINGS)})


def _pages(req: Recorded) -> Reply:
    number = int(_q(req, "page", "1"))
    page, _ = _slice((number - 1) * SIZE)
    return Reply(200, {"results": page, "total_pages": PAGES})


@pytest.mark.parametrize(
    ("path", "handler", "method", "kwargs"),
    [
        ("/search", _stripe_search, "search_all", {"query": "q"}),
        ("/things", _stripe_list, "list_all", {"limit": SIZE}),
        ("/issues", _github, "list_issues_all", {"per_page": SIZE}),
        ("/calls", _twilio, "list_calls_all", {"page_size": SIZE}),
        ("/rows", _offset, "list_rows_all", {"limit": SIZE}),
        ("/pages", _pages, "list_pages_all", {"per_page": SIZE}),
    ],
    ids=[
        "cursor-token",
        "cursor-last-item",
        "link-header",
        "next-url",
        "offset-total",
        "page-total",
    ],
)
def test_pager_reads_every_page_once_and_stops_at_the_last_when_iterated(
    sdk: ModuleType, server: RecordingServer, path: str, handler: Any, method: str, kwargs: Any
) -> None:
    server.routes[("GET", path)] = handler
    client = sdk.Client(base_url=server.url, max_retries=0)
    things = [t.id for t in getattr(client.things, method)(**kwargs)]
    assert things == [t["id"] for t in THINGS]
    assert len(server.requests) == PAGES


def test_pager_stops_when_a_page_says_there_is_no_more_even_if_full(
    sdk: ModuleType, server: RecordingServer
) -> None:
    server.routes[("GET", "/things")] = Reply(200, {"data": THINGS[:SIZE], "has_more": False})
    client = sdk.Client(base_url=server.url, max_retries=0)
    assert len(list(client.things.list_all(limit=SIZE))) == SIZE
    assert len(server.requests) == 1


def test_no_pager_and_a_diagnostic_when_nothing_in_the_response_says_how_pages_end() -> None:
    sink = DiagnosticSink()
    api = build_api(load_document(FIXTURE, sink=sink).document, GeneratorConfig(), sink)
    kinds = {
        op.operation_id: op.pagination.kind if op.pagination else None for op in api.operations
    }
    assert kinds == {
        "searchThings": "cursor",
        "listThings": "cursor",
        "listIssues": "link",
        "listCalls": "link",
        "listRows": "offset",
        "listPages": "page",
        "listGuess": None,
    }
    unpaged = [d.pointer for d in sink.sorted() if d.code == "unpaged-list"]
    assert unpaged == ["#/paths/~1guess/get"]


def test_configuration_declares_a_pager_by_pattern_when_detection_finds_none() -> None:
    sink = DiagnosticSink()
    config = GeneratorConfig(
        pagination={
            "/guess": {"kind": "page", "items_field": "items"},
            "listRows": {"kind": "none"},
        }
    )
    api = build_api(load_document(FIXTURE, sink=sink).document, config, sink)
    by_id = {op.operation_id: op for op in api.operations}
    guessed = by_id["listGuess"].pagination
    assert guessed is not None
    assert guessed.kind == "page"
    assert by_id["listRows"].pagination is None
