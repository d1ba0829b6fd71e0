"""Migrations: upgrade, downgrade, upgrade; autogenerate finds nothing to change."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from loom.engine.db.models import Base
from loom.engine.db.session import (
    HEAD_REVISION,
    create_engine,
    current_revision,
    head_revision,
    migrate,
)


def _tables(conn: Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names()) - {"alembic_version"}


def _diff(conn: Connection) -> list[Any]:
    return compare_metadata(
        MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
    )


async def test_upgrade_downgrade_upgrade_round_trips_when_applied(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        assert await current_revision(engine) == head_revision()
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == set(Base.metadata.tables)
        await migrate(engine, action="downgrade", revision="base")
        assert await current_revision(engine) is None
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == set()
        await migrate(engine)
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_autogenerate_finds_no_difference_when_migrated_to_head(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()


def test_head_constant_matches_the_migration_scripts_when_checked() -> None:
    assert head_revision() == HEAD_REVISION
