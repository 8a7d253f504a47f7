"""Partners sign in with server-side sessions: a session may stand for a partner's link.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("partner_link_id", sa.Integer(), nullable=True))
        batch.create_index("ix_sessions_partner_link_id", ["partner_link_id"])


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_index("ix_sessions_partner_link_id")
        batch.drop_column("partner_link_id")
