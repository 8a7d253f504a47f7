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


async def _split_largest(url: str, extra: int, ideas_each: int) -> None:
    """``extra`` new themes, each taking ``ideas_each`` ideas from the largest theme."""
    database = Database(url)
    try:
        async with database.session() as session:
            summit = await session.scalar(select(Summit))
            assert summit is not None
            largest = await session.scalar(select(Theme).where(Theme.label == LABELS[0]))
            assert largest is not None
            taken = list(
                (
                    await session.execute(
                        select(Idea)
                        .where(Idea.theme_id == largest.id)
                        .order_by(Idea.id.desc())
                        .limit(extra * ideas_each)
                    )
                ).scalars()
            )
            for k in range(extra):
                theme = Theme(summit_id=summit.id, label=f"Nieuw thema {k + 1}", status="active")
                session.add(theme)
                await session.flush()
                for idea in taken[k * ideas_each : (k + 1) * ideas_each]:
                    idea.theme_id = theme.id
            await session.execute(
                update(ThemeBoardState)
                .where(ThemeBoardState.summit_id == summit.id)
                .values(generation=ThemeBoardState.generation + 1)
            )
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    data = tmp_path_factory.mktemp("hall-screen")
    with run_server(data) as running:
        running.database = f"sqlite+aiosqlite:///{Path(data) / 'summit.db'}"  # type: ignore[attr-defined]
        token = asyncio.run(_fill_board(running.database))  # type: ignore[attr-defined]
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


def test_beyond_twenty_themes_the_screen_shows_the_largest_and_names_the_rest(
    server: tuple[Server, str],
) -> None:
    """Runs after the full-board tests (it adds six themes to the module's summit)."""
    running, token = server
    asyncio.run(_split_largest(running.database, extra=6, ideas_each=5))  # type: ignore[attr-defined]
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="nl-NL")
        page.goto(f"{running.url}/display/{token}?lang=nl")
        more = page.locator("[data-themes-list] > li[data-more-themes]")
        more.wait_for()
        page.evaluate("document.fonts.ready")
        size = page.evaluate(SIZE)
        text = more.inner_text()
        cards = page.locator("[data-themes-list] > li h3").all_inner_texts()
        counts = [
            int(n)
            for n in page.locator("[data-themes-list] > li[data-count]").evaluate_all(
                "(items) => items.map((li) => li.dataset.count)"
            )
        ]
    # 26 themes: the 19 largest as cards, the last card names the other 7 and their ideas
    assert text == f"en nog 7 thema's met {IDEAS - sum(counts)} ideeën", (text, counts)
    assert len(cards) == THEMES - 1 and counts == sorted(counts, reverse=True), cards
    assert min(counts) >= 5  # the new themes of five ideas are among the rest, not on cards
    assert not any(card.startswith("Nieuw thema") for card in cards)
    assert "in 26 thema" in size["stats"], size
    assert size["height"] <= 1080 and size["shown"] == THEMES, size
