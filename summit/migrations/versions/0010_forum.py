"""Burgerforum: reactions, workshops, revisions and the opinion map's votes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "forum_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("methods", sa.JSON(), nullable=False),
        sa.Column("postcodes", sa.JSON(), nullable=False),
        sa.Column("max_length", sa.Integer(), nullable=False),
        sa.Column("per_hour", sa.Integer(), nullable=False),
        sa.Column("map_seed", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_forum_settings_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_settings")),
        sa.UniqueConstraint("summit_id", name=op.f("uq_forum_settings_summit_id")),
    )
    op.create_table(
        "forum_workshops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("commitment", sa.JSON(), nullable=False),
        sa.Column("commitment_hash", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.String(length=200), nullable=True),
        sa.Column("drawn", sa.JSON(), nullable=False),
        sa.Column("submitted_revision_id", sa.Integer(), nullable=True),
        sa.Column("submitted_version", sa.Integer(), nullable=True),
        sa.Column("submitted_sha256", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_forum_workshops_proposal_id_proposals"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_forum_workshops_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_forum_workshops_theme_id_themes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_workshops")),
    )
    op.create_index(
        op.f("ix_forum_workshops_summit_id"), "forum_workshops", ["summit_id"], unique=False
    )
    op.create_table(
        "forum_workshop_guests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("pseudonym", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["forum_workshops.id"],
            name=op.f("fk_forum_workshop_guests_workshop_id_forum_workshops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_workshop_guests")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_forum_workshop_guests_pseudonym")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_forum_workshop_guests_token_hash")),
    )
    op.create_index(
        op.f("ix_forum_workshop_guests_workshop_id"),
        "forum_workshop_guests",
        ["workshop_id"],
        unique=False,
    )
    op.create_table(
        "forum_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["forum_workshops.id"],
            name=op.f("fk_forum_meetings_workshop_id_forum_workshops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_meetings")),
    )
    op.create_index(
        op.f("ix_forum_meetings_workshop_id"), "forum_meetings", ["workshop_id"], unique=False
    )
    op.create_table(
        "forum_contributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("author_role", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["forum_workshops.id"],
            name=op.f("fk_forum_contributions_workshop_id_forum_workshops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_contributions")),
    )
    op.create_index(
        op.f("ix_forum_contributions_workshop_id"),
        "forum_contributions",
        ["workshop_id"],
        unique=False,
    )
    op.create_table(
        "forum_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("who_acts", sa.Text(), nullable=False),
        sa.Column("cost", sa.Text(), nullable=False),
        sa.Column("author_role", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["forum_workshops.id"],
            name=op.f("fk_forum_revisions_workshop_id_forum_workshops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_revisions")),
        sa.UniqueConstraint("workshop_id", "number", name=op.f("uq_forum_revisions_workshop_id")),
    )
    op.create_index(
        op.f("ix_forum_revisions_workshop_id"), "forum_revisions", ["workshop_id"], unique=False
    )
    op.create_table(
        "forum_reactors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("pseudonym", sa.String(length=16), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("confirm_token_hash", sa.String(length=64), nullable=True),
        sa.Column("confirm_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_forum_reactors_participant_id_participants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_forum_reactors_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_reactors")),
        sa.UniqueConstraint(
            "confirm_token_hash", name=op.f("uq_forum_reactors_confirm_token_hash")
        ),
        sa.UniqueConstraint("summit_id", "key_hash", name=op.f("uq_forum_reactors_summit_id")),
    )
    op.create_index(
        op.f("ix_forum_reactors_summit_id"), "forum_reactors", ["summit_id"], unique=False
    )
    op.create_table(
        "forum_workshop_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_forum_workshop_members_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["forum_workshops.id"],
            name=op.f("fk_forum_workshop_members_workshop_id_forum_workshops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_workshop_members")),
        sa.UniqueConstraint(
            "workshop_id", "participant_id", name=op.f("uq_forum_workshop_members_workshop_id")
        ),
    )
    op.create_index(
        op.f("ix_forum_workshop_members_workshop_id"),
        "forum_workshop_members",
        ["workshop_id"],
        unique=False,
    )
    op.create_table(
        "forum_reactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("reactor_id", sa.Integer(), nullable=True),
        sa.Column("stance", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("meeting_name", sa.String(length=200), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=True),
        sa.Column("entered_by", sa.String(length=32), nullable=False),
        sa.Column("author_role", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("hidden_reason", sa.String(length=32), nullable=False),
        sa.Column("hidden_by", sa.String(length=32), nullable=False),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_forum_reactions_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reactor_id"],
            ["forum_reactors.id"],
            name=op.f("fk_forum_reactions_reactor_id_forum_reactors"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_forum_reactions_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_reactions")),
        sa.UniqueConstraint(
            "proposal_id", "reactor_id", "text_sha256", name=op.f("uq_forum_reactions_proposal_id")
        ),
    )
    op.create_index(
        op.f("ix_forum_reactions_proposal_id"), "forum_reactions", ["proposal_id"], unique=False
    )
    op.create_index(
        op.f("ix_forum_reactions_reactor_id"), "forum_reactions", ["reactor_id"], unique=False
    )
    op.create_index(
        op.f("ix_forum_reactions_summit_id"), "forum_reactions", ["summit_id"], unique=False
    )
    op.create_table(
        "forum_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reaction_id", sa.Integer(), nullable=False),
        sa.Column("reporter_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reaction_id"],
            ["forum_reactions.id"],
            name=op.f("fk_forum_reports_reaction_id_forum_reactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_reports")),
        sa.UniqueConstraint(
            "reaction_id", "reporter_hash", name=op.f("uq_forum_reports_reaction_id")
        ),
    )
    op.create_index(
        op.f("ix_forum_reports_reaction_id"), "forum_reports", ["reaction_id"], unique=False
    )
    op.create_table(
        "forum_citations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("reaction_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reaction_id"],
            ["forum_reactions.id"],
            name=op.f("fk_forum_citations_reaction_id_forum_reactions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["forum_revisions.id"],
            name=op.f("fk_forum_citations_revision_id_forum_revisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_citations")),
        sa.UniqueConstraint(
            "revision_id", "reaction_id", name=op.f("uq_forum_citations_revision_id")
        ),
    )
    op.create_index(
        op.f("ix_forum_citations_reaction_id"), "forum_citations", ["reaction_id"], unique=False
    )
    op.create_index(
        op.f("ix_forum_citations_revision_id"), "forum_citations", ["revision_id"], unique=False
    )
    op.create_table(
        "forum_statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("reaction_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_forum_statements_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reaction_id"],
            ["forum_reactions.id"],
            name=op.f("fk_forum_statements_reaction_id_forum_reactions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_forum_statements_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_statements")),
        sa.UniqueConstraint("reaction_id", name=op.f("uq_forum_statements_reaction_id")),
    )
    op.create_index(
        op.f("ix_forum_statements_proposal_id"), "forum_statements", ["proposal_id"], unique=False
    )
    op.create_index(
        op.f("ix_forum_statements_summit_id"), "forum_statements", ["summit_id"], unique=False
    )
    op.create_table(
        "forum_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("reactor_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reactor_id"],
            ["forum_reactors.id"],
            name=op.f("fk_forum_votes_reactor_id_forum_reactors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["forum_statements.id"],
            name=op.f("fk_forum_votes_statement_id_forum_statements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_forum_votes_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_votes")),
        sa.UniqueConstraint("statement_id", "reactor_id", name=op.f("uq_forum_votes_statement_id")),
    )
    op.create_index(op.f("ix_forum_votes_reactor_id"), "forum_votes", ["reactor_id"], unique=False)
    op.create_index(
        op.f("ix_forum_votes_statement_id"), "forum_votes", ["statement_id"], unique=False
    )
    op.create_index(op.f("ix_forum_votes_summit_id"), "forum_votes", ["summit_id"], unique=False)
    op.create_index(
        "ix_forum_votes_summit_updated", "forum_votes", ["summit_id", "updated_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_forum_votes_reactor_id", table_name="forum_votes")
    op.drop_index("ix_forum_votes_statement_id", table_name="forum_votes")
    op.drop_index("ix_forum_votes_summit_id", table_name="forum_votes")
    op.drop_index("ix_forum_votes_summit_updated", table_name="forum_votes")
    op.drop_table("forum_votes")
    op.drop_index("ix_forum_statements_proposal_id", table_name="forum_statements")
    op.drop_index("ix_forum_statements_summit_id", table_name="forum_statements")
    op.drop_table("forum_statements")
    op.drop_index("ix_forum_citations_reaction_id", table_name="forum_citations")
    op.drop_index("ix_forum_citations_revision_id", table_name="forum_citations")
    op.drop_table("forum_citations")
    op.drop_index("ix_forum_reports_reaction_id", table_name="forum_reports")
    op.drop_table("forum_reports")
    op.drop_index("ix_forum_reactions_proposal_id", table_name="forum_reactions")
    op.drop_index("ix_forum_reactions_reactor_id", table_name="forum_reactions")
    op.drop_index("ix_forum_reactions_summit_id", table_name="forum_reactions")
    op.drop_table("forum_reactions")
    op.drop_index("ix_forum_workshop_members_workshop_id", table_name="forum_workshop_members")
    op.drop_table("forum_workshop_members")
    op.drop_index("ix_forum_reactors_summit_id", table_name="forum_reactors")
    op.drop_table("forum_reactors")
    op.drop_index("ix_forum_revisions_workshop_id", table_name="forum_revisions")
    op.drop_table("forum_revisions")
    op.drop_index("ix_forum_contributions_workshop_id", table_name="forum_contributions")
    op.drop_table("forum_contributions")
    op.drop_index("ix_forum_meetings_workshop_id", table_name="forum_meetings")
    op.drop_table("forum_meetings")
    op.drop_index("ix_forum_workshop_guests_workshop_id", table_name="forum_workshop_guests")
    op.drop_table("forum_workshop_guests")
    op.drop_index("ix_forum_workshops_summit_id", table_name="forum_workshops")
    op.drop_table("forum_workshops")
    op.drop_table("forum_settings")
