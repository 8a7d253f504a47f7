"""The Burgerforum's part of the demo summit: three proposals written at the summit's tables,
residents' reactions (online, on paper and from a meeting; one hidden by a moderator), two
workshops (one drawn by lot and still at work, one that submitted its revision to the
Burgerraad) and an opinion map with two opinion groups and common ground."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from summit import council
from summit.core.models import Participant, Summit, utcnow
from summit.core.security import new_pseudonym
from summit.forum import opinion, reactions, workshops
from summit.forum.models import Reactor, Statement, StatementVote
from summit.forum.rules.reactions import reactor_key
from summit.forum.settings import SettingsForm, save_settings
from summit.ideas.models import Idea

POSTCODES = "9901, 9902, 9903, 9904, 9905, 9906"
PROPOSALS = (
    (
        "Fietsstraat door de binnenstad",
        "Fietsers en auto's delen de smalle route van het station naar het centrum.",
        "Maak de route een fietsstraat: de auto is te gast, dertig kilometer per uur.",
    ),
    (
        "Ontmoetingsplek voor ouderen in elke wijk",
        "Veel ouderen zijn eenzaam en de buurthuizen sluiten om vijf uur.",
        "Elke wijk een buurthuis met koffie en activiteiten, ook 's avonds open.",
    ),
    (
        "Buurtmoestuinen op braakliggende grond",
        "Braakliggende bouwkavels liggen jaren ongebruikt.",
        "Geef braakliggende grond tijdelijk aan buurtbewoners voor een moestuin.",
    ),
)
REACTIONS = (
    (0, "support", "Eindelijk veilig fietsen naar de markt, goed plan."),
    (0, "support", "Mijn kinderen fietsen hier elke dag naar school. Graag!"),
    (0, "concerns", "Hoe komen de winkels dan aan hun bevoorrading?"),
    (0, "concerns", "Ik woon aan de route en ben bang voor sluipverkeer in mijn straat."),
    (0, "question", "Geldt dertig kilometer ook voor de bussen?"),
    (0, "concerns", "Minder parkeerplaatsen betekent minder klanten voor de winkels."),
    (0, "support", "Fietsstraten werken in andere steden ook prima."),
    (0, "question", "Wanneer zou de fietsstraat klaar zijn?"),
    (1, "support", "Mijn moeder zit alleen thuis, een buurthuis om de hoek zou helpen."),
    (1, "concerns", "Wie betaalt de vrijwilligers en het gebouw?"),
    (1, "question", "Kunnen jongeren er ook terecht?"),
    (1, "support", "Koffie en een praatje doen wonderen tegen eenzaamheid."),
    (1, "concerns", "In Oost is al een buurthuis dat half leeg staat."),
    (2, "support", "Leuk voor de kinderen om te zien waar groente vandaan komt."),
    (2, "concerns", "Wat gebeurt er met de tuin als er toch gebouwd wordt?"),
    (2, "question", "Moet je lid worden om mee te doen?"),
)
KEY_POINTS = (
    (0, "De route van station naar centrum wordt een fietsstraat."),
    (0, "Auto's rijden er hooguit dertig kilometer per uur."),
    (0, "Er verdwijnen parkeerplaatsen in het centrum."),
    (1, "Elke wijk krijgt een buurthuis dat ook 's avonds open is."),
    (1, "De gemeente betaalt een beheerder voor elk buurthuis."),
    (2, "Braakliggende grond gaat tijdelijk naar buurtbewoners."),
    (0, "Kinderen moeten veilig naar school kunnen fietsen."),
    (1, "Niemand in Lindeveld hoort eenzaam te zijn."),
)
#: How the two camps lean on each statement (index into KEY_POINTS, then accepted reactions):
#: 1 agree, -1 disagree; both camps agree on the last two key points (the common ground).
CAMPS = ((1, 1, 1, 1, -1, 1, 1, 1, 1), (-1, -1, -1, 1, 1, -1, 1, 1, -1))
VOTERS = 60


async def _proposals(session: AsyncSession, summit: Summit) -> list[int]:
    """The three proposals, each written at the table that recorded its idea."""
    tables = dict(
        (
            await session.execute(
                select(Idea.title, Idea.table_id).where(Idea.summit_id == summit.id)
            )
        )
        .tuples()
        .all()
    )
    ideas = ("Fietsstraat door de binnenstad", "Ontmoetingsplek voor ouderen", "Buurtmoestuinen")
    found = []
    for (title, problem, text), idea in zip(PROPOSALS, ideas, strict=True):
        content = council.ProposalText(
            title=title, problem=problem, text=text, who_acts="Gemeente Lindeveld"
        )
        row = await council.create_proposal(
            session, summit, actor="demo", content=content, table_id=tables.get(idea)
        )
        found.append(row.id)
    return found


async def _residents(session: AsyncSession, summit: Summit, secret: str, n: int) -> list[Reactor]:
    """Residents who showed a postcode (the demo's reactors)."""
    now = utcnow()
    rows = [
        Reactor(
            summit_id=summit.id,
            kind="postcode",
            key_hash=reactor_key(secret, "postcode", secrets.token_hex(8)),
            pseudonym=new_pseudonym("R"),
            confirmed_at=now,
        )
        for _ in range(n)
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def _reactions(
    session: AsyncSession, summit: Summit, ids: list[int], people: list[Reactor]
) -> list[int]:
    placed = []
    for (index, stance, text), reactor in zip(REACTIONS, people, strict=False):
        row = await reactions.react(
            session, summit, reactor=reactor, proposal_id=ids[index], stance=stance, text=text
        )
        placed.append(row.id)
    paper = reactions.PaperReaction(ids[1], "support", "Goed idee, ik help graag mee.", "paper")
    meeting = reactions.PaperReaction(
        ids[0],
        "concerns",
        "De ondernemers willen eerst een proef van een halfjaar.",
        "meeting",
        meeting_name="Bijeenkomst ondernemers centrum",
        meeting_date=(utcnow().date() - dt.timedelta(days=3)).isoformat(),
    )
    for form in (paper, meeting):
        placed.append((await reactions.enter(session, summit, actor="demo", form=form)).id)
    spam = await reactions.react(
        session,
        summit,
        reactor=people[-1],
        proposal_id=ids[2],
        stance="support",
        text="Koop nu goedkope zonnebrillen op onze website!!!",
    )
    await reactions.hide(session, summit.id, spam.id, actor="demo", reason="spam")
    return placed


async def _workshops(
    session: AsyncSession,
    summit: Summit,
    ids: list[int],
    participants: Sequence[Participant],
    placed: list[int],
) -> list[tuple[str, str]]:
    cycling = await workshops.create(
        session,
        summit,
        actor="demo",
        form=workshops.WorkshopForm(
            "Werkplaats fietsstraat", "Verwerkt de reacties op de fietsstraat.", 4, ids[0]
        ),
    )
    for person in participants[:4]:
        await workshops.volunteer(session, cycling, person)
    for person in participants[:4]:
        await workshops.confirm(session, cycling, person.pseudonym, actor="demo")
    _guest, token = await workshops.invite(
        session, cycling, actor="demo", role="expert", name="Verkeerskundige, Provincie Zeeveld"
    )
    await workshops.invite(
        session, cycling, actor="demo", role="official", name="Beleidsmedewerker mobiliteit"
    )
    await workshops.plan(
        session,
        cycling,
        actor="demo",
        form=workshops.MeetingForm(
            "Eerste werkbijeenkomst",
            (utcnow() + dt.timedelta(days=7)).strftime("%Y-%m-%dT19:30"),
            "Bibliotheek Lindeveld",
            online=False,
        ),
    )
    # An online meeting a quarter of an hour after the demo starts: its video room is open
    # (from 30 minutes before the start) for the members and the expert's link.
    await workshops.plan(
        session,
        cycling,
        actor="demo",
        form=workshops.MeetingForm(
            "Online overleg met de ondernemers",
            # an aware time (UTC), not one read on the summit's clock
            (utcnow() + dt.timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M+00:00"),
            "",
            online=True,
        ),
    )
    author = workshops.Author("member", participants[0].pseudonym)
    await workshops.contribute(
        session,
        cycling,
        author=workshops.Author("expert", _guest.pseudonym),
        text="Bevoorrading kan tussen 7 en 11 uur; dat werkt in Zwolle en Utrecht.",
    )
    texts = (
        "Maak de route een fietsstraat met dertig kilometer per uur.",
        "Maak de route een fietsstraat met dertig kilometer per uur; bevoorrading tussen 7 en "
        "11 uur, en eerst een proef van een halfjaar met de ondernemers.",
    )
    for number, text in enumerate(texts):
        await workshops.revise(
            session,
            cycling,
            author=author,
            text=council.ProposalText(PROPOSALS[0][0], PROPOSALS[0][1], text, "Gemeente"),
            cites=[placed[2], placed[5], placed[-1]] if number else [placed[0]],
        )
    await workshops.submit(session, summit, cycling, actor="demo")
    elderly = await workshops.create(
        session,
        summit,
        actor="demo",
        form=workshops.WorkshopForm(
            "Werkplaats ontmoeting", "Werkt het voorstel voor buurthuizen uit.", 3, ids[1]
        ),
    )
    for person in participants[4:9]:
        await workshops.volunteer(session, elderly, person)
    await workshops.commit(session, elderly, actor="demo")
    await workshops.draw(session, elderly, actor="demo", seed="3 1 4 1 5 9 2 6 5 3")
    return [("expert (workshop)", f"/forum/guest/{token}")]


async def _opinion_map(
    session: AsyncSession,
    summit: Summit,
    ids: list[int],
    people: list[Reactor],
    placed: list[int],
    rng: random.Random,
) -> None:
    statements: list[Statement] = []
    for index, text in KEY_POINTS:
        statements.append(
            await opinion.add_key_point(
                session, summit, actor="demo", proposal_id=ids[index], text=text
            )
        )
    statements.append(await opinion.accept_reaction(session, summit, placed[3], actor="demo"))
    now = utcnow()
    for n, reactor in enumerate(people[:VOTERS]):
        camp = CAMPS[n % 2]
        for statement, lean in zip(statements, camp, strict=True):
            roll = rng.random()
            value = 0 if roll < 0.1 else (lean if roll < 0.85 else -lean)
            if rng.random() < 0.9:
                session.add(
                    StatementVote(
                        summit_id=summit.id,
                        statement_id=statement.id,
                        reactor_id=reactor.id,
                        value=value,
                        updated_at=now,
                    )
                )
    await session.flush()


async def seed(
    session: AsyncSession,
    summit: Summit,
    participants: Sequence[Participant],
    secret: str,
    rng: random.Random,
) -> list[tuple[str, str]]:
    """The forum's demo content; returns the demo links to print (an expert's workshop link)."""
    form = SettingsForm(
        open=True,
        methods=["letter_code", "postcode", "email"],
        postcodes=POSTCODES,
        max_length=1000,
        per_hour=10,
    )
    await save_settings(session, summit, actor="demo", form=form)
    ids = await _proposals(session, summit)
    people = await _residents(session, summit, secret, VOTERS)
    placed = await _reactions(session, summit, ids, people)
    links = await _workshops(session, summit, ids, participants, placed)
    await _opinion_map(session, summit, ids, people, placed, rng)
    return links
