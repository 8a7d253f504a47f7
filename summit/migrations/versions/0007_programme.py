"""Schema of the programme part (the day's programme and where it stands).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{ref_table}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "programme_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("round_number", sa.Integer(), nullable=True),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("extended_minutes", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("programme_items", "summit_id", "summits.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_items")),
    )
    op.create_index(
        op.f("ix_programme_items_summit_id"), "programme_items", ["summit_id"], unique=False
    )
    op.create_table(
        "programme_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("current_item_id", sa.Integer(), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("programme_states", "summit_id", "summits.id", "CASCADE"),
        _fk("programme_states", "current_item_id", "programme_items.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_states")),
        sa.UniqueConstraint("summit_id", name=op.f("uq_programme_states_summit_id")),
    )


def downgrade() -> None:
    op.drop_table("programme_states")
    op.drop_index(op.f("ix_programme_items_summit_id"), table_name="programme_items")
    op.drop_table("programme_items")
