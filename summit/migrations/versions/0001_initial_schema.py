"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 13:51:12.470849
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("payload_digest", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("entry_hash", name=op.f("uq_audit_entries_entry_hash")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_summit_id"), ["summit_id"], unique=False)

    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("pseudonym", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_staff_users_pseudonym")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )
    op.create_table(
        "summits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("municipality", sa.String(length=200), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("venue", sa.String(length=200), nullable=False),
        sa.Column("venue_capacity", sa.Integer(), nullable=False),
        sa.Column("online_capacity", sa.Integer(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("mix", sa.JSON(), nullable=False),
        sa.Column("table_size", sa.Integer(), nullable=False),
        sa.Column("table_pattern", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("default_language", sa.String(length=8), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("public_seed", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summits")),
        sa.UniqueConstraint("slug", name=op.f("uq_summits_slug")),
    )
    op.create_table(
        "council_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_council_votes_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_votes")),
    )
    with op.batch_alter_table("council_votes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_council_votes_summit_id"), ["summit_id"], unique=False)

    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("commitment", sa.Text(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_partners_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
    )
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partners_summit_id"), ["summit_id"], unique=False)

    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=120), nullable=False),
        sa.Column("last_name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("accessibility_needs", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_people_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_summit_id"), ["summit_id"], unique=False)

    op.create_table(
        "rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_rounds_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds")),
        sa.UniqueConstraint("summit_id", "number", name=op.f("uq_rounds_summit_id")),
    )
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rounds_summit_id"), ["summit_id"], unique=False)

    op.create_table(
        "tables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_tables_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tables")),
        sa.UniqueConstraint("summit_id", "number", name=op.f("uq_tables_summit_id")),
    )
    with op.batch_alter_table("tables", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tables_summit_id"), ["summit_id"], unique=False)

    op.create_table(
        "theme_constraints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("undone", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_theme_constraints_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theme_constraints")),
    )
    with op.batch_alter_table("theme_constraints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_theme_constraints_summit_id"), ["summit_id"], unique=False
        )

    op.create_table(
        "themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_themes_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_themes")),
    )
    with op.batch_alter_table("themes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_themes_summit_id"), ["summit_id"], unique=False)

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("council_vote_id", sa.Integer(), nullable=True),
        sa.Column("document_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_vote_id"],
            ["council_votes.id"],
            name=op.f("fk_decisions_council_vote_id_council_votes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_decisions_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decisions_summit_id"), ["summit_id"], unique=False)

    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_proposals_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_proposals_theme_id_themes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
    )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposals_summit_id"), ["summit_id"], unique=False)

    op.create_table(
        "register_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("household", sa.String(length=64), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_register_entries_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_register_entries_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_entries")),
        sa.UniqueConstraint("summit_id", "pseudonym", name=op.f("uq_register_entries_summit_id")),
    )
    with op.batch_alter_table("register_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_register_entries_summit_id"), ["summit_id"], unique=False
        )

    op.create_table(
        "ballots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_vote_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=8), nullable=False),
        sa.Column("receipt", sa.String(length=64), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_vote_id"],
            ["council_votes.id"],
            name=op.f("fk_ballots_council_vote_id_council_votes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_ballots_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballots")),
        sa.UniqueConstraint("receipt", name=op.f("uq_ballots_receipt")),
    )
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ballots_council_vote_id"), ["council_vote_id"], unique=False
        )

    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("register_entry_id", sa.Integer(), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["register_entry_id"],
            ["register_entries.id"],
            name=op.f("fk_invitations_register_entry_id_register_entries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_invitations_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invitations_code_hash")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitations_summit_id"), ["summit_id"], unique=False)

    op.create_table(
        "monitor_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_monitor_entries_partner_id_partners"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_monitor_entries_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_monitor_entries_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_entries")),
    )
    with op.batch_alter_table("monitor_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitor_entries_summit_id"), ["summit_id"], unique=False
        )

    op.create_table(
        "proposal_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("who_acts", sa.Text(), nullable=False),
        sa.Column("cost", sa.Text(), nullable=False),
        sa.Column("author_table_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_table_id"],
            ["tables.id"],
            name=op.f("fk_proposal_versions_author_table_id_tables"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_versions_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_versions")),
        sa.UniqueConstraint(
            "proposal_id", "version", name=op.f("uq_proposal_versions_proposal_id")
        ),
    )
    with op.batch_alter_table("proposal_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_versions_proposal_id"), ["proposal_id"], unique=False
        )

    op.create_table(
        "shortlist_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_shortlist_items_proposal_id_proposals"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_shortlist_items_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_shortlist_items_theme_id_themes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shortlist_items")),
    )
    with op.batch_alter_table("shortlist_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shortlist_items_summit_id"), ["summit_id"], unique=False
        )

    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("attendance", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_registrations_invitation_id_invitations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_registrations_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_registrations_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
    )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registrations_summit_id"), ["summit_id"], unique=False)

    op.create_table(
        "participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=16), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("attendance", sa.String(length=16), nullable=False),
        sa.Column("is_host", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_participants_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_participants_registration_id_registrations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_participants_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
        sa.UniqueConstraint("summit_id", "pseudonym", name=op.f("uq_participants_summit_id")),
    )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participants_summit_id"), ["summit_id"], unique=False)

    op.create_table(
        "decision_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_decision_signatures_decision_id_decisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_decision_signatures_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_signatures")),
        sa.UniqueConstraint(
            "decision_id", "participant_id", name=op.f("uq_decision_signatures_decision_id")
        ),
    )
    op.create_table(
        "ideas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("table_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["participants.id"],
            name=op.f("fk_ideas_author_id_participants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["ideas.id"],
            name=op.f("fk_ideas_duplicate_of_id_ideas"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_ideas_round_id_rounds"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_ideas_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["table_id"], ["tables.id"], name=op.f("fk_ideas_table_id_tables"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name=op.f("fk_ideas_theme_id_themes"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ideas")),
        sa.UniqueConstraint("summit_id", "idempotency_key", name=op.f("uq_ideas_summit_id")),
    )
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ideas_summit_id"), ["summit_id"], unique=False)

    op.create_table(
        "personal_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_personal_links_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_personal_links_token_hash")),
    )
    with op.batch_alter_table("personal_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_personal_links_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "seats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("seat_type", sa.String(length=32), nullable=False),
        sa.Column("is_host", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_seats_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_seats_round_id_rounds"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["table_id"], ["tables.id"], name=op.f("fk_seats_table_id_tables"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seats")),
        sa.UniqueConstraint("round_id", "participant_id", name=op.f("uq_seats_round_id")),
    )
    with op.batch_alter_table("seats", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_seats_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_seats_round_id"), ["round_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_seats_table_id"), ["table_id"], unique=False)

    op.create_table(
        "voter_participation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_vote_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_vote_id"],
            ["council_votes.id"],
            name=op.f("fk_voter_participation_council_vote_id_council_votes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_voter_participation_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voter_participation")),
        sa.UniqueConstraint(
            "council_vote_id", "participant_id", name=op.f("uq_voter_participation_council_vote_id")
        ),
    )
    with op.batch_alter_table("voter_participation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voter_participation_council_vote_id"), ["council_vote_id"], unique=False
        )

    op.create_table(
        "idea_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("editor", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["ideas.id"],
            name=op.f("fk_idea_revisions_idea_id_ideas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_revisions")),
    )
    with op.batch_alter_table("idea_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_revisions_idea_id"), ["idea_id"], unique=False)

    _create_append_only_guard()


