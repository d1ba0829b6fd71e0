"""User code against the shapes golden SDK: offset pagination, free-form objects, UUID paths."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import assert_type

from shapes import AsyncClient, Client, RawResponse
from shapes.models import Item, ListItemsResponse, Node


def sync_calls(client: Client) -> None:
    page = client.items.list(limit=10, since=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    assert_type(page, ListItemsResponse)
    for item in client.items.list_all(limit=10):
        assert_type(item, Item)
        print(item.name)
    for one_page in client.items.list_all().pages():
        print(one_page.items)
    created = client.items.create(
        name="pen", price=1.5, tags=("a",), meta={"any": [1, "x"]}, model_config_="x"
    )
    assert_type(created, Item)
    tree = client.trees.get(uuid.uuid4())
    assert_type(tree, Node)
    assert_type(client.trees.with_raw_response.get(uuid.uuid4()), RawResponse[Node])


async def async_calls(aclient: AsyncClient) -> None:
    async for item in aclient.items.list_all(limit=5):
        assert_type(item, Item)
    assert_type(await aclient.items.create(name="pen"), Item)


def mistakes(client: Client) -> None:
    client.trees.get("not-a-uuid")  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.items.create(price=1.0)  # expect-error: pyright=reportCallIssue mypy=call-arg
    client.items.create(name="pen", prize=1.0)  # expect-error: pyright=reportCallIssue mypy=call-arg
    client.items.list_all(limit="10")  # expect-error: pyright=reportArgumentType mypy=arg-type
