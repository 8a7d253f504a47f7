"""Ideas recorded at the tables (ideeën) and the live theme board (themabord)."""

from __future__ import annotations

from summit.ideas.board import plenary_data
from summit.ideas.themes import theme_service
from summit.ideas.views import table_panel_data

__all__ = [
    "plenary_data",
    "table_panel_data",
    "theme_service",
]