def _create_append_only_guard() -> None:
    # The audit log is append-only at the database level too; `summit audit verify` still checks
    # the hash chain, because whoever owns the database can drop a trigger.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit log is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} ON audit_entries "
                "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
            )


def _drop_append_only_guard() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")


def downgrade() -> None:
    _drop_append_only_guard()
    with op.batch_alter_table("idea_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_revisions_idea_id"))

    op.drop_table("idea_revisions")
    with op.batch_alter_table("voter_participation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voter_participation_council_vote_id"))

    op.drop_table("voter_participation")
    with op.batch_alter_table("seats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seats_table_id"))
        batch_op.drop_index(batch_op.f("ix_seats_round_id"))
        batch_op.drop_index(batch_op.f("ix_seats_participant_id"))

    op.drop_table("seats")
    with op.batch_alter_table("personal_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_links_participant_id"))

    op.drop_table("personal_links")
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ideas_summit_id"))

    op.drop_table("ideas")
    op.drop_table("decision_signatures")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participants_summit_id"))

    op.drop_table("participants")
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registrations_summit_id"))

    op.drop_table("registrations")
    with op.batch_alter_table("shortlist_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shortlist_items_summit_id"))

    op.drop_table("shortlist_items")
    with op.batch_alter_table("proposal_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_versions_proposal_id"))

    op.drop_table("proposal_versions")
    with op.batch_alter_table("monitor_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitor_entries_summit_id"))

    op.drop_table("monitor_entries")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_summit_id"))

    op.drop_table("invitations")
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ballots_council_vote_id"))

    op.drop_table("ballots")
    with op.batch_alter_table("register_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_register_entries_summit_id"))

    op.drop_table("register_entries")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposals_summit_id"))

    op.drop_table("proposals")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_summit_id"))

    op.drop_table("decisions")
    with op.batch_alter_table("themes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_themes_summit_id"))

    op.drop_table("themes")
    with op.batch_alter_table("theme_constraints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_theme_constraints_summit_id"))

    op.drop_table("theme_constraints")
    with op.batch_alter_table("tables", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tables_summit_id"))

    op.drop_table("tables")
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rounds_summit_id"))

    op.drop_table("rounds")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_summit_id"))

    op.drop_table("people")
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partners_summit_id"))

    op.drop_table("partners")
    with op.batch_alter_table("council_votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_council_votes_summit_id"))

    op.drop_table("council_votes")
    op.drop_table("summits")
    op.drop_table("staff_users")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_summit_id"))

    op.drop_table("audit_entries")
