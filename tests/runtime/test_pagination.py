"""Pagination of all four kinds over several pages of a loopback server, sync and async."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import Field

from loom.runtime.models import BaseModel
from loom.runtime.operation import Body, Operation, Pagination, Param
from loom.runtime.pagination import PageState, next_request

from .helpers import AsyncClient, Client
from .loopback import LoopbackServer, Received, Reply, Script

Serve = Callable[[Script], LoopbackServer]
ITEMS = [{"id": i, "name": f"n{i}"} for i in range(25)]


class Item(BaseModel):
    """One listed item."""

    id: int
    name: str


class PageMeta(BaseModel):
    """Camunda's SearchQueryPageResponse."""

    total_items: int = Field(validation_alias="totalItems", serialization_alias="totalItems")
    end_cursor: str | None = Field(
        default=None, validation_alias="endCursor", serialization_alias="endCursor"
    )
    start_cursor: str | None = Field(
        default=None, validation_alias="startCursor", serialization_alias="startCursor"
    )
    has_more_total_items: bool = Field(
        default=False, validation_alias="hasMoreTotalItems", serialization_alias="hasMoreTotalItems"
    )


class SearchResult(BaseModel):
    """Camunda's *SearchQueryResult shape."""

    items: list[Item]
    page: PageMeta


def query_of(req: Received) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(req.query))


def list_server(kind: str) -> Script:
    """A server paging ITEMS the way each kind expects."""

    def script(req: Received) -> Reply:
        q = query_of(req)
        if kind == "offset":
            start, size = int(q.get("offset", 0)), int(q.get("limit", 10))
            return Reply(json={"data": ITEMS[start : start + size], "total": len(ITEMS)})
        if kind == "page":
            page, size = int(q.get("page", 1)), int(q.get("size", 10))
            start = (page - 1) * size
            return Reply(json={"results": ITEMS[start : start + size]})
        if kind == "cursor":
            start = int(q.get("cursor") or 0)
            chunk = ITEMS[start : start + 10]
            nxt = str(start + 10) if start + 10 < len(ITEMS) else None
            return Reply(json={"items": chunk, "meta": {"next": nxt}})
        body: dict[str, Any] = req.json() if req.body else {}
        page = body.get("page", {})
        size = int(page.get("limit", 100))
        start = int(page["from"]) if "from" in page else int(page.get("after") or 0)
        chunk = ITEMS[start : start + size]
        end = str(start + len(chunk))
        return Reply(
            json={
                "items": chunk,
                "page": {
                    "totalItems": len(ITEMS),
                    "startCursor": str(start),
                    "endCursor": end,
                    "hasMoreTotalItems": False,
                },
            }
        )

    return script


def op_for(kind: str) -> Operation[Any]:
    if kind == "offset":
        return Operation[dict[str, Any]](
            operation_id="listOffset",
            method="GET",
            path="/items",
            params=(Param("offset", "query", "form", True), Param("limit", "query", "form", True)),
            response=dict[str, Any],
            pagination=Pagination("offset", "data", total_field="total", item_type=Item),
        )
    if kind == "page":
        return Operation[dict[str, Any]](
            operation_id="listPage",
            method="GET",
            path="/items",
            params=(Param("page", "query", "form", True), Param("size", "query", "form", True)),
            response=dict[str, Any],
            pagination=Pagination("page", "results"),
        )
    if kind == "cursor":
        return Operation[dict[str, Any]](
            operation_id="listCursor",
            method="GET",
            path="/items",
            params=(Param("cursor", "query", "form", True),),
            response=dict[str, Any],
            pagination=Pagination("cursor", "items", next_cursor_field="meta.next"),
        )
    return Operation[SearchResult](
        operation_id="searchItems",
        method="POST",
        path="/items/search",
        body=Body("application/json"),
        response=SearchResult,
        pagination=Pagination("camunda", "items", request_in="body"),
        idempotent=True,
    )


CASES: list[tuple[str, dict[str, object], object, int]] = [
    ("offset", {"limit": 10}, None, 3),
    ("page", {"size": 10}, None, 3),
    ("cursor", {}, None, 3),
    ("camunda", {}, {"page": {"limit": 10}}, 3),
    ("camunda", {}, {"page": {"from": 0, "limit": 7}}, 4),
]


