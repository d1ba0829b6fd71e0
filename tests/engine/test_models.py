"""The optimistic lock: a writer holding a stale row version loses, loudly."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm.exc import StaleDataError

from loom.engine.db.models import Pipeline, utcnow
from loom.engine.db.session import create_engine, create_session_factory, migrate


async def test_second_writer_gets_stale_data_error_when_versions_race(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        sessions = create_session_factory(engine)
        now = utcnow()
        pipeline_id = str(uuid.uuid4())
        async with sessions() as session, session.begin():
            session.add(
                Pipeline(
                    id=pipeline_id,
                    name="p",
                    description=None,
                    current_version=1,
                    is_draft=True,
                    created_at=now,
                    updated_at=now,
                )
            )
        async with sessions() as first, sessions() as second:
            # SQLite has one write connection: each session gives it back before the other
            # writes, which is also what two engine processes do.
            theirs = await second.get(Pipeline, pipeline_id)
            await second.commit()
            mine = await first.get(Pipeline, pipeline_id)
            assert mine is not None
            assert theirs is not None
            assert mine.row_version == theirs.row_version == 1
            mine.name = "first"
            await first.commit()
            theirs.name = "second"
            with pytest.raises(StaleDataError):
                await second.commit()
        async with sessions() as session:
            stored = await session.get(Pipeline, pipeline_id)
            assert stored is not None
            assert (stored.name, stored.row_version) == ("first", 2)
    finally:
        await engine.dispose()
