"""Roles, phases and the whole-system mix of a G1000 (pure rules, no I/O)."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from summit.core.i18n import gettext as _


class Role(enum.StrEnum):
    """A participant's place in the whole system (het hele systeem)."""

    RESIDENT = "resident"  # inwoner, drawn by lot
    EMPLOYER = "employer"  # werkgever / ondernemer / professional
    CIVIL_SERVANT = "civil_servant"  # ambtenaar
    POLITICIAN = "politician"  # politicus / bestuurder
    FREE_THINKER = "free_thinker"  # vrije denker: a resident who was not drawn


def role_words(key: object) -> str:
    """A role as people read it, in the current language; an unknown key as it is."""
    words: dict[str, str] = {
        Role.RESIDENT.value: _("Resident"),
        Role.EMPLOYER.value: _("Employer"),
        Role.CIVIL_SERVANT.value: _("Civil servant"),
        Role.POLITICIAN.value: _("Politician"),
        Role.FREE_THINKER.value: _("Free thinker"),
    }
    return words.get(str(key), str(key))


class Attendance(enum.StrEnum):
    VENUE = "venue"
    ONLINE = "online"


class TableKind(enum.StrEnum):
    VENUE = "venue"
    ONLINE = "online"
    HYBRID = "hybrid"


class Phase(enum.StrEnum):
    """The G1000 lifecycle, in order."""

    COALITION = "coalition"  # partners sign the partner agreement
    INVITATIONS = "invitations"  # register import and invitation draw
    REGISTRATION = "registration"
    SELECTION = "selection"  # second, stratified draw
    SUMMIT = "summit"  # Burgertop
    FORUM = "forum"  # Burgerforum
    COUNCIL = "council"  # Burgerraad
    MONITOR = "monitor"
    CLOSED = "closed"

    def next(self) -> Phase:
        members = list(Phase)
        index = members.index(self)
        if index + 1 >= len(members):
            raise ValueError("phase: " + _("a closed summit has no next phase"))
        return members[index + 1]


class StaffRole(enum.StrEnum):
    ORGANISER = "organiser"
    MODERATOR = "moderator"


class WorkshopRole(enum.StrEnum):
    """Who a Burgerforum workshop invites with a personal link; their contributions carry it."""

    EXPERT = "expert"
    OFFICIAL = "official"  # ambtenaar or bestuurder of a partner


class Principal(enum.StrEnum):
    """Who may call a route; every route names the principals it allows."""

    PUBLIC = "public"
    PARTICIPANT = "participant"
    MODERATOR = "moderator"
    ORGANISER = "organiser"
    PARTNER = "partner"  # a coalition partner, through its personal link (the Monitor)


#: The Dutch G1000 default: 60 % residents, 10 % each of the other four roles.
DEFAULT_MIX: dict[str, float] = {
    Role.RESIDENT: 0.6,
    Role.EMPLOYER: 0.1,
    Role.CIVIL_SERVANT: 0.1,
    Role.POLITICIAN: 0.1,
    Role.FREE_THINKER: 0.1,
}


def validate_mix(mix: Mapping[str, float]) -> dict[str, float]:
    """Check a mix (role → share) and return it normalised to the Role values."""
    unknown = set(mix) - {r.value for r in Role}
    if unknown:
        raise ValueError(
            "mix: " + (_("unknown role(s) %(value)s") % {"value": ", ".join(sorted(unknown))})
        )
    if any(share < 0 for share in mix.values()):
        raise ValueError("mix: " + _("shares cannot be negative"))
    total = sum(mix.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(
            "mix: "
            + _("the shares must add up to 100 %%, they add up to %(total)s %%")
            % {"total": f"{total * 100:.1f}"}
        )
    return {Role(k).value: float(v) for k, v in mix.items()}


def seats_per_role(mix: Mapping[str, float], seats: int) -> dict[str, int]:
    """Whole seats per role by largest remainders; ties go to the role listed first in ``Role``."""
    if seats < 0:
        raise ValueError("seats: " + _("cannot be negative"))
    clean = validate_mix(mix)
    exact = {role: clean.get(role.value, 0.0) * seats for role in Role}
    result = {role.value: int(value) for role, value in exact.items()}
    left = seats - sum(result.values())
    order = sorted(Role, key=lambda r: (-(exact[r] - int(exact[r])), list(Role).index(r)))
    for role in order[:left]:
        result[role.value] += 1
    return result


def council_threshold(members: int) -> int:
    """Votes in favour needed to adopt a proposal: half of the members plus one.

    Counted over the members of the Burgerraad, not over the votes cast. For an odd number of
    members "half plus one" is read as floor(members / 2) + 1, the smallest strict majority.
    """
    if members < 1:
        raise ValueError("members: " + _("a council needs at least one member"))
    return members // 2 + 1
