"""Pagination, declared rather than guessed: request parameters *and* response shape together.

A parameter named ``page`` alone says little (Stripe's search ``page`` is an opaque token), so a
pattern is chosen only when the response confirms it:

=========== ================================================= ===================================
kind        request                                           response
=========== ================================================= ===================================
cursor      ``cursor``, ``page_token``, ``after``, ``page`` … a next-token field (``next_page``…)
cursor      ``starting_after`` (Stripe)                       ``has_more`` and items with ``id``
link        any paging parameter                              a next-page URL field (Twilio)
link        any paging parameter                              a declared ``Link`` header (GitHub)
offset      ``offset`` and ``limit``                          a list of items
page        ``page`` and a size (``per_page``…)               a total, a page count or has_more
=========== ================================================= ===================================

Every pattern also records the flags that end it (``has_more``, totals). The configuration can
declare or override a pattern per operation id, or per fnmatch pattern over ids and paths, and
``kind = "none"`` switches paging off for an operation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from loom.codegen.diagnostics import DiagnosticSink
from loom.codegen.ir.model import ANY, PaginationInfo, Parameter, TypeRef
from loom.runtime.operation import Pagination

_ITEMS = ("items", "data", "results", "entries", "records", "values")
_HAS_MORE = ("has_more", "hasMore", "has_next", "hasNext", "more", "has_next_page", "hasNextPage")
_NEXT_TOKEN = (
    "next_cursor",
    "nextCursor",
    "next_page_token",
    "nextPageToken",
    "next_token",
    "nextToken",
    "next_page",
    "nextPage",
    "continuation_token",
    "continuationToken",
)
_CURSOR_PARAMS = (
    "cursor",
    "page_token",
    "pageToken",
    "next_token",
    "nextToken",
    "continuation_token",
    "continuationToken",
    "after",
    "page",
)
_NEXT_URL = ("next_page_uri", "next_page_url", "nextPageUrl", "next_url", "nextUrl", "next")
_TOTAL = ("total", "total_count", "totalCount", "total_results", "totalResults", "totalItems")
_TOTAL_PAGES = ("total_pages", "totalPages", "page_count", "pageCount", "num_pages")
_SIZE = ("per_page", "page_size", "pageSize", "PageSize", "size", "limit")
_PAGE = ("page", "Page", "page_number", "pageNumber")
_PAGING_PARAMS = frozenset(
    (*_CURSOR_PARAMS, *_SIZE, *_PAGE, "offset", "starting_after", "PageToken", "per_page")
)
_CONTAINERS = ("meta", "pagination", "paging", "links", "page_info", "pageInfo")
_OPTION_FIELDS = frozenset(f.name for f in dataclasses.fields(Pagination)) - {
    "kind",
    "items_field",
    "request_in",
    "item_type",
}
KINDS = ("offset", "page", "cursor", "link", "camunda")

Fields = Mapping[str, TypeRef]


def find_override(
    table: Mapping[str, dict[str, Any]], op_id: str, path: str
) -> dict[str, Any] | None:
    """The configuration's pagination entry for an operation: by id, else the first pattern
    (in file order) that matches the id or the path."""
    if op_id in table:
        return table[op_id]
    for pattern, spec in table.items():
        if fnmatchcase(op_id, pattern) or fnmatchcase(path, pattern):
            return spec
    return None


def from_override(
    override: dict[str, Any],
    fields: Fields,
    list_item: TypeRef | None,
    ptr: str,
    sink: DiagnosticSink,
) -> PaginationInfo | None:
    """A declared pattern; a bad one is a diagnostic and no pager."""
    kind = override.get("kind")
    if kind == "none":
        return None
    items = override.get("items_field", "" if list_item is not None else "items")
    unknown = sorted(
        k for k in override if k not in _OPTION_FIELDS | {"kind", "items_field", "request_in"}
    )
    if kind not in KINDS or not isinstance(items, str) or unknown:
        sink.add(
            ptr,
            "pagination override needs kind (offset, page, cursor, link, camunda or none) and "
            "items_field" + (f"; unknown keys: {', '.join(unknown)}" if unknown else ""),
            code="pagination",
        )
        return None
    item = (list_item if items == "" else _list_item(fields.get(items))) or ANY
    opts = tuple(
        sorted(
            (k, v)
            for k, v in override.items()
            if k in _OPTION_FIELDS and isinstance(v, str | int) and not isinstance(v, bool)
        )
    )
    rin = override.get("request_in", "body" if kind == "camunda" else "query")
    return PaginationInfo(kind, items, item, "body" if rin == "body" else "query", opts)


def detect(
    query: Mapping[str, Parameter],
    fields: Fields,
    list_item: TypeRef | None,
    *,
    link_header: bool,
    item_fields: Callable[[TypeRef], Fields],
) -> PaginationInfo | None:
    """The pattern an operation's parameters and response agree on, or ``None``.

    Args:
        query: the operation's query parameters by wire name.
        fields: the response model's fields by wire name, one level of ``meta``-like
            containers included as dotted names (``meta.next_page_url``).
        list_item: the item type when the response itself is an array.
        link_header: the success response declares a ``Link`` header.
        item_fields: the fields of an item type (for cursors taken from the last item).
    """
    items_field, item = _items(fields, list_item)
    if item is None:
        return None
    paging = [name for name in query if name in _PAGING_PARAMS]
    has_more = _first(fields, _HAS_MORE, {"bool"})
    total = _first(fields, _TOTAL, {"int"})
    total_pages = _first(fields, _TOTAL_PAGES, {"int"})
    stops: list[tuple[str, str | int]] = []
    if has_more:
        stops.append(("has_more_field", has_more))
    if total:
        stops.append(("total_field", total))

    def make(kind: Any, *options: tuple[str, str | int]) -> PaginationInfo:
        return PaginationInfo(kind, items_field, item, "query", tuple(sorted((*options, *stops))))

    token = _first(fields, _NEXT_TOKEN, {"str"})
    cursor = next((c for c in _CURSOR_PARAMS if c in query), None)
    if token and cursor:
        return make("cursor", ("cursor_param", cursor), ("next_cursor_field", token))
    next_url = _first(fields, _NEXT_URL, {"str"})
    if next_url and paging:
        return make("link", ("next_url_field", next_url))
    if "starting_after" in query and has_more and "id" in item_fields(item):
        return make("cursor", ("cursor_param", "starting_after"), ("cursor_item_field", "id"))
    if link_header and paging:
        return make("link")
    if "offset" in query and "limit" in query:
        return make("offset")
    page = next((p for p in _PAGE if p in query), None)
    size = next((s for s in _SIZE if s in query), None)
    if page and size and (total or total_pages or has_more):
        options: list[tuple[str, str | int]] = [("page_param", page), ("size_param", size)]
        if total_pages:
            options.append(("total_pages_field", total_pages))
        return make("page", *options)
    return None


def looks_paginated(
    query: Mapping[str, Parameter], fields: Fields, list_item: TypeRef | None
) -> bool:
    """A list response with paging parameters: the corpus report lists those without a pager."""
    _, item = _items(fields, list_item)
    return item is not None and any(name in _PAGING_PARAMS for name in query)


def _items(fields: Fields, list_item: TypeRef | None) -> tuple[str, TypeRef | None]:
    if list_item is not None:
        return "", list_item
    for name in _ITEMS:
        item = _list_item(fields.get(name))
        if item is not None:
            return name, item
    # Twilio names the list after the resource (``accounts``): the only top-level list of models
    lists = [
        (name, t)
        for name, t in fields.items()
        if "." not in name and (i := _list_item(t)) is not None and i.kind == "model"
    ]
    if len(lists) == 1:
        return lists[0][0], _list_item(lists[0][1])
    return "", None


def _first(fields: Fields, names: tuple[str, ...], kinds: set[str]) -> str | None:
    for prefix in ("", *(c + "." for c in _CONTAINERS)):
        for name in names:
            t = fields.get(prefix + name)
            if t is not None and t.kind in kinds:
                return prefix + name
    return None


def _list_item(t: TypeRef | None) -> TypeRef | None:
    if t is None or t.kind != "list" or not t.args:
        return None
    return t.args[0]


def with_containers(
    fields: Fields, model_fields: Callable[[TypeRef], Fields]
) -> dict[str, TypeRef]:
    """``fields`` plus the fields of ``meta``-like container models as dotted names."""
    out = dict(fields)
    for container in _CONTAINERS:
        t = fields.get(container)
        if t is not None and t.kind == "model":
            for name, sub in model_fields(t).items():
                out[f"{container}.{name}"] = sub
    return out
