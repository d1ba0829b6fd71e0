"""User code against the shapes golden SDK in the flat layout."""

from __future__ import annotations

import uuid
from typing import assert_type

from shapes_flat import AsyncClient, Client, RawResponse
from shapes_flat.models import Item, ListItemsResponse, Node


def sync_calls(client: Client) -> None:
    assert_type(client.list_items(offset=0), ListItemsResponse)
    for item in client.list_items_all():
        assert_type(item, Item)
    assert_type(client.create_item(name="pen", tags=["a"]), Item)
    assert_type(client.with_raw_response.get_tree(uuid.uuid4()), RawResponse[Node])


async def async_calls(aclient: AsyncClient) -> None:
    async for item in aclient.list_items_all(limit=2):
        assert_type(item, Item)
    assert_type(await aclient.with_raw_response.create_item(name="pen"), RawResponse[Item])


def mistakes(client: Client) -> None:
    client.get_tree(1)  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.create_item()  # expect-error: pyright=reportCallIssue mypy=call-arg
