"""Who may revise a proposal, and when.

A proposal belongs to the table or workshop that wrote it (its *owner*: ``table:<id>``,
``workshop:<id>``; ``participant:<id>`` for a host writing without a table this round; empty for
one written by staff). Its owner and staff revise it freely; once it is on a Burgerraad vote that
is being set up only staff may (and the vote moves to the new version, logged); once the vote has
opened its text is frozen.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from summit.core.errors import InvalidInput, PermissionDenied
from summit.core.i18n import gettext as _


class Stage(enum.StrEnum):
    FREE = "free"  # on no vote, or only on closed votes that never opened
    SET_UP = "set_up"  # on a planned Burgerraad vote
    FROZEN = "frozen"  # on a vote that has opened


@dataclass(frozen=True)
class Author:
    """Who writes: staff, or a participant with the owner key they act for (the table they host).

    ``owner`` is the key a new proposal by this author gets ("" for staff: a workshop's or the
    organisers' proposal); ``owner_keys`` the proposals' owners they may revise.
    """

    staff: bool = False
    owner: str = ""
    owner_keys: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def member_of(cls, key: str) -> Author:
        return cls(staff=False, owner=key, owner_keys=frozenset({key}))


def table_owner(table_id: int) -> str:
    return f"table:{table_id}"


def check_revision(owner: str, author: Author, stage: Stage) -> None:
    """Refuse a revision the author may not make at this stage (the message names the field)."""
    if stage is Stage.FROZEN:
        raise InvalidInput("proposal", _("the Burgerraad has voted on this text; it cannot change"))
    if author.staff:
        return
    if stage is Stage.SET_UP:
        raise PermissionDenied(
            "proposal: "
            + _("this proposal is on a Burgerraad vote being set up; only staff revise it now")
        )
    if not owner or owner not in author.owner_keys:
        raise PermissionDenied(
            "proposal: "
            + _("only the table or workshop that wrote this proposal, or staff, revise it")
        )
