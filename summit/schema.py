"""Every table of the platform on one metadata: the shared tables and each part's own.

Alembic and the application import this module so that all tables are registered on
``Base.metadata`` before the first query.
"""

from __future__ import annotations

from summit.core.models import Base
from summit.council import models as council_models
from summit.forum import models as forum_models
from summit.ideas import models as ideas_models
from summit.lottery import models as lottery_models
from summit.monitor import models as monitor_models
from summit.plenary import models as plenary_models
from summit.programme import models as programme_models
from summit.seating import models as seating_models
from summit.video import models as video_models

__all__ = [
    "Base",
    "council_models",
    "forum_models",
    "ideas_models",
    "lottery_models",
    "monitor_models",
    "plenary_models",
    "programme_models",
    "seating_models",
    "video_models",
]
