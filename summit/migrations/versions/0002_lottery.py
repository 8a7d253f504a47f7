"""Schema of the lottery part.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lottery_register_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.Integer(), nullable=False),
        sa.Column("excluded_under_age", sa.Integer(), nullable=False),
        sa.Column("extract_hash", sa.String(64), nullable=False),
        sa.Column("shares", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name="fk_lottery_register_imports_summit_id_summits",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_lottery_register_imports"),
    )
    op.create_index(
        "ix_lottery_register_imports_summit_id", "lottery_register_imports", ["summit_id"]
    )
    op.create_table(
        "lottery_draws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("commitment", sa.JSON(), nullable=False),
        sa.Column("commitment_hash", sa.String(64), nullable=False),
        sa.Column("seed", sa.String(200), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("result_hash", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name="fk_lottery_draws_summit_id_summits",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_lottery_draws"),
    )
    op.create_index("ix_lottery_draws_summit_id", "lottery_draws", ["summit_id"])
    op.create_table(
        "lottery_withdrawal_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name="fk_lottery_withdrawal_links_registration_id_registrations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_lottery_withdrawal_links"),
        sa.UniqueConstraint("token_hash", name="uq_lottery_withdrawal_links_token_hash"),
    )
    op.create_index(
        "ix_lottery_withdrawal_links_registration_id",
        "lottery_withdrawal_links",
        ["registration_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_lottery_withdrawal_links_registration_id", "lottery_withdrawal_links")
    op.drop_table("lottery_withdrawal_links")
    op.drop_index("ix_lottery_draws_summit_id", "lottery_draws")
    op.drop_table("lottery_draws")
    op.drop_index("ix_lottery_register_imports_summit_id", "lottery_register_imports")
    op.drop_table("lottery_register_imports")
