"""Pagination: pagers that iterate over every item, and page objects with ``next_page()``.

Five kinds (``operation.Pagination``): ``offset`` (offset/limit), ``page`` (page/size),
``cursor`` (a cursor parameter fed from a field of the result or from the last item), ``link``
(the next page's URL from a ``Link`` header or a result field) and ``camunda`` (a body ``page``
object ``{from, limit, after, before}``; the result's ``page.endCursor`` feeds ``after``). A pager
never asks for a page past the last: it stops on an empty page, a missing cursor or link,
``has_more: false``, or a total reached.
Type parameters: ``SyncPager[DataT, ItemT]``, ``DataT`` being the operation's result type (one
page) and ``ItemT`` the item type. Deciding the next request is a pure function
(``next_request``); the pagers only do the I/O::

    for item in client.paginate(op, params, body):          # sync: every item of every page
    async for item in async_client.paginate(op, params, body):
    for page in client.paginate(op, params, body).pages():  # page objects
        page.items, page.data, page.has_next_page(), page.next_page()
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from types import GenericAlias
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast
from urllib.parse import parse_qsl, urlsplit

import pydantic

from ._base import CallOptions
from .encoding import to_jsonable
from .operation import Operation, Pagination
from .response import adapter_for
from .types import NotGiven

if TYPE_CHECKING:
    from .client import AsyncAPIClient, SyncAPIClient

__all__ = [
    "AsyncPage",
    "AsyncPager",
    "CallOptions",
    "PageState",
    "SyncPage",
    "SyncPager",
    "extract_items",
    "field_by_wire_name",
    "next_link",
    "next_request",
]

ItemT = TypeVar("ItemT")
DataT = TypeVar("DataT")


@dataclass(frozen=True, slots=True)
class PageState:
    """The inputs of one page request and what has been seen so far."""

    params: Mapping[str, object]
    body: object
    seen: int = 0


def field_by_wire_name(data: object, wire: str) -> object:
    """A field of a parsed result by its wire name (models, mappings, dotted paths).

    Args:
        data: a model, a mapping, or ``None``.
        wire: a wire name, or a dotted path of wire names (``page.endCursor``).

    Returns:
        The value, or ``None`` when any step is missing.
    """
    node: object = data
    for part in wire.split("."):
        if node is None:
            return None
        if isinstance(node, Mapping):
            mapping: Mapping[str, object] = node  # pyright: ignore[reportUnknownVariableType]
            node = mapping.get(part)
            continue
        if isinstance(node, pydantic.BaseModel):
            node = _model_field(node, part)
            continue
        node = getattr(node, part, None)
    return node


def _model_field(model: pydantic.BaseModel, wire: str) -> object:
    for name, info in type(model).model_fields.items():
        aliases = (info.alias, info.serialization_alias, info.validation_alias)
        if name == wire or wire in aliases:
            return getattr(model, name)
    extra = model.model_extra or {}
    return extra.get(wire)


def extract_items(pagination: Pagination, data: object) -> list[Any]:
    """The items of one page, validated with ``pagination.item_type`` when they are raw JSON."""
    field = pagination.items_field
    raw = field_by_wire_name(data, field) if field else data
    if not isinstance(raw, list):
        return []
    items: list[Any] = cast(Any, raw)
    if pagination.item_type is not None and items and isinstance(items[0], dict):
        validated: list[Any] = adapter_for(
            GenericAlias(list, (pagination.item_type,))
        ).validate_python(items)
        return validated
    return items


def _as_dict(body: object) -> dict[str, Any]:
    if isinstance(body, NotGiven) or body is None:
        return {}
    converted = to_jsonable(body)
    if not isinstance(converted, dict):
        raise TypeError("a paginated operation's body must be a JSON object")
    return converted  # pyright: ignore[reportUnknownVariableType]


def _int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")


def next_link(headers: Mapping[str, str] | None) -> str | None:
    """The ``rel="next"`` target of a ``Link`` header (RFC 8288 §3), or ``None``."""
    value = headers.get("link") if headers is not None else None
    if not value:
        return None
    for match in _LINK.finditer(value):
        target, params = match.group(1), match.group(2)
        for param in params.split(";"):
            key, _, rel = param.strip().partition("=")
            if key.strip().lower() == "rel" and "next" in rel.strip().strip('"').lower().split():
                return target
    return None


def _last_page(pagination: Pagination, data: object, inputs: Mapping[str, object]) -> bool:
    """Whether the result says it is the last page (flags and totals shared by every kind)."""
    if pagination.has_more_field is not None:
        flag = field_by_wire_name(data, pagination.has_more_field)
        if flag is False or flag is None:
            return True
    if pagination.total_pages_field is not None:
        pages = _int(field_by_wire_name(data, pagination.total_pages_field))
        current = _int(inputs.get(pagination.page_param))
        current = pagination.page_start if current is None else current
        if pages is not None and current - pagination.page_start + 1 >= pages:
            return True
    return False


def _follow(url: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
    """The next request's inputs: the query parameters of the next page's URL."""
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    if not query:
        return None
    updated = dict(inputs)
    for key, value in query:
        updated[key] = value
    return updated if updated != inputs else None


def next_request(
    pagination: Pagination,
    state: PageState,
    data: object,
    count: int,
    headers: Mapping[str, str] | None = None,
) -> PageState | None:
    """The inputs of the next page, or ``None`` when the last page was just read.

    Args:
        pagination: the operation's pagination description.
        state: the inputs of the page just read (``seen`` excludes it).
        data: the page's parsed result.
        count: how many items the page had.
        headers: the page's response headers (the ``Link`` header of the ``link`` kind).

    Returns:
        The next page's inputs, or ``None``.
    """
    if count == 0:
        return None
    seen = state.seen + count
    if pagination.kind == "camunda":
        return _next_camunda(pagination, state, data, count, seen)
    inputs: dict[str, Any] = (
        dict(state.params) if pagination.request_in == "query" else _as_dict(state.body)
    )
    total = (
        _int(field_by_wire_name(data, pagination.total_field)) if pagination.total_field else None
    )
    if (total is not None and seen >= total) or _last_page(pagination, data, inputs):
        return None
    advanced = _advance(pagination, inputs, data, count, headers)
    if advanced is None:
        return None
    if pagination.request_in == "query":
        return PageState(advanced, state.body, seen)
    return PageState(state.params, advanced, seen)


def _advance(
    pagination: Pagination,
    inputs: dict[str, Any],
    data: object,
    count: int,
    headers: Mapping[str, str] | None,
) -> dict[str, Any] | None:
    """The next page's inputs for the query/body kinds, or ``None`` when there is none."""
    kind = pagination.kind
    if kind == "link":
        url = (
            field_by_wire_name(data, pagination.next_url_field)
            if pagination.next_url_field
            else next_link(headers)
        )
        return _follow(url, inputs) if isinstance(url, str) and url else None
    if kind == "offset":
        limit = _int(inputs.get(pagination.limit_param))
        if limit is not None and count < limit:
            return None
        inputs[pagination.offset_param] = (_int(inputs.get(pagination.offset_param)) or 0) + count
        return inputs
    if kind == "page":
        size = _int(inputs.get(pagination.size_param))
        if size is not None and count < size:
            return None
        current = _int(inputs.get(pagination.page_param))
        inputs[pagination.page_param] = (pagination.page_start if current is None else current) + 1
        return inputs
    if pagination.cursor_item_field is not None:
        items = extract_items(pagination, data)
        cursor = field_by_wire_name(items[-1], pagination.cursor_item_field) if items else None
    else:
        cursor = field_by_wire_name(data, pagination.next_cursor_field)
    if cursor is None or cursor == "" or cursor == inputs.get(pagination.cursor_param):
        return None
    inputs[pagination.cursor_param] = cursor
    return inputs


