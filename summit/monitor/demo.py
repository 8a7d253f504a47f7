"""The Monitor's part of the demo summit: a Burgerbesluit (when the demo has none yet), the
partner agreement with signatures and policy areas, responses (one *will not*, with reasons, and
one overdue), progress, an active Monitor group drawn by lot, assessments and a follower."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from summit import council
from summit.config import project_root
from summit.core.models import Participant, Partner, Summit, utcnow
from summit.core.templating import make_environment
from summit.council import Membership, MembershipKind, receipt_key
from summit.council.models import Decision
from summit.monitor import group, notify, partners, reports, tracking
from summit.monitor.models import MonitorSubscription

AGREEMENT = (
    "Wij, partners van de G1000 Lindeveld, nemen het Burgerbesluit serieus. Voor elk aangenomen "
    "voorstel binnen onze beleidsterreinen laten wij binnen de afgesproken termijn publiek weten "
    "of wij het uitvoeren, gedeeltelijk uitvoeren of niet uitvoeren, met een plan en data of met "
    "onze redenen. Wij rapporteren over de voortgang en overleggen met de Monitorgroep."
)
AREAS = ("Mobiliteit", "Wonen", "Groen en klimaat", "Energie")
PROPOSALS = (
    (
        "Veilige fietsroutes naar school",
        "Vrijliggende fietspaden langs de drie drukste schoolroutes.",
        "mobiliteit",
        True,
    ),
    (
        "Starterswoningen bouwen",
        "Tien procent van de nieuwbouw voor starters uit Lindeveld.",
        "wonen",
        True,
    ),
    (
        "Groene schoolpleinen",
        "Tegels eruit, bomen en speelnatuur erin op elk schoolplein.",
        "groen-en-klimaat",
        True,
    ),
    (
        "Zonnepanelen op alle scholen",
        "Daken van scholen en sporthallen vol zonnepanelen.",
        "energie",
        True,
    ),
    ("Markt op zondag", "Een wekelijkse markt met lokale producten.", "wonen", False),
)
SIGNED = {
    "Gemeente Lindeveld": ("Burgemeester", list(AREAS)),
    "Provincie Zeeveld": ("Gedeputeerde Mobiliteit", ["Mobiliteit", "Energie"]),
    "Woonstichting Thuis": ("Directeur-bestuurder", ["Wonen"]),
}


async def ensure_decision(
    session: AsyncSession, summit: Summit, members: Sequence[Participant], secret: str
) -> None:
    """A Burgerraad vote over five proposals, four adopted, through the council's use cases."""
    if await session.scalar(select(Decision.id).where(Decision.summit_id == summit.id).limit(1)):
        return
    ids: dict[str, int] = {}
    for title, text, _area, _adopt in PROPOSALS:
        content = council.ProposalText(title=title, text=text, who_acts="Gemeente en partners")
        proposal = await council.create_proposal(session, summit, actor="demo", content=content)
        ids[title] = proposal.id
    # a Burgerraad meeting of seven members (a named list, as the council allows), so the demo
    # stays quick to create whatever the number of participants
    council_members = list(members)[:7]
    vote = await council.create_council_vote(
        session,
        summit,
        actor="demo",
        title="Burgerraad Lindeveld",
        proposal_ids=list(ids.values()),
        membership=Membership(
            MembershipKind.LIST, pseudonyms=tuple(p.pseudonym for p in council_members)
        ),
    )
    key = receipt_key(secret)
    await council.open_council_vote(session, summit.id, vote.id, actor="demo", key=key)
    yes = len(council_members) // 2 + 2
    for index, person in enumerate(council_members):
        choices = {
            ids[t]: ("for" if adopt and index < yes else "against")
            for t, _x, _a, adopt in PROPOSALS
        }
        await council.cast_ballots(
            session,
            summit_id=summit.id,
            vote_id=vote.id,
            participant_id=person.id,
            choices=choices,
            key=key,
        )
    env = make_environment(project_root() / "web" / "templates")

    def render(context: dict[str, Any]) -> str:
        return council.render_in_language(
            env, "council/decision_document.html", context, summit.default_language
        )

    await council.close_council_vote(
        session, summit.id, vote.id, actor="demo", render_document=render
    )


