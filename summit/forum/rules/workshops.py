"""Workshop rules (pure): who may be invited, and the membership draw when a workshop is
oversubscribed.

The draw is the lottery's committed draw (``summit.core.rules.draw``): the volunteers'
pseudonyms form the extract, the commitment (their hash, the number of seats, the seed format)
is published before the seed exists, and anyone can re-run it with ``verify_draw``.
"""

from __future__ import annotations

from collections.abc import Sequence

from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _
from summit.core.rules.draw import (
    Commitment,
    DrawEntry,
    SeedSpec,
    make_commitment,
    run_committed_draw,
)
from summit.core.rules.roles import WorkshopRole

#: Ten dice digits: a workshop draw is small, and the hall rolls them in a minute.
SEED = SeedSpec(kind="dice", digits=10)
GUEST_ROLES = tuple(role.value for role in WorkshopRole)
MAX_CAPACITY = 200


def check_capacity(value: int) -> int:
    if not 1 <= value <= MAX_CAPACITY:
        raise InvalidInput(
            "capacity", _("Choose between 1 and %(max)s members.") % {"max": MAX_CAPACITY}
        )
    return value


def check_guest_role(role: str) -> str:
    if role not in GUEST_ROLES:
        raise InvalidInput("role", _("Choose expert or official."))
    return role


def commit_draw(
    volunteers: Sequence[str], seats: int, *, software_version: str
) -> Commitment:
    """The commitment for drawing ``seats`` members among the volunteers' pseudonyms."""
    if len(volunteers) <= seats:
        raise InvalidInput(
            "draw", _("There are no more volunteers than places: confirm them without a draw.")
        )
    return make_commitment(
        [DrawEntry(p) for p in volunteers],
        seats,
        one_per_household=False,
        software_version=software_version,
        seed=SEED,
        settings={"purpose": "workshop membership"},
    )


def run_draw(volunteers: Sequence[str], commitment: Commitment, raw_seed: str) -> list[str]:
    """The drawn pseudonyms in draw order; refused when the volunteers changed since the
    commitment or the seed does not match its format."""
    return run_committed_draw([DrawEntry(p) for p in volunteers], commitment, raw_seed)
