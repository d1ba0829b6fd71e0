"""User code against an SDK whose body fields have date, time, uuid, enum and container types."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import assert_type

from defaults import AsyncClient, Client
from defaults.models import Level, Report


def sync_calls(client: Client) -> None:
    report = client.reports.create(
        day=dt.date(2024, 1, 2),
        at=dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.UTC),
        clock=dt.time(12, 30),
        ref=uuid.uuid4(),
        level="high",
        tags=("a", "b"),
        limits={"cpu": 2},
    )
    assert_type(report, Report)
    client.reports.create(level=Level.LOW)
    client.reports.create(body=Report())  # the whole body: no field is required


async def async_calls(aclient: AsyncClient) -> None:
    assert_type(await aclient.reports.create(flag=True), Report)


def mistakes(client: Client) -> None:
    client.reports.create(level="medium")  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.reports.create(day="2024-01-02")  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.reports.create(limits={"cpu": "2"})  # expect-error: pyright=reportArgumentType mypy=dict-item