async def _sign_partners(
    session: AsyncSession, summit: Summit, now: dt.datetime
) -> dict[str, Partner]:
    await partners.set_agreement(session, summit, AGREEMENT, actor="demo")
    await partners.set_areas(session, summit, list(AREAS), actor="demo")
    found = {p.name: p for p, _acc in await partners.accounts(session, summit.id)}
    for name, (function, areas) in SIGNED.items():
        if name in found:
            keys = [partners.area_key(a) for a in areas]
            await partners.sign(
                session,
                found[name],
                signatory=function,
                agreed=True,
                area_keys=keys,
                now=now - dt.timedelta(days=60),
            )
    return found


RESPONSES: dict[tuple[str, str], dict[str, Any]] = {
    ("Veilige fietsroutes naar school", "Gemeente Lindeveld"): {
        "answer": "will",
        "plan": "Drie vrijliggende fietspaden, te beginnen bij De Brug.",
        "starts_on": -20,
        "ends_on": 300,
        "contact_name": "A. de Vries",
        "contact_role": "Wethouder Mobiliteit",
    },
    ("Veilige fietsroutes naar school", "Provincie Zeeveld"): {
        "answer": "will",
        "plan": "Subsidie uit het regionale fietsfonds voor twee routes.",
        "starts_on": 0,
        "ends_on": 200,
        "contact_name": "M. Jansen",
        "contact_role": "Programmaleider fiets",
    },
    ("Starterswoningen bouwen", "Woonstichting Thuis"): {
        "answer": "partly",
        "plan": "Vijf procent van onze nieuwbouw voor starters.",
        "starts_on": 30,
        "ends_on": 700,
        "contact_name": "R. Bakker",
        "contact_role": "Directeur",
        "not_doing": "Tien procent past niet in de lopende contracten; wij doen vijf procent.",
    },
    ("Zonnepanelen op alle scholen", "Gemeente Lindeveld"): {
        "answer": "wont",
        "contact_name": "S. Peters",
        "contact_role": "Wethouder Energie",
        "reasons": "De daken van vier scholen dragen geen panelen; vervanging staat pas in "
        "2031 gepland. Wij leggen panelen op de sporthallen en melden dat apart.",
    },
    ("Starterswoningen bouwen", "Gemeente Lindeveld"): {
        "answer": "will",
        "plan": "Een starterslening en een bestemmingsplanregel.",
        "starts_on": 10,
        "ends_on": 400,
        "contact_name": "A. de Vries",
        "contact_role": "Wethouder Wonen",
    },
}


def _form(raw: dict[str, Any], today: dt.date) -> dict[str, str]:
    form = {k: str(v) for k, v in raw.items()}
    for name in ("starts_on", "ends_on"):
        if name in raw:
            form[name] = str(today + dt.timedelta(days=int(raw[name])))
    return form


async def _respond_and_report(
    session: AsyncSession, summit: Summit, found: dict[str, Partner], now: dt.datetime
) -> None:
    items = {i.title: i for i in await tracking.items(session, summit.id)}
    area_of = {title: area for title, _t, area, _a in PROPOSALS}
    for title, item in items.items():
        due = now.date() + dt.timedelta(days=-5 if area_of[title] == "energie" else 30)
        await tracking.configure_item(
            session, item, area_keys=[area_of[title]], due=str(due), actor="demo"
        )
    for (title, partner), raw in RESPONSES.items():
        await tracking.respond(
            session,
            items[title],
            found[partner],
            _form(raw, now.date()),
            now=now - dt.timedelta(days=40),
        )
    bike = items["Veilige fietsroutes naar school"]
    await tracking.add_milestone(
        session,
        bike,
        title="Ontwerp klaar",
        due_on=str(now.date() - dt.timedelta(days=10)),
        actor="demo",
    )
    await tracking.add_milestone(
        session,
        bike,
        title="Eerste fietspad open",
        due_on=str(now.date() + dt.timedelta(days=120)),
        actor="demo",
    )
    stones = await tracking.milestones(session, bike.id)
    await tracking.complete_milestone(
        session, bike, stones[0].id, done_on=str(now.date() - dt.timedelta(days=12)), actor="demo"
    )
    for days, progress, status in ((35, 10, "in_progress"), (15, 30, "in_progress")):
        await tracking.report(
            session,
            bike,
            status=status,
            progress=str(progress),
            text="Ontwerp en inspraak lopen.",
            actor="demo",
            partner=found["Gemeente Lindeveld"],
            now=now - dt.timedelta(days=days),
        )
    houses = items["Starterswoningen bouwen"]
    await tracking.report(
        session,
        houses,
        status="in_progress",
        progress="15",
        text="",
        actor="demo",
        now=now - dt.timedelta(days=20),
    )
    await tracking.add_document(
        session,
        bike,
        title="Raadsbesluit fietsroutes",
        url="https://example.org/raadsbesluit-fietsroutes",
        actor="demo",
    )
    await tracking.report(
        session,
        items["Zonnepanelen op alle scholen"],
        status="stopped",
        progress="0",
        text="",
        actor="demo",
        now=now - dt.timedelta(days=30),
    )


