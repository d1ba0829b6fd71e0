"""User code against the SDK of a Swagger 2.0 document (converted to OpenAPI 3 first)."""

from __future__ import annotations

from typing import assert_type

from swagger2_store import AsyncClient, Client, RawResponse
from swagger2_store.models import Item, ItemKind, Session


def sync_calls(client: Client) -> None:
    items = client.items.find(ids=[1, 2], tags=("a",), limit=3)
    assert_type(items, list[Item])
    assert_type(client.items.create(name="saw", kind="tool"), Item)
    client.items.create(name="ball", kind=ItemKind.TOY, note=None)
    assert_type(client.items.download_photo(1), bytes)
    assert_type(client.session.login(body={"user": "u", "scopes": ["read"]}), Session)
    assert_type(client.items.with_raw_response.find(ids=[1]), RawResponse[list[Item]])


async def async_calls(aclient: AsyncClient) -> None:
    assert_type(await aclient.items.create(name="saw"), Item)


def mistakes(client: Client) -> None:
    client.items.find(ids=["1"])  # expect-error: pyright=reportArgumentType mypy=list-item
    client.items.create(name="saw", kind="car")  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.items.create(nme="saw")  # expect-error: pyright=reportCallIssue mypy=call-arg
