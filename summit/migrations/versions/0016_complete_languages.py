"""Only complete languages are offered: French and German (never translated) are dropped.

A summit that listed them keeps its other languages (Dutch when none is left); participants and
followers who had chosen them get their summit's default language.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMPLETE = ("nl", "en")


def upgrade() -> None:
    bind = op.get_bind()
    summits = bind.execute(sa.text("SELECT id, languages, default_language FROM summits")).all()
    for summit_id, raw, default in summits:
        languages = json.loads(raw) if isinstance(raw, str) else list(raw or [])
        kept = [lang for lang in languages if lang in COMPLETE] or ["nl"]
        new_default = default if default in kept else kept[0]
        if kept != languages or new_default != default:
            bind.execute(
                sa.text(
                    "UPDATE summits SET languages = :languages, default_language = :default "
                    "WHERE id = :id"
                ),
                {"languages": json.dumps(kept), "default": new_default, "id": summit_id},
            )
        for table in ("participants", "monitor_subscriptions"):
            bind.execute(
                sa.text(
                    f"UPDATE {table} SET language = :default "
                    "WHERE summit_id = :id AND language NOT IN ('nl', 'en')"
                ),
                {"default": new_default, "id": summit_id},
            )


def downgrade() -> None:
    """Nothing to undo: the dropped languages were never translated."""
