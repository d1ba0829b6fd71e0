"""step_runs.attempts_before_retry: attempt numbers keep counting across a retry

A retried execution re-runs its failed steps; their attempt number goes on from where it was
(attempt 3 after two failed attempts), while the step's retry policy counts the attempts made
since the retry (``attempt - attempts_before_retry``), so it has its whole budget again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 17:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "step_runs",
        sa.Column("attempts_before_retry", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("step_runs") as batch:
        batch.drop_column("attempts_before_retry")
