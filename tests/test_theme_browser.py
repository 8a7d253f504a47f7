"""The NL Design System look in a real Chromium: the vendored component CSS and the theme's design
tokens apply, no page scrolls sideways on a phone, axe stays clean, and another municipality's
token package, passed through the template context, recolours the page (docs/theming.md)."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape

from summit.core.templating import make_environment
from tests.support.browser import (
    Server,
    axe_violations,
    chromium,
    log_in,
    needs_chromium,
    run_server,
)

WEB = Path(__file__).resolve().parents[1] / "web"
VENDOR = WEB / "static" / "vendor"
DEN_HAAG = {"theme_css_url": "/static/vendor/denhaag/theme.css", "theme_class": "denhaag-theme"}

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
    pytest.mark.skipif(
        not (VENDOR / ".installed").exists(),
        reason="the NL Design System CSS is not fetched (scripts/install)",
    ),
]

# The colour a token resolves to on the page, read through a probe element under <body>.
TOKEN_COLOUR = """token => {
  const probe = document.createElement("span");
  probe.style.color = `var(${token}, rgb(1, 2, 3))`;
  document.body.append(probe);
  const colour = getComputedStyle(probe).color;
  probe.remove();
  return colour;
}"""
NAV_BAR = "getComputedStyle(document.querySelector('.site-nav')).backgroundColor"
BUTTON = "getComputedStyle(document.querySelector('main button')).backgroundColor"
OLD_ACCENT = "rgb(11, 79, 138)"  # the colour before the NL Design System, now only a fallback


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(tmp_path_factory.mktemp("browser-theme")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def phone(browser: Any) -> Any:
    return browser.new_context(
        locale="nl-NL", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )


def test_pages_load_the_vendored_css_and_the_theme_tokens(server: Server, browser: Any) -> None:
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    statuses: dict[str, int] = {}
    page.on("response", lambda r: statuses.__setitem__(r.url.split("/static/", 1)[-1], r.status))
    page.goto(server.url + "/")
    page.evaluate("document.fonts.ready.then(() => true)")
    for asset in ("nlds.css", "vendor/utrecht/index.css", "vendor/utrecht/html.css"):
        assert statuses.get(asset) == 200, (asset, statuses)
    assert statuses.get("vendor/voorbeeld/theme.css") == 200, statuses
    assert page.evaluate("document.documentElement.classList.contains('utrecht-html')")
    assert page.evaluate("document.body.classList.contains('voorbeeld-theme')")

    # The theme's primary colour reaches our own CSS (the navigation bar) through the tokens.
    primary = page.evaluate(TOKEN_COLOUR, "--utrecht-button-primary-action-background-color")
    assert primary not in ("rgb(1, 2, 3)", OLD_ACCENT)
    assert page.evaluate(NAV_BAR) == primary
    # The component CSS styles plain elements from the tokens: the heading font and colour.
    h1 = page.locator("h1").first
    assert "Noto Serif" in h1.evaluate("e => getComputedStyle(e).fontFamily")
    assert page.evaluate("document.fonts.check('700 1em \"Noto Serif\"')")
    heading = page.evaluate(TOKEN_COLOUR, "--utrecht-heading-1-color")
    assert h1.evaluate("e => getComputedStyle(e).color") == heading
    # A component class from index.css: the page footer takes the theme's footer background.
    footer = page.evaluate(TOKEN_COLOUR, "--utrecht-page-footer-background-color")
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.site-footer')).backgroundColor")
        == footer
    )
    context.close()


LONG_DEVICE_NAMES = """() => {
  for (const select of document.querySelectorAll('#video-camera, #video-microphone')) {
    const option = document.createElement('option');
    option.textContent = 'Microphone Array (Realtek(R) Audio) - Default communications device';
    select.append(option);
  }
  return document.querySelectorAll('#video-camera, #video-microphone').length;
}"""


def test_home_login_and_participant_pages_fit_a_phone_and_pass_axe(
    server: Server, browser: Any
) -> None:
    context = phone(browser)
    page = context.new_page()
    page.goto(server.links()["resident (online)"])
    page.wait_for_url("**/me")
    for path in ("/me", "/me/ideas", "/me/video", "/", "/login", "/?lang=en"):
        page.goto(server.url + path)
        # Real device names are long; the camera and microphone choices must still fit.
        assert page.evaluate(LONG_DEVICE_NAMES) == (2 if path == "/me/video" else 0), path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
        assert axe_violations(page) == [], path
    context.close()


def render(template: str, **context: Any) -> str:
    """A page rendered straight from the templates (no summit setting picks a theme yet)."""
    env = Environment(
        loader=FileSystemLoader(str(WEB / "templates")),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    shared = make_environment(WEB / "templates")  # the app's filters and form globals
    env.filters.update(shared.filters)
    env.globals.update(shared.globals)
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(version="test", language_names={"nl": "Nederlands", "en": "English"})
    values = {
        "identity": SimpleNamespace(staff_id=None, participant_id=None, principals={"public"}),
        "csrf_token": "token",
        "lang": "en",
        "languages": ["nl", "en"],
        "summit": None,
        "next": "/",
        "error": None,
    }
    return env.get_template(template).render({**values, **context})


def serve_rendered(page: Any, html: str) -> None:
    """The page at http://theme.test/, its /static/ files straight from web/static."""

    def handle(route: Any) -> None:
        path = route.request.url.split("http://theme.test", 1)[1].split("?", 1)[0]
        if path.startswith("/static/"):
            file = WEB / path.lstrip("/")
            if file.is_file():
                kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                route.fulfill(path=str(file), content_type=kind)
            else:
                route.fulfill(status=404, body="")
        else:
            route.fulfill(body=html, content_type="text/html; charset=utf-8")

    page.route("http://theme.test/**", handle)
    page.goto("http://theme.test/login")