def _next_camunda(
    pagination: Pagination, state: PageState, data: object, count: int, seen: int
) -> PageState | None:
    body = _as_dict(state.body)
    page = dict(body.get("page") or {})
    limit = _int(page.get("limit"))
    if limit is not None and count < limit:
        return None
    meta = field_by_wire_name(data, pagination.page_object_field)
    total = _int(field_by_wire_name(meta, "totalItems"))
    capped = field_by_wire_name(meta, "hasMoreTotalItems") is True
    if total is not None and seen >= total and not capped:
        return None
    if "from" in page:
        page["from"] = (_int(page["from"]) or 0) + count
    else:
        cursor = field_by_wire_name(meta, "endCursor")
        if not isinstance(cursor, str) or not cursor or cursor == page.get("after"):
            return None
        page.pop("before", None)
        page["after"] = cursor
    return PageState(state.params, {**body, "page": page}, seen)


def _pagination(op: Operation[Any]) -> Pagination:
    if op.pagination is None:
        raise TypeError(f"{op.operation_id} is not paginated")
    return op.pagination


class SyncPage(Generic[DataT, ItemT]):
    """One page: ``items``, the parsed result as ``data``, and the way to the next page."""

    def __init__(
        self,
        pager: SyncPager[DataT, ItemT],
        state: PageState,
        data: DataT,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._pager = pager
        self._state = state
        self.data: DataT = data
        self.items: list[ItemT] = extract_items(pager.pagination, data)
        self._next = next_request(pager.pagination, state, data, len(self.items), headers)

    def has_next_page(self) -> bool:
        """Whether another page follows."""
        return self._next is not None

    def next_page(self) -> SyncPage[DataT, ItemT]:
        """Fetch the next page.

        Raises:
            LookupError: this is the last page (check ``has_next_page()`` first).
        """
        if self._next is None:
            raise LookupError("this is the last page; check has_next_page() first")
        return self._pager.fetch(self._next)

    def __iter__(self) -> Iterator[ItemT]:
        return iter(self.items)


class SyncPager(Generic[DataT, ItemT]):
    """Iterates over every item of every page; ``pages()`` yields the page objects."""

    def __init__(
        self,
        client: SyncAPIClient,
        op: Operation[Any],
        params: Mapping[str, object],
        body: object,
        options: CallOptions,
    ) -> None:
        self._client = client
        self._op = op
        self.pagination = _pagination(op)
        self._first = PageState(params, body)
        self._options = options

    def fetch(self, state: PageState) -> SyncPage[DataT, ItemT]:
        """Fetch the page for given inputs."""
        o = self._options
        raw = self._client.request_raw(
            self._op,
            state.params,
            state.body,
            extra_headers=o.extra_headers,
            extra_query=o.extra_query,
            extra_body=o.extra_body,
            timeout=o.timeout,
        )
        return SyncPage(self, state, raw.parsed, raw.headers)

    def first_page(self) -> SyncPage[DataT, ItemT]:
        """Fetch the first page."""
        return self.fetch(self._first)

    def pages(self) -> Iterator[SyncPage[DataT, ItemT]]:
        """Every page, fetched lazily."""
        page = self.first_page()
        yield page
        while page.has_next_page():
            page = page.next_page()
            yield page

    def __iter__(self) -> Iterator[ItemT]:
        for page in self.pages():
            yield from page.items


class AsyncPage(Generic[DataT, ItemT]):
    """One page of an async pager; ``await page.next_page()``."""

    def __init__(
        self,
        pager: AsyncPager[DataT, ItemT],
        state: PageState,
        data: DataT,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._pager = pager
        self.data: DataT = data
        self.items: list[ItemT] = extract_items(pager.pagination, data)
        self._next = next_request(pager.pagination, state, data, len(self.items), headers)

    def has_next_page(self) -> bool:
        """Whether another page follows."""
        return self._next is not None

    async def next_page(self) -> AsyncPage[DataT, ItemT]:
        """Fetch the next page.

        Raises:
            LookupError: this is the last page.
        """
        if self._next is None:
            raise LookupError("this is the last page; check has_next_page() first")
        return await self._pager.fetch(self._next)

    def __iter__(self) -> Iterator[ItemT]:
        return iter(self.items)


class AsyncPager(Generic[DataT, ItemT]):
    """``async for item in pager``; ``pager.pages()`` is an async iterator of pages."""

    def __init__(
        self,
        client: AsyncAPIClient,
        op: Operation[Any],
        params: Mapping[str, object],
        body: object,
        options: CallOptions,
    ) -> None:
        self._client = client
        self._op = op
        self.pagination = _pagination(op)
        self._first = PageState(params, body)
        self._options = options

    async def fetch(self, state: PageState) -> AsyncPage[DataT, ItemT]:
        """Fetch the page for given inputs."""
        o = self._options
        raw = await self._client.request_raw(
            self._op,
            state.params,
            state.body,
            extra_headers=o.extra_headers,
            extra_query=o.extra_query,
            extra_body=o.extra_body,
            timeout=o.timeout,
        )
        return AsyncPage(self, state, raw.parsed, raw.headers)

    async def first_page(self) -> AsyncPage[DataT, ItemT]:
        """Fetch the first page."""
        return await self.fetch(self._first)

    async def pages(self) -> AsyncIterator[AsyncPage[DataT, ItemT]]:
        """Every page, fetched lazily."""
        page = await self.first_page()
        yield page
        while page.has_next_page():
            page = await page.next_page()
            yield page

    async def _items(self) -> AsyncIterator[ItemT]:
        async for page in self.pages():
            for item in page.items:
                yield item

    def __aiter__(self) -> AsyncIterator[ItemT]:
        return self._items()
