"""Schema of the seating part.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seating_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("table_size", sa.Integer(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("hosts_stay", sa.Boolean(), nullable=False),
        sa.Column("hybrid_tables", sa.Integer(), nullable=False),
        sa.Column("remote_seats_per_hybrid_table", sa.Integer(), nullable=False),
        sa.Column("venue_areas", sa.JSON(), nullable=False),
        sa.Column("keep_together", sa.JSON(), nullable=False),
        sa.Column("keep_apart", sa.JSON(), nullable=False),
        sa.Column("fixed_tables", sa.JSON(), nullable=False),
        sa.Column("effort", sa.Float(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_seating_settings_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seating_settings")),
        sa.UniqueConstraint("summit_id", name=op.f("uq_seating_settings_summit_id")),
    )
    op.create_table(
        "seating_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("first_round", sa.Integer(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("seed", sa.String(length=200), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("inputs_hash", sa.String(length=64), nullable=False),
        sa.Column("layout", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("late_participants", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_seating_runs_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seating_runs")),
    )
    with op.batch_alter_table("seating_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seating_runs_summit_id"), ["summit_id"], unique=False)
    op.create_table(
        "topic_choices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("first", sa.String(length=200), nullable=False),
        sa.Column("second", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_topic_choices_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_topic_choices_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topic_choices")),
        sa.UniqueConstraint("summit_id", "participant_id", name=op.f("uq_topic_choices_summit_id")),
    )
    with op.batch_alter_table("topic_choices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_topic_choices_summit_id"), ["summit_id"], unique=False)
    op.create_table(
        "round_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_round_topics_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["tables.id"],
            name=op.f("fk_round_topics_table_id_tables"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_topics")),
        sa.UniqueConstraint("round_id", "table_id", name=op.f("uq_round_topics_round_id")),
    )
    with op.batch_alter_table("round_topics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_topics_round_id"), ["round_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("round_topics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_topics_round_id"))
    op.drop_table("round_topics")
    with op.batch_alter_table("topic_choices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_topic_choices_summit_id"))
    op.drop_table("topic_choices")
    with op.batch_alter_table("seating_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seating_runs_summit_id"))
    op.drop_table("seating_runs")
    op.drop_table("seating_settings")