def test_another_municipality_theme_recolours_the_page(browser: Any) -> None:
    context = phone(browser)
    page = context.new_page()
    serve_rendered(page, render("login.html"))
    neutral_bar, neutral_button = page.evaluate(NAV_BAR), page.evaluate(BUTTON)
    assert neutral_bar == neutral_button != OLD_ACCENT

    logo = (
        "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 10'>"
        "<rect width='10' height='10' fill='green'/></svg>"
    )
    serve_rendered(
        page, render("login.html", logo_url=logo, logo_alt="Gemeente Den Haag", **DEN_HAAG)
    )
    assert page.evaluate("document.body.classList.contains('denhaag-theme')")
    assert (
        page.locator("link[data-theme-tokens]").get_attribute("href") == DEN_HAAG["theme_css_url"]
    )
    assert page.locator(".brand img").get_attribute("src") == logo
    assert page.get_by_role("img", name="Gemeente Den Haag").count() == 1
    primary = page.evaluate(TOKEN_COLOUR, "--utrecht-button-primary-action-background-color")
    assert page.evaluate(NAV_BAR) == page.evaluate(BUTTON) == primary
    assert primary not in (neutral_bar, OLD_ACCENT, "rgb(1, 2, 3)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []
    context.close()


MAPPING_OVERFLOW = """() => [...document.querySelectorAll('fieldset.mapping input')]
.filter((input) => {
  const box = input.closest('fieldset').getBoundingClientRect();
  const own = input.getBoundingClientRect();
  return own.right > box.right + 0.5 || own.left < box.left - 0.5;
}).map((input) => input.id)"""


@pytest.mark.parametrize("width", [390, 768, 1920])
def test_the_register_mapping_inputs_stay_inside_their_box(
    server: Server, browser: Any, width: int
) -> None:
    context = browser.new_context(locale="nl-NL", viewport={"width": width, "height": 900})
    page = context.new_page()
    log_in(page, server.url, "organiser", server.credential("organiser"), "/organiser/lottery")
    assert page.locator("fieldset.mapping input").count() >= 3
    assert page.evaluate(MAPPING_OVERFLOW) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
