"""Tables of the video part (registered on the metadata by `summit.schema`).

``media_table_nodes``: the record of which media node hosts each video table (one row per media
table id, replaced when the table moves) and why it went there (``placed``, ``failover``,
``drain``). Redis holds the live assignment that the nodes check; this row is what stays.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from summit.core.models import Base, UTCDateTime, utcnow


class MediaTableNode(Base):
    __tablename__ = "media_table_nodes"

    media_table: Mapped[str] = mapped_column(String(128), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(16))
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
