"""The plenary screen of the hall: themes, the programme, prioritisation and the Burgerraad."""

from __future__ import annotations

from summit.plenary.service import display_links, issue_display_link

__all__ = [
    "display_links",
    "issue_display_link",
]
