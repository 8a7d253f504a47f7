"""Stage 2 of the lottery in the platform: the stratified selection among registrations.

Residents are selected with quotas derived from the register's population shares (and a
tolerance); the other roles uniformly when oversubscribed. :func:`compute_selection` is pure and
slow (a solver), so the web runs it in a thread; :func:`store_selection` publishes the m panels'
hash, :func:`finalise_selection` draws the index from a public seed and turns the selected
registrations into participants, and :func:`replace_withdrawn` fills a seat from the reserves.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit, csvfile
from summit.core import service as repository
from summit.core.errors import InvalidInput, NotFound
from summit.core.i18n import gettext as _
from summit.core.labels import role_label
from summit.core.models import Participant, Summit, utcnow
from summit.core.models import Person as PersonRow
from summit.core.rules.draw import (
    MATCH,
    SeedSpec,
    Verification,
    canonical_json,
    draw_index,
    normalise_seed,
    sha256_hex,
)
from summit.core.rules.roles import Role
from summit.lottery.models import LotteryDraw, Registration
from summit.lottery.rules.reserves import choose_reserves, parse_dropout_rates, replace_jointly
from summit.lottery.rules.selection import (
    ALGORITHMS,
    Lottery,
    NoReplacement,
    Person,
    Quota,
    ReserveList,
    SelectionCancelled,
    check_panel,
    draw_panel,
    find_distribution,
    quotas_from_shares,
    reserve_order,
    round_lottery,
)
from summit.lottery.rules.selection_leximin import LeximinProgressFn
from summit.lottery.rules.selection_solver import CancelFn, Halt, ProgressFn
from summit.lottery.service import latest_import

SEED_SPEC = SeedSpec("dice", 20)


def pool_id(registration_id: int) -> str:
    return f"R{registration_id}"


@dataclass(frozen=True)
class SelectionInput:
    role: str
    seats: int
    algorithm: str
    people: tuple[Person, ...]
    quotas: tuple[Quota, ...]
    shares: dict[str, dict[str, float]]
    panels: int


async def selection_input(
    session: AsyncSession,
    summit: Summit,
    *,
    role: str,
    seats: int,
    tolerance: float = 0.1,
    algorithm: str = "leximin",
    panels: int = 1000,
) -> SelectionInput:
    """The pool (registered, not withdrawn) and quotas of one role's selection."""
    if role not in {r.value for r in Role}:
        raise InvalidInput("role", _("unknown role %(role)r") % {"role": role})
    if seats < 1:
        raise InvalidInput("seats", _("must be at least 1"))
    if not 1 <= panels <= 10_000:
        raise InvalidInput("panels", _("must be between 1 and 10000"))
    if algorithm not in ALGORITHMS:
        raise InvalidInput(
            "algorithm", _("unknown algorithm %(algorithm)r") % {"algorithm": algorithm}
        )
    rows = (
        (
            await session.execute(
                select(Registration)
                .where(
                    Registration.summit_id == summit.id,
                    Registration.role == role,
                    Registration.status == "registered",
                )
                .order_by(Registration.id)
            )
        )
        .scalars()
        .all()
    )
    if not rows:
        raise InvalidInput(
            "role", _("no registrations for the role %(role)s") % {"role": role_label(role)}
        )
    shares: dict[str, dict[str, float]] = {}
    quotas: list[Quota] = []
    features: list[str] = []
    if role == Role.RESIDENT.value:
        imported = await latest_import(session, summit.id)
        if imported is None:
            raise InvalidInput("register", _("import the register first: quotas come from it"))
        asked = [str(f.get("name")) for f in summit.features or []]
        features = [f for f in asked if f in imported.shares] or sorted(imported.shares)
        shares = {f: dict(imported.shares[f]) for f in features}
        quotas = quotas_from_shares(shares, min(seats, len(rows)), tolerance=tolerance)
    people = tuple(
        Person(
            pool_id(r.id),
            {f: str((r.features or {}).get(f, "")) for f in features},
        )
        for r in rows
    )
    if not quotas:
        algorithm = "uniform"
    return SelectionInput(
        role, min(seats, len(people)), algorithm, people, tuple(quotas), shares, panels
    )


@dataclass(frozen=True)
class SelectionResult:
    lottery: Lottery
    probabilities: dict[str, float]
    algorithm: str
    min_probability: float
    seconds: float
    exact: bool = True  # False: leximin stopped by the organiser (its anytime lottery)


