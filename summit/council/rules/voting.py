"""Voting rules: dot-vote tallies and the shortlist, the Burgerraad result, ballot receipts.

Pure functions, no I/O. Two votes live here:

* **Prioritisation** (stippen plakken): each participant distributes ``budget`` votes over the
  items (themes or proposals); the items with the most votes form the shortlist. Ties are broken
  by a public rule anyone can redo: the item whose ``SHA-256("<seed>:<item key>")`` (hex, UTF-8)
  is smallest goes first. The seed is fixed and published when the vote is created.
* **The Burgerraad** vote: per proposal for / against / abstain. A proposal is adopted when the
  votes *for* reach half of the members plus one (``council_threshold``), counted over the
  members, not over the votes cast.

Receipts are written in the invitation-code alphabet; they follow from a ballot's anonymous
voting key (``rules.credentials``), never from the voter.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _
from summit.core.rules.roles import council_threshold

#: A member may change their ballot on one proposal this many times (the first one included).
MAX_BALLOT_VERSIONS = 20
#: Receipts use the invitation-code alphabet (no 0/O, 1/I/L) so they are read off a screen right.
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECEIPT_GROUPS = 4
RECEIPT_GROUP_SIZE = 4


class VotingError(InvalidInput):
    """A vote, tally or ballot that breaks a rule; the message names the field."""


class VotingClosed(VotingError):
    """A ballot or dot vote outside the voting window (not yet open, closed, past its deadline)."""


def check_open(status: str, what: str) -> None:
    """Refuse unless a vote (a prioritisation or a Burgerraad vote) is open."""
    if status == "planned":
        raise VotingClosed(
            "vote",
            _("the vote has not opened yet")
            if what == "vote"
            else _("the prioritisation has not opened yet"),
        )
    if status == "closed":
        raise VotingClosed(
            "vote",
            _("the vote has closed") if what == "vote" else _("the prioritisation has closed"),
        )


def check_ballot_window(
    status: str, opens_at: dt.datetime | None, closes_at: dt.datetime | None, now: dt.datetime
) -> None:
    """A Burgerraad ballot is accepted while the vote is open and before its deadline."""
    check_open(status, "vote")
    if opens_at is not None and now < opens_at:
        raise VotingClosed("vote", _("the vote has not opened yet"))
    if closes_at is not None and now >= closes_at:
        raise VotingClosed("vote", _("the voting deadline has passed"))


def transition(status: str, to: str) -> None:
    """A vote goes planned → open → closed, never back."""
    allowed = {"open": "planned", "closed": "open"}
    if status != allowed[to]:
        message = (
            _("only a planned vote can be opened")
            if to == "open"
            else _("only an open vote can be closed")
        )
        raise VotingError("status", message)


class Choice(enum.StrEnum):
    """A Burgerraad member's choice on one proposal (voor / tegen / onthouding)."""

    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


def parse_choice(value: str, field_name: str = "choice") -> Choice:
    try:
        return Choice(value)
    except ValueError:
        raise VotingError(
            field_name, _("must be for, against or abstain, got %(value)r") % {"value": value}
        ) from None


# --- Prioritisation (dot voting) ---------------------------------------------------------------


def validate_allocation(
    allocation: Mapping[str, int],
    items: Collection[str],
    budget: int,
    per_item_cap: int | None = None,
    *,
    field_name: str = "dots",
) -> dict[str, int]:
    """Check one participant's dots: known items, whole non-negative numbers, within the budget.

    Returns the allocation without zero entries. ``per_item_cap`` limits dots on one item
    (``None``: the whole budget may go to one item).
    """
    if budget < 1:
        raise VotingError("budget", _("each participant needs at least one vote to distribute"))
    cap = budget if per_item_cap is None else per_item_cap
    if cap < 1:
        raise VotingError("per_item_cap", _("must be at least 1"))
    clean: dict[str, int] = {}
    for item, dots in allocation.items():
        if item not in items:
            raise VotingError(field_name, _("%(item)r is not on this vote") % {"item": item})
        if isinstance(dots, bool) or not isinstance(dots, int):
            raise VotingError(
                f"{field_name}[{item}]",
                _("must be a whole number"),
            )
        if dots < 0:
            raise VotingError(
                f"{field_name}[{item}]",
                _("cannot be negative"),
            )
        if dots > cap:
            raise VotingError(
                f"{field_name}[{item}]",
                _("at most %(cap)s votes on one item") % {"cap": cap},
            )
        if dots:
            clean[item] = dots
    spent = sum(clean.values())
    if spent > budget:
        raise VotingError(
            field_name,
            _("%(spent)s votes given, only %(budget)s to distribute")
            % {"spent": spent, "budget": budget},
        )
    return clean


