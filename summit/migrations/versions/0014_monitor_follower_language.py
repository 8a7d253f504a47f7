"""Monitor: each follower's mails are written in the language chosen when following.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("monitor_subscriptions") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=False, server_default="nl"))


def downgrade() -> None:
    with op.batch_alter_table("monitor_subscriptions") as batch:
        batch.drop_column("language")
