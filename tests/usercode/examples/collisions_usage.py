"""User code against the collisions golden SDK: names that collide with Python and the SDK."""

from __future__ import annotations

from typing import assert_type

from collisions import AsyncClient, Client
from collisions.models import A, J, Pet


def sync_calls(client: Client) -> None:
    # a query parameter named ``timeout`` keeps its name; the per-call timeout is call_timeout
    assert_type(client.list_.list(timeout=30, body2="b", self2="s", call_timeout=2.0), J)
    assert_type(client.pet.list(timeout=1.0), list[Pet])
    assert_type(client.resource.get("id-1"), A)


async def async_calls(aclient: AsyncClient) -> None:
    assert_type(await aclient.list_.list(timeout=30, call_extra_headers={"X": "1"}), J)


def mistakes(client: Client) -> None:
    client.list_.list(timeout="30")  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.list_.list(extra_headers={"X": "1"})  # expect-error: pyright=reportCallIssue mypy=call-arg
