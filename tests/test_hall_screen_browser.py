"""The hall screen (a display link's plenary screen) fits one 1920×1080 projector screen with a
full day's board: 1,000 ideas from every table, grouped in 20 themes, all 20 shown."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from summit.core import service as repository
from summit.core.db import Database
from summit.core.models import Participant, Seat, Summit
from summit.ideas import service as ideas
from summit.ideas.models import Idea, Theme, ThemeBoardState, ThemeDetail
from summit.plenary import service as plenary
from tests.support.browser import Server, chromium, needs_chromium, run_server

pytestmark = [pytest.mark.browser, needs_chromium]

IDEAS, THEMES = 1000, 20
#: Theme names as long as a moderator's: the longest cards are the ones that must still fit.
LABELS = [
    f"Thema {n}: {words}"
    for n, words in enumerate(
        [
            "betaalbare woningen voor jongeren en ouderen",
            "groen in de wijk",
            "veilig fietsen naar school",
            "eenzaamheid",
            "openbaar vervoer in de avond",
            "energie besparen in huurwoningen",
            "speelplekken",
            "zorg dicht bij huis",
            "de markt en de winkelstraat",
            "afval en zwerfvuil",
            "inspraak bij plannen van de gemeente",
            "werk voor statushouders",
            "sport voor iedereen",
            "parkeren",
            "cultuur en bibliotheek",
            "water en hitte in de zomer",
            "digitale hulp voor ouderen",
            "schone lucht",
            "buurthuizen",
            "onderwijs en taal",
        ],
        start=1,
    )
]


async def _fill_board(url: str) -> str:
    """1,000 ideas recorded at the open round's tables (as their hosts), sorted into 20 themes
    of falling size; returns a new display link's token."""
    database = Database(url)
    try:
        async with database.session() as session:
            summit = await session.scalar(select(Summit))
            assert summit is not None
            # The board holds only these ideas: the demo's own are withdrawn, its themes retired.
            await session.execute(update(Idea).values(status="withdrawn", theme_id=None))
            await session.execute(update(Theme).values(status="retired"))
            await ideas.set_who_records(session, summit.id, "table", actor="test")
            rnd = await repository.open_round(session, summit.id)
            assert rnd is not None
            seats = (await session.execute(select(Seat).where(Seat.round_id == rnd.id))).scalars()
            contexts: list[ideas.TableContext] = []
            for seat in seats:
                person = await session.get(Participant, seat.participant_id)
                assert person is not None
                ctx = await ideas.table_context(session, person)
                if ctx is not None and ctx.table_id not in {c.table_id for c in contexts}:
                    contexts.append(ctx)
            themes = [Theme(summit_id=summit.id, label=label, status="active") for label in LABELS]
            session.add_all(themes)
            await session.flush()
            # Theme k gets a share that falls with k, so the bars differ; every theme has ideas.
            weights = [THEMES - k for k in range(THEMES)]
            owners = [k for k, w in enumerate(weights) for _ in range(w)]
            firsts: dict[int, int] = {}
            for n in range(IDEAS):
                ctx = contexts[n % len(contexts)]
                k = owners[n * len(owners) // IDEAS]
                idea, _ = await ideas.add_idea(
                    session,
                    ctx,
                    title=f"Idee {n + 1} over {LABELS[k].split(': ', 1)[1]}, uitgewerkt met"
                    " voorbeelden uit de eigen straat",
                    actor="test",
                )
                idea.theme_id = themes[k].id
                firsts.setdefault(k, idea.id)
            for k, theme in enumerate(themes):
                session.add(
                    ThemeDetail(
                        summit_id=summit.id,
                        key=f"t{k}",
                        theme_id=theme.id,
                        representative_idea_id=firsts[k],
                    )
                )
            await session.execute(
                update(ThemeBoardState)
                .where(ThemeBoardState.summit_id == summit.id)
                .values(generation=ThemeBoardState.generation + 1)
            )
            _link, token = await plenary.issue_display_link(session, summit, actor="test")
            return token
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    data = tmp_path_factory.mktemp("hall-screen")
    with run_server(data) as running:
        token = asyncio.run(_fill_board(f"sqlite+aiosqlite:///{Path(data) / 'summit.db'}"))
        yield running, token


SIZE = """() => ({
  height: document.documentElement.scrollHeight,
  width: document.documentElement.scrollWidth - window.innerWidth,
  side: [...document.querySelectorAll('.plenary-main, .plenary-side')]
    .map((column) => column.scrollWidth - column.clientWidth),
  shown: [...document.querySelectorAll('[data-themes-list] > li')].filter((li) => {
    const r = li.getBoundingClientRect();
    return r.width > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
  }).length,
  stats: document.querySelector('[data-themes-stats]').textContent,
})"""


@pytest.mark.parametrize("locale", ["nl-NL", "en-GB"])
def test_a_full_board_fits_the_hall_screen(server: tuple[Server, str], locale: str) -> None:
    running, token = server
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1920, "height": 1080}, locale=locale)
        lang = "en" if locale.startswith("en") else "nl"
        page.goto(f"{running.url}/display/{token}?lang={lang}")
        page.wait_for_function(
            f"document.querySelectorAll('[data-themes-list] > li').length === {THEMES}"
        )
        page.evaluate("document.fonts.ready")
        size = page.evaluate(SIZE)
    assert size["stats"].startswith("1000 "), size
    assert size["width"] <= 0 and max(size["side"]) <= 0, size
    assert size["height"] <= 1080, size
    assert size["shown"] == THEMES, size
