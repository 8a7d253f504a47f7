"""Prioritisation, proposals, the Burgerraad vote and the Burgerbesluit."""

from __future__ import annotations

from summit.council.actions import calls_to_action
from summit.council.decision import render_in_language
from summit.council.priority import priority_totals, shortlist_items
from summit.council.proposals import (
    ProposalText,
    create_proposal,
    get_proposal,
    latest_versions,
    proposal_versions,
    revise_proposal,
    themes,
    version_digest,
)
from summit.council.proposals import (
    proposals as list_proposals,
)
from summit.council.rules.authority import Author
from summit.council.rules.text import clean_text
from summit.council.rules.voting import Membership, MembershipKind, receipt_key
from summit.council.service import cast_ballots, close_council_vote, open_council_vote
from summit.council.vote import council_outcome, create_council_vote, member_of_open_vote, turnout

__all__ = [
    "Author",
    "Membership",
    "MembershipKind",
    "ProposalText",
    "calls_to_action",
    "cast_ballots",
    "clean_text",
    "close_council_vote",
    "council_outcome",
    "create_council_vote",
    "create_proposal",
    "get_proposal",
    "latest_versions",
    "list_proposals",
    "member_of_open_vote",
    "open_council_vote",
    "priority_totals",
    "proposal_versions",
    "receipt_key",
    "render_in_language",
    "revise_proposal",
    "shortlist_items",
    "themes",
    "turnout",
    "version_digest",
]
