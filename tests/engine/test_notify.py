"""Cross-process wake-ups on PostgreSQL: payloads, LISTEN on a real server, own messages."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from loom.engine.db import notify
from tests.engine.conftest import pg_url


def test_payload_joins_each_notification_once_in_order() -> None:
    assert notify.payload([]) is None
    finished = notify.finished("e1", "completed")
    assert notify.payload([notify.RUNNABLE, finished, notify.RUNNABLE]) == f"r;{finished}"


def test_payload_too_long_for_postgresql_becomes_any_finished() -> None:
    many = [notify.finished(f"{i:036d}", "completed") for i in range(400)]
    assert notify.payload([*many, notify.RUNNABLE]) == f"{notify.ANY_FINISHED};{notify.RUNNABLE}"
    assert notify.payload(many) == notify.ANY_FINISHED


async def test_listener_hears_other_connections_and_ignores_its_own_pool(
    pg_database: str,
) -> None:
    url = pg_url(pg_database)
    own = create_async_engine(url)
    other = create_async_engine(url)
    heard: list[str] = []
    connected: list[bool] = []
    listener = notify.Listener(own, heard.append, lambda: connected.append(True))
    await listener.start()
    try:
        assert connected == [True]
        send = sa.select(sa.func.pg_notify(notify.CHANNEL, "r;f e1 completed"))
        async with own.connect() as conn:  # this process's own pool: already acted on
            await conn.execute(sa.select(sa.func.pg_notify(notify.CHANNEL, "f own completed")))
            await conn.commit()
        async with other.connect() as conn:
            await conn.execute(send)
            await conn.commit()
        async with asyncio.timeout(5):
            while len(heard) < 2:
                await asyncio.sleep(0.01)
        assert heard == ["r", "f e1 completed"]
    finally:
        await listener.stop()
        await own.dispose()
        await other.dispose()


async def test_listener_keeps_trying_when_the_database_is_unreachable() -> None:
    engine = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    listener = notify.Listener(engine, lambda _: None, lambda: None)
    await listener.start(timeout_seconds=0.3)  # returns: polling goes on without wake-ups
    assert not listener.connected.is_set()
    await listener.stop()
    await engine.dispose()
