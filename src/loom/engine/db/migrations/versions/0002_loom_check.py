"""loom_check(): abort a statement whose optimistic-lock check failed (PostgreSQL)

The scheduler commits a step's outcome on PostgreSQL with one autocommit statement that
updates rows only at the versions it read (see ``loom.engine.db.postgres``). When one of them
moved on, the statement must undo all of its parts, which plain SQL cannot ask for: this
function raises ``serialization_failure`` (SQLSTATE 40001) when its condition is false.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 08:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION loom_check(ok boolean, message text) RETURNS boolean
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            IF ok IS NOT TRUE THEN
                RAISE EXCEPTION USING ERRCODE = 'serialization_failure', MESSAGE = message;
            END IF;
            RETURN true;
        END
        $$
        """
    )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS loom_check(boolean, text)")
