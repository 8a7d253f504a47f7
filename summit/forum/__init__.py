"""The Burgerforum: public proposal pages, residents' reactions with moderation, workshops that
rework proposals for the Burgerraad, and the opinion map's wiring (docs/forum.md)."""

from summit.forum.actions import calls_to_action
from summit.forum.opinion import consensus_for

__all__ = ["calls_to_action", "consensus_for"]
