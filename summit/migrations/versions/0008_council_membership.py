"""Council part: the membership rule of a Burgerraad vote (all, some roles, or a list).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Votes created before this revision counted every participant who had not withdrawn.
    with op.batch_alter_table("council_vote_meta") as batch:
        batch.add_column(
            sa.Column("membership", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("council_vote_meta") as batch:
        batch.drop_column("membership")