def compute_selection(
    data: SelectionInput,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    stop: CancelFn | None = None,
    report: LeximinProgressFn | None = None,
) -> SelectionResult:
    """Solve the fair distribution and round it into m panels (slow: run it in a thread).

    ``cancel()`` returning True throws the work away (:class:`SelectionCancelled`); ``stop()``
    returning True keeps leximin's anytime lottery: the distribution found so far, whose smallest
    chance is already the maximin (``exact`` is then False). Stopped before there is one (during
    the relaxation or the sampling), the maximin lottery is computed and kept (``exact`` False).
    ``report`` gets leximin's structured progress.
    """

    halted = Halt(cancel, stop)
    distribution = find_distribution(
        data.people,
        data.quotas,
        data.seats,
        algorithm=data.algorithm,
        progress=progress,
        cancel=halted if cancel is not None or stop is not None else None,
        report=report,
    )
    if cancel is not None and cancel():
        raise SelectionCancelled("selection cancelled")
    lottery = round_lottery(distribution, data.panels)
    return SelectionResult(
        lottery,
        dict(distribution.probabilities),
        distribution.algorithm,
        distribution.min_probability,
        distribution.seconds,
        distribution.exact,
    )


async def panel_draw(session: AsyncSession, summit_id: int, role: str) -> LotteryDraw | None:
    return await session.scalar(
        select(LotteryDraw)
        .where(
            LotteryDraw.summit_id == summit_id,
            LotteryDraw.kind == "panel",
            LotteryDraw.role == role,
        )
        .order_by(LotteryDraw.id.desc())
        .limit(1)
    )


def _quota_dicts(quotas: Sequence[Quota]) -> list[dict[str, Any]]:
    return [{"feature": q.feature, "value": q.value, "min": q.min, "max": q.max} for q in quotas]


def _quotas(data: Sequence[dict[str, Any]]) -> list[Quota]:
    return [Quota(q["feature"], q["value"], int(q["min"]), int(q["max"])) for q in data]


def _people(data: dict[str, Any]) -> list[Person]:
    return [Person(pid, features) for pid, features in data["people"].items()]


async def store_selection(
    session: AsyncSession,
    summit: Summit,
    data: SelectionInput,
    result: SelectionResult,
    *,
    actor: str,
) -> LotteryDraw:
    """Publish the m panels' hash (the commitment of the final draw)."""
    current = await panel_draw(session, summit.id, data.role)
    if current is not None and current.status == "drawn":
        raise InvalidInput(
            "role",
            _("the panel for the role %(role)s has already been drawn")
            % {"role": role_label(data.role)},
        )
    if current is not None:
        await session.delete(current)
        await session.flush()
    commitment = {
        "role": data.role,
        "seats": data.seats,
        "algorithm": result.algorithm,
        "pool_size": len(data.people),
        "quotas": _quota_dicts(data.quotas),
        "panels": len(result.lottery.panels),
        "panels_hash": result.lottery.hash,
        "seed": SEED_SPEC.as_dict(),
    }
    if not result.exact:
        # stopped by the organiser: leximin's anytime lottery (its smallest chance is maximin's)
        commitment["stopped_early"] = True
    draw = LotteryDraw(
        summit_id=summit.id,
        kind="panel",
        role=data.role,
        status="committed",
        commitment=commitment,
        commitment_hash=sha256_hex(canonical_json(commitment)),
        result={
            "lottery": [list(p) for p in result.lottery.panels],
            "probabilities": result.probabilities,
            "shares": data.shares,
            "people": {p.id: dict(p.features) for p in data.people},
            "min_probability": result.min_probability,
        },
    )
    session.add(draw)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="selection.commit",
        subject=f"draw:{draw.id}",
        summit_id=summit.id,
        payload={
            "role": data.role,
            "seats": data.seats,
            "algorithm": result.algorithm,
            "pool_size": len(data.people),
            "panels_hash": result.lottery.hash,
            "min_probability": round(result.min_probability, 6),
            "exact": result.exact,
        },
    )
    return draw


async def _make_participant(
    session: AsyncSession, summit: Summit, registration: Registration, *, actor: str
) -> tuple[Participant, str]:
    person = (
        await session.get(PersonRow, registration.person_id)
        if registration.person_id is not None
        else None
    )
    participant, token = await repository.add_participant(
        session,
        summit,
        actor=actor,
        role=registration.role,
        first_name=(person.first_name if person else "") or "—",
        last_name=person.last_name if person else "",
        email=person.email if person else "",
        attendance=registration.attendance,
        features=dict(registration.features or {}),
        accessibility_needs=person.accessibility_needs if person else "",
        language=registration.language,
    )
    # add_participant made a second Person row; keep the registration's one only.
    if person is not None and participant.person_id != person.id:
        duplicate = await session.get(PersonRow, participant.person_id)
        participant.person_id = person.id
        if duplicate is not None:
            await session.flush()
            await session.delete(duplicate)
    participant.registration_id = registration.id
    registration.status = "selected"
    await session.flush()
    return participant, token


