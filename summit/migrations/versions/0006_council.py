"""Schema of the council part.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{ref_table}"), ondelete=ondelete
    )


def _index(table: str, column: str, unique: bool = False) -> None:
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=unique)


def upgrade() -> None:
    op.create_table(
        "priority_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("item_kind", sa.String(length=16), nullable=False),
        sa.Column("votes_per_participant", sa.Integer(), nullable=False),
        sa.Column("max_per_item", sa.Integer(), nullable=True),
        sa.Column("shortlist_size", sa.Integer(), nullable=False),
        sa.Column("seed", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        _fk("priority_votes", "summit_id", "summits.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_priority_votes")),
    )
    _index("priority_votes", "summit_id")
    op.create_table(
        "priority_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("priority_vote_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _fk("priority_items", "priority_vote_id", "priority_votes.id", "CASCADE"),
        _fk("priority_items", "theme_id", "themes.id", "SET NULL"),
        _fk("priority_items", "proposal_id", "proposals.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_priority_items")),
    )
    _index("priority_items", "priority_vote_id")
    op.create_table(
        "priority_ballots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("priority_vote_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("dots", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("priority_ballots", "priority_vote_id", "priority_votes.id", "CASCADE"),
        _fk("priority_ballots", "participant_id", "participants.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_priority_ballots")),
        sa.UniqueConstraint(
            "priority_vote_id", "participant_id", name=op.f("uq_priority_ballots_priority_vote_id")
        ),
    )
    _index("priority_ballots", "priority_vote_id")
    op.create_table(
        "priority_table_tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("priority_vote_id", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("voters", sa.Integer(), nullable=False),
        sa.Column("dots", sa.JSON(), nullable=False),
        sa.Column("entered_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("priority_table_tallies", "priority_vote_id", "priority_votes.id", "CASCADE"),
        _fk("priority_table_tallies", "table_id", "tables.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_priority_table_tallies")),
        sa.UniqueConstraint(
            "priority_vote_id", "table_id", name=op.f("uq_priority_table_tallies_priority_vote_id")
        ),
    )
    _index("priority_table_tallies", "priority_vote_id")
    op.create_table(
        "council_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_vote_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        _fk("council_members", "council_vote_id", "council_votes.id", "CASCADE"),
        _fk("council_members", "participant_id", "participants.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_members")),
        sa.UniqueConstraint(
            "council_vote_id", "participant_id", name=op.f("uq_council_members_council_vote_id")
        ),
    )
    _index("council_members", "council_vote_id")
    op.create_table(
        "council_vote_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_vote_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("proposal_version", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("votes_for", sa.Integer(), nullable=True),
        sa.Column("against", sa.Integer(), nullable=True),
        sa.Column("abstain", sa.Integer(), nullable=True),
        sa.Column("adopted", sa.Boolean(), nullable=True),
        _fk("council_vote_items", "council_vote_id", "council_votes.id", "CASCADE"),
        _fk("council_vote_items", "proposal_id", "proposals.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_vote_items")),
        sa.UniqueConstraint(
            "council_vote_id", "proposal_id", name=op.f("uq_council_vote_items_council_vote_id")
        ),
    )
    _index("council_vote_items", "council_vote_id")
    op.create_table(
        "council_vote_meta",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_vote_id", sa.Integer(), nullable=False),
        sa.Column("key_check", sa.String(length=64), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("voters", sa.Integer(), nullable=False),
        sa.Column("ballots_counted", sa.Integer(), nullable=False),
        sa.Column("ballots_superseded", sa.Integer(), nullable=False),
        sa.Column("receipts_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("council_vote_meta", "council_vote_id", "council_votes.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_vote_meta")),
        sa.UniqueConstraint("council_vote_id", name=op.f("uq_council_vote_meta_council_vote_id")),
    )
    op.create_table(
        "decision_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        _fk("decision_documents", "decision_id", "decisions.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_documents")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_decision_documents_decision_id")),
    )
    op.create_table(
        "display_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        _fk("display_links", "summit_id", "summits.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_display_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_display_links_token_hash")),
    )
    _index("display_links", "summit_id")


def downgrade() -> None:
    for table, indexed in (
        ("display_links", "summit_id"),
        ("decision_documents", None),
        ("council_vote_meta", None),
        ("council_vote_items", "council_vote_id"),
        ("council_members", "council_vote_id"),
        ("priority_table_tallies", "priority_vote_id"),
        ("priority_ballots", "priority_vote_id"),
        ("priority_items", "priority_vote_id"),
        ("priority_votes", "summit_id"),
    ):
        if indexed:
            op.drop_index(op.f(f"ix_{table}_{indexed}"), table_name=table)
        op.drop_table(table)
