"""User code against an SDK with numeric and boolean const fields."""

from __future__ import annotations

from typing import Literal, assert_type

from numeric_const import AsyncClient, Client


def sync_calls(client: Client) -> None:
    version = client.versions.get(timeout=1.0)
    assert_type(version.major, Literal[2])
    assert_type(version.enabled, Literal[True])


async def async_calls(aclient: AsyncClient) -> None:
    version = await aclient.versions.get()
    assert_type(version.name, Literal["v2"])


def mistakes(client: Client) -> None:
    client.versions.get(extra_headers={"X-Id": 1})  # expect-error: pyright=reportArgumentType mypy=dict-item
