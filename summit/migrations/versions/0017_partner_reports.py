"""Monitor: partners report progress at intervals; reminders by e-mail, overdue reports shown.

``partner_accounts.email`` (where reminders go), ``monitor_items.report_every_weeks`` and
``report_due``, and ``monitor_report_dues`` (one row per partner, item and due date: the claim
that sends its reminder once, and the overdue mark).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("partner_accounts") as batch:
        batch.add_column(sa.Column("email", sa.String(254), nullable=False, server_default=""))
    with op.batch_alter_table("monitor_items") as batch:
        batch.add_column(sa.Column("report_every_weeks", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("report_due", sa.Date(), nullable=True))
    op.create_table(
        "monitor_report_dues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["monitor_items.id"],
            name=op.f("fk_monitor_report_dues_item_id_monitor_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_monitor_report_dues_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_report_dues")),
        sa.UniqueConstraint(
            "item_id", "partner_id", "due_on", name=op.f("uq_monitor_report_dues_item_id")
        ),
    )
    op.create_index(
        op.f("ix_monitor_report_dues_item_id"), "monitor_report_dues", ["item_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_monitor_report_dues_item_id"), table_name="monitor_report_dues")
    op.drop_table("monitor_report_dues")
    with op.batch_alter_table("monitor_items") as batch:
        batch.drop_column("report_due")
        batch.drop_column("report_every_weeks")
    with op.batch_alter_table("partner_accounts") as batch:
        batch.drop_column("email")
