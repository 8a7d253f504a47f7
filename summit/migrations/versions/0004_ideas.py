"""Schema of the ideas part.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idea_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("who_records", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_idea_settings_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_settings")),
        sa.UniqueConstraint("summit_id", name=op.f("uq_idea_settings_summit_id")),
    )
    op.create_table(
        "theme_boards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("granularity", sa.Float(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("reclustered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_theme_boards_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theme_boards")),
        sa.UniqueConstraint("summit_id", name=op.f("uq_theme_boards_summit_id")),
    )
    op.create_table(
        "theme_details",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("representative_idea_id", sa.Integer(), nullable=True),
        sa.Column("near_duplicates", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_theme_details_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_theme_details_theme_id_themes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["representative_idea_id"],
            ["ideas.id"],
            name=op.f("fk_theme_details_representative_idea_id_ideas"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theme_details")),
        sa.UniqueConstraint("summit_id", "key", name=op.f("uq_theme_details_summit_id")),
        sa.UniqueConstraint("theme_id", name=op.f("uq_theme_details_theme_id")),
    )
    with op.batch_alter_table("theme_details") as batch:
        batch.create_index(batch.f("ix_theme_details_summit_id"), ["summit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("theme_details") as batch:
        batch.drop_index(batch.f("ix_theme_details_summit_id"))
    op.drop_table("theme_details")
    op.drop_table("theme_boards")
    op.drop_table("idea_settings")
