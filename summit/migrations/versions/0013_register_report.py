"""Lottery: the register import reports its household count and the encoding it was read in.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lottery_register_imports") as batch:
        batch.add_column(sa.Column("households", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("encoding", sa.String(16), nullable=False, server_default="UTF-8")
        )


def downgrade() -> None:
    with op.batch_alter_table("lottery_register_imports") as batch:
        batch.drop_column("encoding")
        batch.drop_column("households")
