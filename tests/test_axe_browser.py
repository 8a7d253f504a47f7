"""axe finds no WCAG 2.1 A/AA violation on any page, in Dutch and in English: the public, staff
(organiser, who also reaches the moderator's pages) and participant pages reached by following
links on the demo summit, with the NL Design System styles, at the desktop size (1280×800)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.browser import (
    Server,
    axe_violations,
    chromium,
    log_in,
    needs_chromium,
    run_server,
)
from tests.support.walk import walk

pytestmark = [pytest.mark.browser, needs_chromium]

VIEWPORT = {"width": 1280, "height": 800}


def _audit(
    browser: Any, base: str, lang: str, start: list[str], enter: Callable[[Any], None]
) -> tuple[list[str], list[str]]:
    """Walk from ``start`` in ``lang`` and run axe on every page once; returns the pages walked
    and one line per page and violation. ``enter(page)`` signs in or opens a link first."""
    walked, problems = [], []
    context = browser.new_context(viewport=VIEWPORT, locale="nl-NL")
    try:
        page = context.new_page()
        enter(page)
        page.goto(f"{base}{start[0]}?lang={lang}")  # the session's language, set once
        for path in walk(page, base, start):
            walked.append(path)
            problems += [f"{path} [{lang}]: {v}" for v in axe_violations(page, targets=3)]
    finally:
        context.close()
    return walked, problems


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(tmp_path_factory.mktemp("axe-demo")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as running:
        yield running


LANGS = pytest.mark.parametrize("lang", ["nl", "en"])


@LANGS
def test_public_pages_pass_axe(server: Server, browser: Any, lang: str) -> None:
    start = ["/", "/audit", "/login"]
    walked, problems = _audit(browser, server.url, lang, start, lambda page: None)
    assert len(walked) >= 6, walked
    assert not problems, "\n".join(problems)


@LANGS
def test_staff_pages_pass_axe(server: Server, browser: Any, lang: str) -> None:
    def sign_in(page: Any) -> None:
        log_in(page, server.url, "organiser", server.credential("organiser"), then="/organiser")

    walked, problems = _audit(browser, server.url, lang, ["/organiser", "/moderator"], sign_in)
    assert len(walked) >= 20, walked
    assert not problems, "\n".join(problems)


@LANGS
def test_participant_pages_pass_axe(server: Server, browser: Any, lang: str) -> None:
    def open_link(page: Any) -> None:
        page.goto(server.links()["resident (online)"])
        page.wait_for_url("**/me")

    walked, problems = _audit(browser, server.url, lang, ["/me"], open_link)
    assert len(walked) >= 4, walked
    assert not problems, "\n".join(problems)


def test_axe_reports_what_a_page_breaks(browser: Any) -> None:
    """The helper the walks rely on finds violations and names where they are: an image without
    a text alternative, a field without a label, and text too faint to read."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.set_content(
            '<html lang="nl"><head><title>t</title></head><body><main><h1>Kop</h1>'
            '<img src="data:," id="plaatje"><input id="veld" type="text">'
            '<p id="vaag" style="color:#ddd;background:#fff">vage tekst</p></main></body></html>'
        )
        found = axe_violations(page, targets=1)
    finally:
        context.close()
    assert {line.split(":", 1)[0] for line in found} >= {"image-alt", "label", "color-contrast"}
    assert any("#plaatje" in line for line in found)
    assert any("#vaag" in line for line in found)
