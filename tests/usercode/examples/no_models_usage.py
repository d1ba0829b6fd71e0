"""User code against an SDK whose API declares no models."""

from __future__ import annotations

from typing import assert_type

from no_models import AsyncClient, Client, RawResponse


def sync_calls(client: Client) -> None:
    assert_type(client.health.ping(verbose=True), str)
    assert_type(client.health.echo(body={"a": "b"}), list[int])
    assert_type(client.health.with_raw_response.ping(), RawResponse[str])


async def async_calls(aclient: AsyncClient) -> None:
    assert_type(await aclient.health.echo(), list[int])


def mistakes(client: Client) -> None:
    client.health.echo(body={"a": 1})  # expect-error: pyright=reportArgumentType mypy=dict-item
    client.health.ping(verbose="yes")  # expect-error: pyright=reportArgumentType mypy=arg-type
