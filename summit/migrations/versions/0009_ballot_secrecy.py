"""Council: the ballot's secrecy and proposal authority.

* ``council_credentials``: which members obtained their anonymous voting key (blind signatures);
* ``council_voting_keys``: the anonymous keys that cast ballots, with the signature on each;
* ``ballots.credential`` / ``ballots.version``: the voting key a ballot was cast with and its
  version per proposal (only the latest counts);
* ``council_vote_meta.ballot_key_*``: a vote's ballot key (public part, sealed private part);
* ``council_vote_items.proposal_sha256`` and ``proposal_versions.sha256``: the exact text on a
  vote; ``proposals.owner``: the table or workshop that may revise a proposal.

Existing data is kept: every version gets its hash, every vote item the hash of the version it
records, every proposal the table that wrote its first version as owner. Ballots cast before
this revision keep counting (their voters stay in ``voter_participation``); on a vote that is
open during the upgrade, a member who already voted is marked as holding a voting key, so they
cannot vote a second time with a new one (they cannot change that earlier ballot either).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: ``council_credentials.batch`` of members who voted before voting keys existed.
LEGACY_BATCH = -1


def _digest(title: str, problem: str, text: str, who_acts: str, cost: str) -> str:
    # The same as summit.council.proposals.version_digest (kept here: migrations stay frozen).
    blob = json.dumps([title, problem, text, who_acts, cost], ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _add_columns() -> None:
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("owner", sa.String(32), nullable=False, server_default=""))
    with op.batch_alter_table("proposal_versions") as batch:
        batch.add_column(sa.Column("sha256", sa.String(64), nullable=False, server_default=""))
    with op.batch_alter_table("council_vote_items") as batch:
        batch.add_column(
            sa.Column("proposal_sha256", sa.String(64), nullable=False, server_default="")
        )
    with op.batch_alter_table("council_vote_meta") as batch:
        batch.add_column(sa.Column("ballot_key_n", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("ballot_key_e", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("ballot_key_sealed", sa.Text(), nullable=False, server_default="")
        )
    with op.batch_alter_table("ballots") as batch:
        batch.add_column(sa.Column("credential", sa.String(64), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.create_unique_constraint(
            op.f("uq_ballots_credential"), ["credential", "proposal_id", "version"]
        )


def _create_credentials() -> None:
    op.create_table(
        "council_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_vote_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("blinded", sa.Text(), nullable=False),
        sa.Column("blind_signature", sa.Text(), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["council_vote_id"],
            ["council_votes.id"],
            name=op.f("fk_council_credentials_council_vote_id_council_votes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_council_credentials_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_credentials")),
        sa.UniqueConstraint(
            "council_vote_id",
            "participant_id",
            name=op.f("uq_council_credentials_council_vote_id"),
        ),
    )
    op.create_index(
        op.f("ix_council_credentials_council_vote_id"), "council_credentials", ["council_vote_id"]
    )
    op.create_table(
        "council_voting_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_vote_id", sa.Integer(), nullable=False),
        sa.Column("credential", sa.String(64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_vote_id"],
            ["council_votes.id"],
            name=op.f("fk_council_voting_keys_council_vote_id_council_votes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_voting_keys")),
        sa.UniqueConstraint("credential", name=op.f("uq_council_voting_keys_credential")),
    )
    op.create_index(
        op.f("ix_council_voting_keys_council_vote_id"), "council_voting_keys", ["council_vote_id"]
    )


def _fill_hashes_and_owners(conn: sa.Connection) -> None:
    versions = conn.execute(
        sa.text(
            "SELECT id, proposal_id, version, title, problem, text, who_acts, cost, "
            "author_table_id FROM proposal_versions"
        )
    ).all()
    hashes: dict[tuple[int, int], str] = {}
    for row in versions:
        digest = _digest(row.title, row.problem, row.text, row.who_acts, row.cost)
        hashes[(row.proposal_id, row.version)] = digest
        conn.execute(
            sa.text("UPDATE proposal_versions SET sha256 = :h WHERE id = :id"),
            {"h": digest, "id": row.id},
        )
        if row.version == 1 and row.author_table_id is not None:
            conn.execute(
                sa.text("UPDATE proposals SET owner = :o WHERE id = :p"),
                {"o": f"table:{row.author_table_id}", "p": row.proposal_id},
            )
    items = conn.execute(
        sa.text("SELECT id, proposal_id, proposal_version FROM council_vote_items")
    ).all()
    for item in items:
        digest = hashes.get((item.proposal_id, item.proposal_version), "")
        conn.execute(
            sa.text("UPDATE council_vote_items SET proposal_sha256 = :h WHERE id = :id"),
            {"h": digest, "id": item.id},
        )


def _mark_earlier_voters(conn: sa.Connection) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO council_credentials "
            "(council_vote_id, participant_id, blinded, blind_signature, batch) "
            "SELECT vp.council_vote_id, vp.participant_id, '', '', :legacy "
            "FROM voter_participation vp JOIN council_votes v ON v.id = vp.council_vote_id "
            "WHERE v.status = 'open'"
        ),
        {"legacy": LEGACY_BATCH},
    )


def upgrade() -> None:
    _add_columns()
    _create_credentials()
    conn = op.get_bind()
    _fill_hashes_and_owners(conn)
    _mark_earlier_voters(conn)


def downgrade() -> None:
    op.drop_index(op.f("ix_council_voting_keys_council_vote_id"), table_name="council_voting_keys")
    op.drop_table("council_voting_keys")
    op.drop_index(op.f("ix_council_credentials_council_vote_id"), table_name="council_credentials")
    op.drop_table("council_credentials")
    with op.batch_alter_table("ballots") as batch:
        batch.drop_constraint(op.f("uq_ballots_credential"), type_="unique")
        batch.drop_column("version")
        batch.drop_column("credential")
    with op.batch_alter_table("council_vote_meta") as batch:
        batch.drop_column("ballot_key_sealed")
        batch.drop_column("ballot_key_e")
        batch.drop_column("ballot_key_n")
    with op.batch_alter_table("council_vote_items") as batch:
        batch.drop_column("proposal_sha256")
    with op.batch_alter_table("proposal_versions") as batch:
        batch.drop_column("sha256")
    with op.batch_alter_table("proposals") as batch:
        batch.drop_column("owner")
