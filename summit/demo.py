"""The demo summit: a synthetic municipality with ~200 participants, tables, a round in progress
and a few dozen ideas, so a newcomer sees a living summit on first start."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from summit.core import audit
from summit.core import service as repository
from summit.core.db import Database
from summit.core.models import (
    Participant,
    Partner,
    Round,
    Seat,
    StaffUser,
    Summit,
    SummitTable,
    utcnow,
)
from summit.core.rules.roles import DEFAULT_MIX, Role, seats_per_role
from summit.forum import demo as forum_demo
from summit.ideas.models import Idea
from summit.monitor import demo as monitor_demo
from summit.seating import service as seating
from summit.seating import settings as seating_settings

DEMO_SEED = "demo-lindeveld-2026"
FIRST_NAMES = [
    "Anouk", "Bram", "Charlotte", "Daan", "Emma", "Finn", "Gijs", "Hanna", "Ilse", "Jesse", "Kim",
    "Lars", "Mila", "Noah", "Olivia", "Pim", "Quinten", "Roos", "Sem", "Tess", "Umar", "Vera",
    "Wout", "Yara", "Zoë", "Ahmed", "Fatima", "Mehmet", "Priya", "Sanne", "Thijs", "Lotte",
    "Ruben", "Iris", "Milan", "Julia", "Luuk", "Sophie", "Bas", "Eva",
]
LAST_INITIALS = "ABCDEFGHJKLMNPRSTVWZ"
DISTRICTS = ("Centrum", "Noord", "Oost", "Zuid", "West", "Haven")
AGE_BANDS = ("16-24", "25-34", "35-49", "50-64", "65+")
GENDERS = ("female", "male", "other")
IDEAS = (
    (
        "Veilige fietsroutes naar school",
        "Vrijliggende fietspaden langs de drie drukste schoolroutes.",
    ),
    ("Meer fietsenstallingen in het centrum", "Overdekte stallingen bij het station en de markt."),
    ("Fietsstraat door de binnenstad", "Auto te gast op de route van station naar centrum."),
    ("Starterswoningen bouwen", "Tien procent van nieuwbouw reserveren voor starters uit de stad."),
    (
        "Woningen voor ouderen in de wijk",
        "Levensloopbestendige woningen zodat ouderen kunnen blijven.",
    ),
    ("Leegstand boven winkels benutten", "Woningen maken van lege verdiepingen boven winkels."),
    ("Groene schoolpleinen", "Tegels eruit, bomen en speelnatuur erin."),
    ("Meer bomen in de straten", "Elke straat krijgt bomen voor schaduw tijdens hittegolven."),
    ("Buurtmoestuinen", "Braakliggende grond tijdelijk inzetten als moestuin voor de buurt."),
    ("Jongerencentrum in Noord", "Een plek waar jongeren 's avonds terechtkunnen."),
    ("Bijbaanbank voor scholieren", "Lokale werkgevers bieden bijbanen aan via één loket."),
    ("Sportveld altijd open", "Schoolsportvelden buiten schooltijd openstellen."),
    ("Ontmoetingsplek voor ouderen", "Een buurthuis met koffie en activiteiten tegen eenzaamheid."),
    ("Vrijwillige boodschappendienst", "Buren doen boodschappen voor wie slecht ter been is."),
    ("Digitale hulp in de bibliotheek", "Hulp bij DigiD en formulieren voor wie dat lastig vindt."),
    ("Snelheid omlaag in woonwijken", "Dertig kilometer per uur in alle woonstraten."),
    ("Betere busverbinding met het ziekenhuis", "Een bus elk kwartier vanaf het station."),
    ("Parkeren aan de rand van de stad", "Transferia met een pendelbus naar het centrum."),
    ("Zonnepanelen op alle scholen", "Daken van scholen en sporthallen vol zonnepanelen."),
    ("Energiecoöperatie voor de buurt", "Samen investeren in een windmolen en samen profiteren."),
    ("Isolatie-advies aan huis", "Gratis energiecoach voor huurders en kopers."),
    ("Schone haven", "Afvalbakken en een vaste schoonmaakploeg rond de haven."),
    ("Minder zwerfafval in het park", "Statiegeld-inzamelpunten en meer prullenbakken."),
    ("Cultuurpodium in een oude fabriek", "Een plek voor lokale muziek en theater."),
    ("Gratis toegang tot het museum voor jongeren", "Iedereen onder 18 gratis naar binnen."),
    ("Spreekuur van de wethouder in de wijk", "Maandelijks een wethouder in het buurthuis."),
    ("Burgerbegroting per wijk", "Inwoners beslissen zelf over een deel van het wijkbudget."),
    ("Verlichting op donkere paden", "Meer licht op de route langs het water."),
    ("Buurtpreventie-app", "Een app waarmee buren elkaar waarschuwen."),
    ("Speeltuin voor kinderen met een beperking", "Toegankelijke speeltoestellen in elk park."),
    ("Gezonde kantine in sportclubs", "Water en fruit in plaats van frisdrank en snoep."),
    ("Huisarts dichter bij huis", "Een gezondheidscentrum in de Haven."),
    ("Taalcafé voor nieuwkomers", "Wekelijks Nederlands oefenen met vrijwilligers."),
    ("Stage bij de gemeente", "Scholieren lopen een week mee op het stadhuis."),
    (
        "Deelauto's in elke wijk",
        "Elektrische deelauto's zodat minder mensen een auto nodig hebben.",
    ),
    ("Markt op zondag", "Een wekelijkse markt met lokale producten."),
)


ROUND_TITLES = (
    "Wat vinden wij belangrijk?",
    "Wat moet er anders?",
    "Wat kunnen we samen?",
    "Wat kiezen we?",
)


def _pick_hosts(created: list[tuple[Participant, str]], table_size: int) -> set[str]:
    """One resident host per table of each attendance group (table size counts the host)."""
    hosts: set[str] = set()
    for mode in ("venue", "online"):
        group = [p for p, _t in created if p.attendance == mode]
        tables = max(1, -(-len(group) // (table_size + 1)))
        residents = [p for p in group if p.role == "resident"]
        for person in residents[:tables]:
            person.is_host = True
            hosts.add(person.pseudonym)
    return hosts


@dataclass
class DemoInfo:
    summit_id: int
    organiser_password: str
    moderator_password: str
    links: list[tuple[str, str]] = field(default_factory=list)  # (description, path)

    def render(self, base_url: str) -> str:
        lines = [
            f"Open {base_url}/",
            f"  organiser login: organiser / {self.organiser_password}",
            f"  moderator login: moderator / {self.moderator_password}",
            "  personal links of a few participants:",
        ]
        lines += [f"    {desc}: {base_url}{path}" for desc, path in self.links]
        return "\n".join(lines)


def credentials_path(data_dir: Path) -> Path:
    return data_dir / "demo-credentials.txt"


async def has_summit(db: Database) -> bool:
    async with db.session() as session:
        return (await session.scalar(select(Summit.id).limit(1))) is not None


async def create_demo(
    db: Database, *, participants: int = 200, rounds: int = 4, seed: str = DEMO_SEED
) -> DemoInfo:
    """Create the demo summit in one transaction. Deterministic apart from passwords and links."""
    rng = random.Random(seed)
    organiser_password = secrets.token_urlsafe(12)
    moderator_password = secrets.token_urlsafe(12)
    async with db.session() as session:
        for username, role, password in (
            ("organiser", "organiser", organiser_password),
            ("moderator", "moderator", moderator_password),
        ):
            if await session.scalar(select(StaffUser).where(StaffUser.username == username)):
                raise RuntimeError(
                    f"user {username!r} already exists; the demo needs a fresh database"
                )
            await repository.add_staff_user(session, username, password, role, actor="demo")
        summit = await repository.create_summit(
            session,
            actor="demo",
            slug="lindeveld-2026",
            name="G1000 Lindeveld",
            municipality="Lindeveld",
            date=dt.date(2026, 12, 12),
            venue="Evenementenhal De Brug",
            venue_capacity=800,
            online_capacity=400,
            seats=participants,
            mix=dict(DEFAULT_MIX),
            table_size=8,
            table_pattern=[
                {"roles": ["resident"], "count": 5},
                {"roles": ["employer"], "count": 1},
                {"roles": ["civil_servant", "politician"], "count": 1},
                {"roles": ["free_thinker"], "count": 1},
            ],
            languages=["nl", "en"],
            default_language="nl",
            features=[
                {"name": "age_band", "values": list(AGE_BANDS)},
                {"name": "gender", "values": list(GENDERS)},
                {"name": "district", "values": list(DISTRICTS)},
            ],
            phase="summit",
            public_seed=seed,
        )
        for name, kind, text in (
            (
                "Gemeente Lindeveld",
                "municipality",
                "Wij nemen de voorstellen over of leggen publiek uit waarom niet.",
            ),
            (
                "Provincie Zeeveld",
                "province",
                "Wij betrekken het Burgerbesluit bij onze regionale plannen.",
            ),
            (
                "Woonstichting Thuis",
                "housing",
                "Wij toetsen elk woonvoorstel en rapporteren in de Monitor.",
            ),
            (
                "Ondernemersvereniging Lindeveld",
                "employers",
                "Wij leveren deelnemers en denken mee over uitvoering.",
            ),
        ):
            session.add(
                Partner(
                    summit_id=summit.id,
                    name=name,
                    kind=kind,
                    commitment=text,
                    signed_on=dt.date(2026, 9, 1),
                )
            )

        per_role = seats_per_role(DEFAULT_MIX, participants)
        people: list[tuple[str, str]] = [
            (role, "") for role, n in per_role.items() for _ in range(n)
        ]
        rng.shuffle(people)
        created = []
        links: list[tuple[str, str]] = []
        online_share = 0.3
        for index, (role, _blank) in enumerate(people):
            attendance = "online" if rng.random() < online_share else "venue"
            participant, token = await repository.add_participant(
                session,
                summit,
                actor="demo",
                pseudonym=f"P-{index:04d}{rng.getrandbits(16):04X}",
                role=role,
                first_name=rng.choice(FIRST_NAMES),
                last_name=f"{rng.choice(LAST_INITIALS)}.",
                attendance=attendance,
                features={
                    "age_band": rng.choice(AGE_BANDS),
                    "gender": rng.choice(GENDERS[:2]) if rng.random() < 0.97 else "other",
                    "district": rng.choice(DISTRICTS),
                },
                accessibility_needs="hard of hearing" if index % 37 == 5 else "",
            )
            created.append((participant, token))
        # Seat everyone for every round with the platform's seating (pattern, no repeated
        # meetings, diverse tables, hosts stay), stored and logged so it can be verified and
        # rebalanced on the day; then round 1 opens 12 minutes ago.
        _pick_hosts(created, summit.table_size)
        await session.flush()
        await seating_settings.save_settings(
            session,
            summit,
            actor="demo",
            venue_areas=[{"label": "Zaal A", "tables": 10}, {"label": "Zaal B", "tables": 100}],
        )
        await seating.seat_summit(session, summit, actor="demo", seed=seed, rounds=rounds)
        round_rows = list(
            (
                await session.execute(
                    select(Round).where(Round.summit_id == summit.id).order_by(Round.number)
                )
            ).scalars()
        )
        for rnd in round_rows:
            rnd.title = ROUND_TITLES[(rnd.number - 1) % len(ROUND_TITLES)]
        await seating.open_round(
            session,
            summit,
            actor="demo",
            number=1,
            now=utcnow() - dt.timedelta(minutes=12),
        )
        host_seats = (
            await session.execute(
                select(Seat.table_id, Seat.participant_id).where(
                    Seat.round_id == round_rows[0].id, Seat.is_host
                )
            )
        ).all()
        hosts: dict[int, int] = {table_id: pid for table_id, pid in host_seats}
        online_tables = set(
            (
                await session.execute(
                    select(SummitTable.id).where(
                        SummitTable.summit_id == summit.id, SummitTable.kind == "online"
                    )
                )
            ).scalars()
        )
        await session.flush()
        by_id = {p.id: p for p, _t in created}
        # A few dozen ideas from the tables of round 1.
        table_ids = sorted(hosts)
        for i, (title, body) in enumerate(IDEAS):
            table_id = table_ids[(i * 7) % len(table_ids)]
            session.add(
                Idea(
                    summit_id=summit.id,
                    round_id=round_rows[0].id,
                    table_id=table_id,
                    author_id=hosts[table_id],
                    title=title,
                    body=body,
                    source="online" if table_id in online_tables else "tablet",
                    idempotency_key=f"demo-{i}",
                )
            )
        await session.flush()
        await audit.append(
            session,
            actor="demo",
            action="ideas.import",
            subject=f"round:{round_rows[0].id}",
            summit_id=summit.id,
            payload={"count": len(IDEAS)},
        )
        # Links to show: one per role, an online participant, and a table host.
        tokens = {p.id: t for p, t in created}
        wanted: list[tuple[str, int]] = []
        for role in Role:
            pid = next(p.id for p, _t in created if p.role == role.value and not p.is_host)
            wanted.append((f"{role.value} ({by_id[pid].attendance})", pid))
        host_online = next((h for t, h in sorted(hosts.items()) if t in online_tables), None)
        if host_online is not None:
            wanted.append(("table host (online)", host_online))
        links = [(desc, f"/p/{tokens[pid]}") for desc, pid in wanted]
        # The Burgerforum: reactions, two workshops and an opinion map on three proposals.
        links += await forum_demo.seed(
            session, summit, [p for p, _t in created], secrets.token_urlsafe(32), rng
        )
        # The Monitor: a Burgerbesluit, partners' responses, progress and the Monitor group.
        seated = [p for p, _t in created]
        links += await monitor_demo.seed(session, summit, seated, tokens, secrets.token_urlsafe(32))
        summit_id = summit.id
    return DemoInfo(summit_id, organiser_password, moderator_password, links)


def save_credentials(info: DemoInfo, data_dir: Path, base_url: str) -> Path:
    path = credentials_path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "Demo credentials (demo data only; delete this file for a real summit)\n"
        + info.render(base_url)
        + "\n"
    )
    path.chmod(0o600)
    return path