def ids(items: list[Any]) -> list[int]:
    return [i.id if isinstance(i, BaseModel) else i["id"] for i in items]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[3]}pages")
def test_iterator_yields_every_item_across_pages_when_sync(
    serve: Serve, case: tuple[str, dict[str, object], object, int]
) -> None:
    kind, params, body, pages = case
    server = serve(list_server(kind))
    from loom.runtime.types import NOT_GIVEN

    with Client(base_url=server.url) as client:
        pager = client.paginate(op_for(kind), params, NOT_GIVEN if body is None else body)
        items = list(pager)
    assert ids(items) == list(range(25))
    assert server.count() == pages


async def test_async_iterator_yields_every_item_when_camunda_search(serve: Serve) -> None:
    server = serve(list_server("camunda"))
    async with AsyncClient(base_url=server.url) as client:
        pager = client.paginate(op_for("camunda"), {}, {"page": {"limit": 10}})
        items = [item async for item in pager]
    assert ids(items) == list(range(25))
    assert all(isinstance(i, Item) for i in items)
    assert server.count() == 3


def test_page_objects_expose_next_page_when_iterating_manually(serve: Serve) -> None:
    server = serve(list_server("camunda"))
    with Client(base_url=server.url) as client:
        page = client.paginate(op_for("camunda"), {}, {"page": {"limit": 10}}).first_page()
        assert len(page.items) == 10
        assert isinstance(page.data, SearchResult)
        assert page.has_next_page()
        page = page.next_page().next_page()
        assert ids(page.items) == list(range(20, 25))
        assert not page.has_next_page()
        with pytest.raises(LookupError, match="last page"):
            page.next_page()


def test_camunda_cursor_moves_after_the_end_cursor_when_paging(serve: Serve) -> None:
    received: list[Received] = []
    inner = list_server("camunda")

    def script(req: Received) -> Reply:
        received.append(req)
        return inner(req)

    server = serve(script)
    with Client(base_url=server.url) as client:
        list(client.paginate(op_for("camunda"), {}, {"page": {"limit": 10}, "filter": {"x": 1}}))
    bodies = [r.json() for r in received]
    assert bodies[0] == {"page": {"limit": 10}, "filter": {"x": 1}}
    assert bodies[1] == {"page": {"limit": 10, "after": "10"}, "filter": {"x": 1}}
    assert bodies[2]["page"]["after"] == "20"


async def test_async_pages_are_iterable_when_offset_kind(serve: Serve) -> None:
    server = serve(list_server("offset"))
    async with AsyncClient(base_url=server.url) as client:
        sizes = [
            len(p.items) async for p in client.paginate(op_for("offset"), {"limit": 10}).pages()
        ]
    assert sizes == [10, 10, 5]


def test_next_request_stops_when_cursor_repeats() -> None:
    p = Pagination("cursor", "items", next_cursor_field="next")
    state = PageState({"cursor": "abc"}, None)
    assert next_request(p, state, {"items": [1], "next": "abc"}, 1) is None


def test_next_request_stops_when_total_reached() -> None:
    p = Pagination("offset", "data", total_field="total")
    state = PageState({"offset": 10}, None, seen=10)
    assert next_request(p, state, {"data": [1] * 5, "total": 15}, 5) is None


def test_next_request_continues_when_camunda_total_is_capped() -> None:
    p = Pagination("camunda", "items", request_in="body")
    state = PageState({}, {"page": {"limit": 2}}, seen=0)
    data = {"page": {"totalItems": 2, "hasMoreTotalItems": True, "endCursor": "c2"}}
    nxt = next_request(p, state, data, 2)
    assert nxt is not None
    assert nxt.body == {"page": {"limit": 2, "after": "c2"}}


def test_paginate_refuses_operation_when_not_paginated() -> None:
    from .helpers import GET_THING

    with Client(base_url="http://127.0.0.1:9") as client, pytest.raises(TypeError):
        client.paginate(GET_THING, {"id": 1})