async def _report_intervals(
    session: AsyncSession, summit: Summit, found: dict[str, Partner], now: dt.datetime
) -> None:
    """Reports at intervals: the bike routes every 4 weeks (the municipality reported in time),
    the starter homes every 6 weeks, set long ago, whose last report did not come in."""
    items = {i.title: i for i in await tracking.items(session, summit.id)}
    await reports.set_partner_email(
        session, found["Gemeente Lindeveld"], "verslagen@lindeveld.example", actor="demo"
    )
    await reports.set_interval(
        session,
        items["Veilige fietsroutes naar school"],
        every_weeks="4",
        first_due=str(now.date() + dt.timedelta(days=3)),
        actor="demo",
        today=now.date(),
    )
    houses = items["Starterswoningen bouwen"]
    houses.report_every_weeks, houses.report_due = 6, now.date() - dt.timedelta(days=2)
    await reports.scan(session, summit, notify.Links("", ""), now=now, mail_on=False)


async def _group(
    session: AsyncSession, summit: Summit, people: Sequence[Participant], now: dt.datetime
) -> list[Participant]:
    volunteers = [p for p in people if p.role == "resident" and not p.is_host][:7]
    for person in volunteers:
        await group.volunteer(session, person)
    await group.compose(
        session, summit, seats=5, seed="3141592653", actor="demo", now=now - dt.timedelta(days=50)
    )
    members = [p for p in volunteers if await group.is_member(session, p)]
    items = {i.title: i for i in await tracking.items(session, summit.id)}
    await group.assess(
        session,
        items["Veilige fietsroutes naar school"],
        members[0],
        verdict="on_track",
        text="Het ontwerp is klaar en de inspraak loopt volgens plan.",
        now=now - dt.timedelta(days=8),
    )
    await group.assess(
        session,
        items["Starterswoningen bouwen"],
        members[1],
        verdict="diverges",
        text="Vijf procent is de helft van wat de Burgerraad besloot.",
        now=now - dt.timedelta(days=6),
    )
    await group.post(
        session,
        items["Starterswoningen bouwen"],
        text="Kunnen we de vijf procent na een jaar samen bekijken?",
        participant=members[1],
    )
    return members


async def seed(
    session: AsyncSession,
    summit: Summit,
    people: Sequence[Participant],
    tokens: dict[int, str],
    secret: str,
) -> list[tuple[str, str]]:
    """Add the Monitor's demo data; returns links to show (description, path)."""
    now = utcnow()
    await ensure_decision(session, summit, people, secret)
    await tracking.sync_items(session, summit, actor="demo")
    found = await _sign_partners(session, summit, now)
    titles = {i.title for i in await tracking.items(session, summit.id)}
    if titles >= {title for title, _t, _a, adopted in PROPOSALS if adopted}:
        # only for the demo's own Burgerbesluit (another part may have published one first)
        await _respond_and_report(session, summit, found, now)
        await _report_intervals(session, summit, found, now)
        members = await _group(session, summit, people, now)
    else:
        members = list(people[:1])
    session.add(
        MonitorSubscription(
            summit_id=summit.id, email="demo-volger@example.org", status="active", confirmed_at=now
        )
    )
    await tracking.scan_overdue(session, summit.id, now=now)
    for change in await notify.changes(session, summit.id, limit=1000):
        change.fanned_out = True  # the demo's history is not mailed out
    links = [("monitor (member)", f"/p/{tokens[members[0].id]}")]
    for name, desc in (
        ("Gemeente Lindeveld", "partner (signed)"),
        ("Ondernemersvereniging Lindeveld", "partner (unsigned)"),
    ):
        if name in found:
            token = await partners.issue_link(session, found[name], actor="demo")
            links.append((desc, f"/partner/link/{token}"))
    return links
