"""Security: server-side sessions for staff and participants; invitation codes under a keyed hash.

Invitation codes were stored as a plain SHA-256 of the code; with ~50 bits per code that can be
brute-forced from a copy of the database. They are now stored as HMAC-SHA-256 (under a key
derived from the installation's secret) of that same SHA-256, so the stored hashes are converted
in place: every code on a letter keeps working, and no plain hash is left behind. The secret is
handed to the migration by ``summit db upgrade`` / ``summit serve`` (see summit.core.db.upgrade).
A downgrade keeps the keyed hashes (they cannot be turned back): unused codes then stop working.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from summit.core.security import rekey_code_digest

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SECRET_ATTRIBUTE = "summit.secret_key"


def _create_sessions() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("personal_link_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_sessions_staff_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["personal_link_id"],
            ["personal_links.id"],
            name=op.f("fk_sessions_personal_link_id_personal_links"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sessions_token_hash")),
    )
    with op.batch_alter_table("sessions") as batch:
        batch.create_index(batch.f("ix_sessions_staff_user_id"), ["staff_user_id"], unique=False)
        batch.create_index(
            batch.f("ix_sessions_personal_link_id"), ["personal_link_id"], unique=False
        )


def _rekey_invitation_codes() -> None:
    invitations = sa.table(
        "invitations", sa.column("id", sa.Integer()), sa.column("code_hash", sa.String())
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(invitations.c.id, invitations.c.code_hash)).all()
    if not rows:
        return
    secret = context.config.attributes.get(SECRET_ATTRIBUTE)
    if not secret:
        raise RuntimeError(
            "revision 0012 re-keys the stored invitation codes and needs the installation's "
            "secret: run `summit db upgrade` with the same SUMMIT_SECRET_KEY(_FILE) as the app"
        )
    for row_id, digest in rows:
        bind.execute(
            invitations.update()
            .where(invitations.c.id == row_id)
            .values(code_hash=rekey_code_digest(str(secret), digest))
        )


def upgrade() -> None:
    _rekey_invitation_codes()  # first: without the secret it refuses before changing anything
    _create_sessions()


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_index(batch.f("ix_sessions_personal_link_id"))
        batch.drop_index(batch.f("ix_sessions_staff_user_id"))
    op.drop_table("sessions")
