"""Alembic environment: runs on the connection loom hands over (see ``db.session.migrate``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from loom.engine.db.models import Base

config = context.config
connection = config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "loom migrations run through `loom db upgrade` (or loom.engine.db.session.migrate), "
        "not through the alembic command line"
    )
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