def validate_table_tally(
    tally: Mapping[str, int],
    items: Collection[str],
    budget: int,
    voters: int,
    per_item_cap: int | None = None,
) -> dict[str, int]:
    """Check a venue table's paper tally: at most ``budget`` dots per person who voted on paper."""
    if voters < 0:
        raise VotingError("voters", _("cannot be negative"))
    cap = (budget if per_item_cap is None else per_item_cap) * voters
    clean: dict[str, int] = {}
    for item, dots in tally.items():
        if item not in items:
            raise VotingError("tally", _("%(item)r is not on this vote") % {"item": item})
        if isinstance(dots, bool) or not isinstance(dots, int) or dots < 0:
            raise VotingError(f"tally[{item}]", _("must be a whole number of at least 0"))
        if dots > cap:
            raise VotingError(
                f"tally[{item}]",
                _("%(dots)s votes on one item is more than %(voters)s people can give")
                % {"dots": dots, "voters": voters},
            )
        if dots:
            clean[item] = dots
    spent = sum(clean.values())
    if spent > budget * voters:
        raise VotingError(
            "tally",
            _("%(spent)s votes is more than %(voters)s people with %(budget)s votes can give")
            % {"spent": spent, "voters": voters, "budget": budget},
        )
    return clean


def tally(items: Iterable[str], allocations: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Total votes per item (every item present, zero when nobody voted for it)."""
    totals = dict.fromkeys(items, 0)
    for allocation in allocations:
        for item, dots in allocation.items():
            if item not in totals:
                raise VotingError("dots", _("%(item)r is not on this vote") % {"item": item})
            totals[item] += dots
    return totals


def tie_break_key(seed: str, item: str) -> str:
    """The public tie-break value of an item: hex SHA-256 of ``"<seed>:<item>"``; smaller first."""
    return hashlib.sha256(f"{seed}:{item}".encode()).hexdigest()


@dataclass(frozen=True)
class RankedItem:
    item: str
    votes: int
    rank: int  # 1-based position after the tie-break
    tie_key: str


@dataclass(frozen=True)
class TieBreak:
    """Items with equal votes, in the order the tie-break put them."""

    votes: int
    items: tuple[str, ...]
    keys: tuple[str, ...]
    crosses_cut: bool  # some of them made the shortlist and some did not


@dataclass(frozen=True)
class Shortlist:
    seed: str
    size: int
    ranking: tuple[RankedItem, ...]
    ties: tuple[TieBreak, ...] = field(default=())

    @property
    def chosen(self) -> tuple[RankedItem, ...]:
        return self.ranking[: self.size]

    def as_log(self) -> dict[str, object]:
        """The payload for the audit log: enough to redo the ranking by hand."""
        return {
            "seed": self.seed,
            "size": self.size,
            "rule": "most votes first; equal votes: smaller SHA-256(seed:item) first",
            "ranking": [[r.item, r.votes] for r in self.ranking],
            "shortlist": [r.item for r in self.chosen],
            "ties": [
                {
                    "votes": t.votes,
                    "order": list(t.items),
                    "sha256": list(t.keys),
                    "crosses_cut": t.crosses_cut,
                }
                for t in self.ties
            ],
        }


def rank(totals: Mapping[str, int], seed: str) -> list[RankedItem]:
    """Order items by votes (most first), ties by the public tie-break key."""
    if not seed:
        raise VotingError("seed", _("a tie-break needs a public seed"))
    keyed = sorted(
        ((item, votes, tie_break_key(seed, item)) for item, votes in totals.items()),
        key=lambda row: (-row[1], row[2]),
    )
    return [RankedItem(item, votes, i, key) for i, (item, votes, key) in enumerate(keyed, 1)]


def shortlist(totals: Mapping[str, int], size: int, seed: str) -> Shortlist:
    """The top ``size`` items (all of them when there are fewer), with every tie recorded."""
    if size < 1:
        raise VotingError("shortlist_size", _("must be at least 1"))
    ranking = rank(totals, seed)
    cut = min(size, len(ranking))
    ties: list[TieBreak] = []
    groups: dict[int, list[RankedItem]] = {}
    for row in ranking:
        groups.setdefault(row.votes, []).append(row)
    for votes, rows in groups.items():
        if len(rows) < 2:
            continue
        inside = sum(1 for r in rows if r.rank <= cut)
        ties.append(
            TieBreak(
                votes=votes,
                items=tuple(r.item for r in rows),
                keys=tuple(r.tie_key for r in rows),
                crosses_cut=0 < inside < len(rows),
            )
        )
    return Shortlist(seed=seed, size=cut, ranking=tuple(ranking), ties=tuple(ties))


# --- The Burgerraad ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposalResult:
    """The count of one proposal and whether the Burgerraad adopted it (aangenomen)."""

    proposal: int
    votes_for: int
    against: int
    abstain: int
    members: int
    threshold: int
    adopted: bool

    @property
    def cast(self) -> int:
        return self.votes_for + self.against + self.abstain

    @property
    def not_voted(self) -> int:
        return self.members - self.cast


def proposal_result(
    proposal: int, members: int, votes_for: int, against: int, abstain: int
) -> ProposalResult:
    """Adopted iff the votes for reach ``council_threshold(members)``; against and abstain only
    count as "not for" (they cannot block a proposal that has the majority of members)."""
    if members < 1:
        raise VotingError("members", _("a council needs at least one member"))
    for name, value in (("for", votes_for), ("against", against), ("abstain", abstain)):
        if value < 0:
            raise VotingError(name, _("a count cannot be negative"))
    if votes_for + against + abstain > members:
        raise VotingError(
            "ballots",
            _("proposal %(proposal)s: %(value)s ballots for %(members)s members")
            % {"proposal": proposal, "value": votes_for + against + abstain, "members": members},
        )
    threshold = council_threshold(members)
    return ProposalResult(
        proposal, votes_for, against, abstain, members, threshold, votes_for >= threshold
    )


def council_results(
    members: int, proposals: Sequence[int], ballots: Iterable[tuple[int, str]]
) -> list[ProposalResult]:
    """Count counted ballots ``(proposal, choice)`` per proposal; every proposal gets a result."""
    counts = {p: {c: 0 for c in Choice} for p in proposals}
    for proposal, choice in ballots:
        if proposal not in counts:
            raise VotingError(
                "proposal", _("proposal %(proposal)s is not on this vote") % {"proposal": proposal}
            )
        counts[proposal][parse_choice(choice)] += 1
    return [
        proposal_result(p, members, c[Choice.FOR], c[Choice.AGAINST], c[Choice.ABSTAIN])
        for p, c in counts.items()
    ]


# --- Who the members are ------------------------------------------------------------------------

#: The most names a membership list may hold (a council of the largest summits fits many times).
MAX_MEMBER_LIST = 5000


class MembershipKind(enum.StrEnum):
    ALL = "all"  # every participant of the summit who has not withdrawn (the default)
    ROLES = "roles"  # participants of some roles, e.g. residents only
    LIST = "list"  # a named list of participants, e.g. those who came to the Burgerraad meeting


@dataclass(frozen=True)
class Membership:
    """Who votes in a Burgerraad vote. Members are fixed from this rule when the vote opens;
    a participant who withdrew by then is never a member."""

    kind: MembershipKind = MembershipKind.ALL
    roles: tuple[str, ...] = ()
    pseudonyms: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        if self.kind is MembershipKind.ROLES:
            return {"kind": self.kind.value, "roles": list(self.roles)}
        if self.kind is MembershipKind.LIST:
            return {"kind": self.kind.value, "pseudonyms": list(self.pseudonyms)}
        return {"kind": self.kind.value}

    @classmethod
    def from_json(cls, data: Mapping[str, object] | None) -> Membership:
        """The stored rule; an empty one (votes from before the rule existed) means everyone."""
        if not data:
            return cls()
        roles, names = data.get("roles"), data.get("pseudonyms")
        return cls(
            MembershipKind(str(data.get("kind", "all"))),
            tuple(str(r) for r in roles) if isinstance(roles, list) else (),
            tuple(str(n) for n in names) if isinstance(names, list) else (),
        )


def parse_membership(
    kind: str, roles: Iterable[str], pseudonyms: Iterable[str], known_roles: Collection[str]
) -> Membership:
    """Check a membership rule as typed by an organiser; the error names the field."""
    try:
        chosen = MembershipKind(kind or "all")
    except ValueError:
        raise VotingError(
            "membership", _("must be all, roles or list, got %(kind)r") % {"kind": kind}
        ) from None
    if chosen is MembershipKind.ROLES:
        picked = sorted({r.strip() for r in roles if r.strip()})
        if not picked:
            raise VotingError("member_roles", _("choose at least one role"))
        for role in picked:
            if role not in known_roles:
                raise VotingError("member_roles", _("unknown role %(role)r") % {"role": role})
        return Membership(chosen, roles=tuple(picked))
    if chosen is MembershipKind.LIST:
        names: list[str] = []
        seen: set[str] = set()
        for raw in pseudonyms:
            name = raw.strip()
            if not name:
                continue
            if name in seen:
                raise VotingError("member_list", _("%(name)s is listed twice") % {"name": name})
            seen.add(name)
            names.append(name)
        if not names:
            raise VotingError("member_list", _("list at least one participant code"))
        if len(names) > MAX_MEMBER_LIST:
            raise VotingError(
                "member_list",
                _("at most %(MAX_MEMBER_LIST)s members") % {"MAX_MEMBER_LIST": MAX_MEMBER_LIST},
            )
        return Membership(chosen, pseudonyms=tuple(sorted(names)))
    return Membership()


def select_members(
    rule: Membership, participants: Iterable[tuple[int, str, str, str]]
) -> list[int]:
    """The members' participant ids under ``rule`` from ``(id, pseudonym, role, status)`` rows,
    in id order. Withdrawn participants are never members."""
    wanted_roles = set(rule.roles)
    wanted_names = set(rule.pseudonyms)
    members = []
    for pid, pseudonym, role, status in participants:
        if status == "withdrawn":
            continue
        if rule.kind is MembershipKind.ROLES and role not in wanted_roles:
            continue
        if rule.kind is MembershipKind.LIST and pseudonym not in wanted_names:
            continue
        members.append(pid)
    return sorted(members)


# --- Receipts ----------------------------------------------------------------------------------


def receipt_key(secret: str) -> bytes:
    """The council's server key, derived from the server secret (never stored in the database);
    it seals each vote's private ballot key."""
    if len(secret) < 16:
        raise VotingError("secret", _("the server secret is too short to key ballot receipts"))
    return hmac.new(secret.encode(), b"summit.council.receipt.v1", hashlib.sha256).digest()


def normalise_receipt(text: str) -> str:
    """A receipt as typed by a person (any case, spaces, missing dashes) in canonical form."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    size = RECEIPT_GROUPS * RECEIPT_GROUP_SIZE
    if len(raw) != size or any(ch not in RECEIPT_ALPHABET for ch in raw):
        raise VotingError(
            "receipt",
            _("a receipt has %(size)s letters and digits, like ABCD-EFGH-…") % {"size": size},
        )
    return "-".join(raw[i : i + RECEIPT_GROUP_SIZE] for i in range(0, size, RECEIPT_GROUP_SIZE))


def receipts_digest(rows: Iterable[tuple[str, int, str]]) -> str:
    """SHA-256 of the published list of counted ballots ``(receipt, proposal, choice)``.

    Canonical form: the rows sorted, as compact JSON arrays, UTF-8.
    """
    ordered = sorted((r, int(p), str(c)) for r, p, c in rows)
    blob = json.dumps([list(row) for row in ordered], separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()
