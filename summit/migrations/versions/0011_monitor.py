"""Monitor: partner agreement, responses, the Monitor group, progress and notifications.

Also drops the unused ``monitor_entries`` table of the first schema (the downgrade recreates it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("monitor_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitor_entries_summit_id"))
    op.drop_table("monitor_entries")
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_mail_outbox_dedupe_key")),
    )
    op.create_table(
        "monitor_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_monitor_areas_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_areas")),
        sa.UniqueConstraint("summit_id", "key", name=op.f("uq_monitor_areas_summit_id")),
    )
    op.create_index(
        op.f("ix_monitor_areas_summit_id"), "monitor_areas", ["summit_id"], unique=False
    )
    op.create_table(
        "monitor_draws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("seed", sa.String(length=200), nullable=False),
        sa.Column("volunteers_sha256", sa.String(length=64), nullable=False),
        sa.Column("volunteers", sa.JSON(), nullable=False),
        sa.Column("drawn", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_monitor_draws_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_draws")),
    )
    op.create_index(
        op.f("ix_monitor_draws_summit_id"), "monitor_draws", ["summit_id"], unique=False
    )
    op.create_table(
        "partner_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_partner_agreements_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_agreements")),
        sa.UniqueConstraint("summit_id", "version", name=op.f("uq_partner_agreements_summit_id")),
    )
    op.create_index(
        op.f("ix_partner_agreements_summit_id"), "partner_agreements", ["summit_id"], unique=False
    )
    op.create_table(
        "partner_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=16), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signatory", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["partner_agreements.id"],
            name=op.f("fk_partner_accounts_agreement_id_partner_agreements"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_accounts_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_accounts")),
        sa.UniqueConstraint("partner_id", name=op.f("uq_partner_accounts_partner_id")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_partner_accounts_pseudonym")),
    )
    op.create_table(
        "partner_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_links_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_partner_links_token_hash")),
    )
    op.create_index(
        op.f("ix_partner_links_partner_id"), "partner_links", ["partner_id"], unique=False
    )
    op.create_table(
        "monitor_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("response_due", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_monitor_items_decision_id_decisions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_monitor_items_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_monitor_items_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_items")),
        sa.UniqueConstraint("proposal_id", name=op.f("uq_monitor_items_proposal_id")),
    )
    op.create_index(
        op.f("ix_monitor_items_summit_id"), "monitor_items", ["summit_id"], unique=False
    )
    op.create_table(
        "monitor_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["monitor_items.id"],
            name=op.f("fk_monitor_assessments_item_id_monitor_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_assessments")),
    )
    op.create_index(
        op.f("ix_monitor_assessments_item_id"), "monitor_assessments", ["item_id"], unique=False
    )
    op.create_table(
        "monitor_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("fanned_out", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["monitor_items.id"],
            name=op.f("fk_monitor_changes_item_id_monitor_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_monitor_changes_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_changes")),
        sa.UniqueConstraint("key", name=op.f("uq_monitor_changes_key")),
    )
    op.create_index(
        op.f("ix_monitor_changes_summit_id"), "monitor_changes", ["summit_id"], unique=False
    )
    op.create_table(
        "monitor_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["monitor_items.id"],
            name=op.f("fk_monitor_documents_item_id_monitor_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_monitor_documents_partner_id_partners"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_documents")),
    )
    op.create_index(
        op.f("ix_monitor_documents_item_id"), "monitor_documents", ["item_id"], unique=False
    )
    op.create_table(
        "monitor_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["monitor_items.id"],
            name=op.f("fk_monitor_milestones_item_id_monitor_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_milestones")),
    )
    op.create_index(
        op.f("ix_monitor_milestones_item_id"), "monitor_milestones", ["item_id"], unique=False
    )
    op.create_table(
        "monitor_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("author_kind", sa.String(length=12), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["monitor_items.id"],
            name=op.f("fk_monitor_posts_item_id_monitor_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_posts")),
    )
    op.create_index(op.f("ix_monitor_posts_item_id"), "monitor_posts", ["item_id"], unique=False)
    op.create_table(
        "monitor_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["monitor_items.id"],
            name=op.f("fk_monitor_subscriptions_item_id_monitor_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_monitor_subscriptions_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_subscriptions")),
    )
    op.create_index(
        op.f("ix_monitor_subscriptions_summit_id"),
        "monitor_subscriptions",
        ["summit_id"],
        unique=False,
    )
    op.create_table(
        "monitor_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["monitor_items.id"],
            name=op.f("fk_monitor_updates_item_id_monitor_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_monitor_updates_partner_id_partners"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_updates")),
    )
    op.create_index(
        op.f("ix_monitor_updates_item_id"), "monitor_updates", ["item_id"], unique=False
    )
    op.create_table(
        "partner_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=8), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("not_doing", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.String(length=120), nullable=False),
        sa.Column("contact_role", sa.String(length=120), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["monitor_items.id"],
            name=op.f("fk_partner_responses_item_id_monitor_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_responses_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_responses")),
        sa.UniqueConstraint("item_id", "partner_id", name=op.f("uq_partner_responses_item_id")),
    )
    op.create_index(
        op.f("ix_partner_responses_item_id"), "partner_responses", ["item_id"], unique=False
    )
    op.create_table(
        "monitor_volunteers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summit_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_monitor_volunteers_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["summit_id"],
            ["summits.id"],
            name=op.f("fk_monitor_volunteers_summit_id_summits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_volunteers")),
        sa.UniqueConstraint(
            "summit_id", "participant_id", name=op.f("uq_monitor_volunteers_summit_id")
        ),
    )
    op.create_index(
        op.f("ix_monitor_volunteers_summit_id"), "monitor_volunteers", ["summit_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_monitor_volunteers_summit_id"), table_name="monitor_volunteers")
    op.drop_table("monitor_volunteers")
    op.drop_index(op.f("ix_partner_responses_item_id"), table_name="partner_responses")
    op.drop_table("partner_responses")
    op.drop_index(op.f("ix_monitor_updates_item_id"), table_name="monitor_updates")
    op.drop_table("monitor_updates")
    op.drop_index(op.f("ix_monitor_subscriptions_summit_id"), table_name="monitor_subscriptions")
    op.drop_table("monitor_subscriptions")
    op.drop_index(op.f("ix_monitor_posts_item_id"), table_name="monitor_posts")
    op.drop_table("monitor_posts")
    op.drop_index(op.f("ix_monitor_milestones_item_id"), table_name="monitor_milestones")
    op.drop_table("monitor_milestones")
    op.drop_index(op.f("ix_monitor_documents_item_id"), table_name="monitor_documents")
    op.drop_table("monitor_documents")
    op.drop_index(op.f("ix_monitor_changes_summit_id"), table_name="monitor_changes")
    op.drop_table("monitor_changes")
    op.drop_index(op.f("ix_monitor_assessments_item_id"), table_name="monitor_assessments")
    op.drop_table("monitor_assessments")
    op.drop_index(op.f("ix_monitor_items_summit_id"), table_name="monitor_items")
    op.drop_table("monitor_items")
    op.drop_index(op.f("ix_partner_links_partner_id"), table_name="partner_links")
    op.drop_table("partner_links")
    op.drop_table("partner_accounts")
    op.drop_index(op.f("ix_partner_agreements_summit_id"), table_name="partner_agreements")
    op.drop_table("partner_agreements")
    op.drop_index(op.f("ix_monitor_draws_summit_id"), table_name="monitor_draws")
    op.drop_table("monitor_draws")
    op.drop_index(op.f("ix_monitor_areas_summit_id"), table_name="monitor_areas")
    op.drop_table("monitor_areas")
    op.drop_table("mail_outbox")
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