async def finalise_selection(
    session: AsyncSession,
    summit: Summit,
    *,
    role: str,
    seed: str,
    actor: str,
    dropout_rates: str = "",
) -> tuple[LotteryDraw, dict[str, str]]:
    """Draw the panel from a public seed; selected registrations become participants.

    With the organiser's ``dropout_rates`` (``feature=value: rate`` per line, see
    :func:`summit.lottery.rules.reserves.parse_dropout_rates`) the first reserves in calling
    order (a fifth of the seats) are chosen to keep the quotas under that model
    (:func:`summit.lottery.rules.reserves.choose_reserves`); without, the seeded order as before.
    Returns the draw and each new participant's pseudonym → personal-link token (shown once).
    """
    draw = await panel_draw(session, summit.id, role)
    if draw is None or draw.status != "committed":
        message = _("compute the selection for the role %(role)s first")
        raise InvalidInput("role", message % {"role": role_label(role)})
    normalised = normalise_seed(seed, SEED_SPEC)
    panels = tuple(tuple(p) for p in draw.result["lottery"])
    lottery = Lottery(panels, draw.commitment["panels_hash"], {}, 0.0)
    if sha256_hex(lottery.canonical()) != lottery.hash:
        raise InvalidInput("panels", _("the stored panels do not match the published hash"))
    index, panel = draw_panel(lottery, normalised)
    people = _people(draw.result)
    quotas = _quotas(draw.commitment["quotas"])
    dropout = parse_dropout_rates(dropout_rates, quotas)
    reserves = reserve_order(people, panel, quotas, normalised)
    robust: dict[str, Any] = {}
    if dropout.rates:
        count = min(len(reserves.order), -(-len(panel) // 5))
        choice = choose_reserves(people, panel, quotas, normalised, dropout, count)
        reserves = ReserveList(choice.order, reserves.stratum)
        robust = {
            "robust_reserves": choice.robust,
            "dropout_rates": [[f, v, r] for (f, v), r in sorted(dropout.rates.items())],
            "quota_survival": choice.ours.probability,
            "quota_survival_fixed_order": choice.fixed_order.probability,
            "simulated_days": choice.ours.trials,
        }
    links: dict[str, str] = {}
    participants: dict[str, str] = {}
    for pid in panel:
        registration = await session.get(Registration, int(pid[1:]))
        assert registration is not None
        if registration.status != "registered":
            continue  # withdrawn meanwhile: replace_withdrawn fills the seat below
        participant, token = await _make_participant(session, summit, registration, actor=actor)
        links[participant.pseudonym] = token
        participants[pid] = participant.pseudonym
    for pid in reserves.order:
        registration = await session.get(Registration, int(pid[1:]))
        if registration is not None and registration.status == "registered":
            registration.status = "reserve"
    draw.status = "drawn"
    draw.seed = normalised
    draw.drawn_at = utcnow()
    draw.result = {
        **draw.result,
        "index": index,
        "panel": list(panel),
        "reserves": list(reserves.order),
        "participants": participants,
        "replacements": [],
        **robust,
    }
    draw.result_hash = sha256_hex(canonical_json({"index": index, "panel": list(panel)}))
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="selection.draw",
        subject=f"draw:{draw.id}",
        summit_id=summit.id,
        payload={
            "role": role,
            "seed": normalised,
            "index": index,
            "panels_hash": draw.commitment["panels_hash"],
            "selected": sorted(participants.values()),
            "reserves": len(reserves.order),
            **robust,
        },
    )
    for pid in panel:
        if pid not in participants:
            links.update(await replace_withdrawn(session, summit, int(pid[1:]), actor=actor))
    return draw, links


async def replace_withdrawn(
    session: AsyncSession, summit: Summit, registration_id: int, *, actor: str
) -> dict[str, str]:
    """Fill the drawn panel's open seats: this withdrawn member's and any left open by earlier
    withdrawals, together (:func:`summit.lottery.rules.reserves.replace_jointly`: only the final
    panel must meet every quota; with one open seat that is the same stratum first, then the
    first reserve in calling order that keeps every quota).

    Returns the new participants' pseudonym → link token ({} when the registration was not on a
    drawn panel). Raises :class:`summit.lottery.rules.selection.NoReplacement` when no choice of
    reserves fits: the seats stay open and the next withdrawal tries them all again.
    """
    registration = await session.get(Registration, registration_id)
    if registration is None or registration.summit_id != summit.id:
        raise NotFound(
            _("registration %(registration_id)s does not exist")
            % {"registration_id": registration_id}
        )
    draw = await panel_draw(session, summit.id, registration.role)
    if draw is None or draw.status != "drawn":
        return {}
    result = dict(draw.result)
    panel = list(result["panel"])
    if pool_id(registration_id) not in panel:
        return {}
    people = _people(result)
    quotas = _quotas(draw.commitment["quotas"])
    await session.flush()
    status = {
        pool_id(rid): st
        for rid, st in (
            await session.execute(
                select(Registration.id, Registration.status).where(
                    Registration.summit_id == summit.id
                )
            )
        ).all()
    }
    open_seats = [pid for pid in panel if status.get(pid, "withdrawn") == "withdrawn"]
    available = [pid for pid in result["reserves"] if status.get(pid) == "reserve"]
    chosen = replace_jointly(people, panel, quotas, open_seats, available)
    if chosen is None:
        message = _("no reserves can fill the open seats within the quotas")
        raise NoReplacement("withdrawn", message)
    by_id = {p.id: p for p in people}
    features = sorted({q.feature for q in quotas})

    def stratum(pid: str) -> tuple[str, ...]:
        return tuple(by_id[pid].features.get(f, "") for f in features)

    pairs = []
    left = list(chosen)
    for gone in open_seats:
        same = [r for r in left if stratum(r) == stratum(gone)]
        pick = same[0] if same else left[0]
        left.remove(pick)
        pairs.append((gone, pick, bool(same)))
    new_panel = tuple(sorted([*(p for p in panel if p not in set(open_seats)), *chosen]))
    assert not check_panel(new_panel, people, quotas, len(panel))
    links: dict[str, str] = {}
    for withdrawn, replacement, same_stratum in pairs:
        newcomer = await session.get(Registration, int(replacement[1:]))
        assert newcomer is not None
        participant, token = await _make_participant(session, summit, newcomer, actor=actor)
        links[participant.pseudonym] = token
        old_pseudonym = result["participants"].pop(withdrawn, None)
        if old_pseudonym is not None:
            old = await session.scalar(
                select(Participant).where(
                    Participant.summit_id == summit.id, Participant.pseudonym == old_pseudonym
                )
            )
            if old is not None:
                old.status = "withdrawn"
        result["participants"] = {**result["participants"], replacement: participant.pseudonym}
        result["replacements"] = [
            *result.get("replacements", []),
            {"withdrawn": withdrawn, "replacement": replacement, "same_stratum": same_stratum},
        ]
        await audit.append(
            session,
            actor=actor,
            action="selection.replace",
            subject=f"draw:{draw.id}",
            summit_id=summit.id,
            payload={
                "role": registration.role,
                "withdrawn": old_pseudonym or withdrawn,
                "replacement": participant.pseudonym,
                "same_stratum": same_stratum,
                "seats_filled_together": len(open_seats),
            },
        )
    result["panel"] = list(new_panel)
    draw.result = result
    await session.flush()
    return links


@dataclass(frozen=True)
class FeatureRow:
    feature: str
    value: str
    population: float
    panel: float
    quota: str


def panel_report(draw: LotteryDraw) -> list[FeatureRow]:
    """Per feature value: the population share vs the panel's share, and the quota."""
    result = draw.result
    people = result["people"]
    panel = result.get("panel") or []
    quotas = {(q["feature"], q["value"]): q for q in draw.commitment["quotas"]}
    rows = []
    for feature, values in sorted(result.get("shares", {}).items()):
        for value, share in sorted(values.items()):
            n = sum(1 for pid in panel if people[pid].get(feature) == value)
            q = quotas.get((feature, value))
            rows.append(
                FeatureRow(
                    feature,
                    value,
                    float(share),
                    n / len(panel) if panel else 0.0,
                    f"{q['min']}–{q['max']}" if q else "",
                )
            )
    return rows


def probability_histogram(draw: LotteryDraw, bins: int = 10) -> list[tuple[str, int]]:
    """How many registrants had which chance of selection (in ``bins`` equal steps)."""
    counts = [0] * bins
    for p in draw.result.get("probabilities", {}).values():
        counts[min(bins - 1, int(float(p) * bins))] += 1
    return [(f"{i * 100 // bins}–{(i + 1) * 100 // bins}%", n) for i, n in enumerate(counts)]


# --- Published files of the final draw and reports ------------------------------------------


def panels_json(draw: LotteryDraw) -> bytes:
    """The m equally likely panels as published (``panels.json``): its SHA-256 is the panels
    hash that was logged and shown before the seed was rolled."""
    return canonical_json({"panels": [list(p) for p in draw.result["lottery"]]})


def drawn_panel(draw: LotteryDraw) -> list[str]:
    """The panel the public seed picked (before any replacement), sorted."""
    if draw.status != "drawn":
        raise InvalidInput(
            "role",
            _("the panel for the role %(role)s has not been drawn yet")
            % {"role": role_label(draw.role)},
        )
    return sorted(draw.result["lottery"][int(draw.result["index"])])


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csvfile.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def selected_csv(pool_ids: Sequence[str]) -> str:
    """The published list of the drawn panel (``selected.csv``): one pool pseudonym a line."""
    return _csv(["id"], [[pid] for pid in pool_ids])


def read_selected_csv(text: str) -> list[str]:
    """Read ``selected.csv`` back; a bad header or an empty id names the line."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    if not rows or [c.strip() for c in rows[0]] != ["id"]:
        raise InvalidInput("selected", _("line 1: the header must be 'id'"))
    ids = []
    for number, row in enumerate(rows[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != 1 or not row[0].strip():
            raise InvalidInput(
                "selected", _("line %(number)s: expected one id") % {"number": number}
            )
        ids.append(row[0].strip())
    return ids


def read_panels_json(data: bytes) -> list[list[str]]:
    """Read ``panels.json`` back: ``{"panels": [[id, ...], ...]}`` with at least one panel."""
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("panels", _("not JSON text: %(exc)s") % {"exc": exc}) from None
    panels = value.get("panels") if isinstance(value, dict) else None
    if not isinstance(panels, list) or not panels:
        raise InvalidInput("panels", _("must be an object with a non-empty list 'panels'"))
    for number, panel in enumerate(panels):
        if not isinstance(panel, list) or not all(isinstance(p, str) for p in panel):
            raise InvalidInput(
                "panels", _("panel %(number)s must be a list of ids") % {"number": number}
            )
    return panels


def verify_panel_files(
    panels: bytes,
    panels_hash: str,
    seed: str,
    selected_text: str,
    *,
    seed_spec: SeedSpec = SEED_SPEC,
) -> Verification:
    """Re-run the final draw of stage 2 from the published files: MATCH or the first difference.

    The panels file must hash to the published panels hash; the index is
    ``draw_index(normalised seed, m)`` and the panel at that index must equal the published list.
    """
    published_hash = panels_hash.strip().lower()
    if sha256_hex(panels) != published_hash:
        return Verification(False, "panels hash differs from the published one")
    lists = read_panels_json(panels)
    try:
        normalised = normalise_seed(seed, seed_spec)
    except InvalidInput as exc:
        return Verification(False, str(exc))
    index = draw_index(normalised, len(lists))
    recomputed = sorted(lists[index])
    published = sorted(read_selected_csv(selected_text))
    for position, (mine, theirs) in enumerate(zip(recomputed, published, strict=False)):
        if mine != theirs:
            return Verification(
                False,
                f"panel {index} of {len(lists)}, position {position}: published {theirs!r}, "
                f"recomputed {mine!r}",
            )
    if len(recomputed) != len(published):
        return Verification(
            False,
            f"panel {index} of {len(lists)}, length: published {len(published)}, "
            f"recomputed {len(recomputed)}",
        )
    return Verification(True, f"{MATCH}\npanel {index} of {len(lists)}")


def report_csv(rows: Sequence[FeatureRow]) -> str:
    """The panel-vs-population table as CSV (shares as fractions 0–1, no personal data)."""
    return _csv(
        ["feature", "value", "population_share", "panel_share", "quota"],
        [[r.feature, r.value, f"{r.population:.6f}", f"{r.panel:.6f}", r.quota] for r in rows],
    )


def probabilities_csv(draw: LotteryDraw) -> str:
    """Every registrant's chance of selection (pool pseudonym, probability, share of the m
    panels, drawn or not); for the organiser."""
    probabilities: dict[str, Any] = draw.result.get("probabilities", {})
    lists = draw.result.get("lottery") or []
    tally: dict[str, int] = dict.fromkeys(probabilities, 0)
    for panel in lists:
        for pid in panel:
            tally[pid] = tally.get(pid, 0) + 1
    chosen = set(drawn_panel(draw)) if draw.status == "drawn" else set()
    m = len(lists) or 1
    return _csv(
        ["pseudonym", "probability", "lottery_share", "selected"],
        [
            [pid, f"{float(probabilities[pid]):.9f}", f"{tally[pid] / m:.6f}", int(pid in chosen)]
            for pid in sorted(probabilities, key=lambda p: (len(p), p))
        ],
    )
