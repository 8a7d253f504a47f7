"""The content security policy in a real Chromium (finding 16): the main pages of every role run
without a single CSP violation, and the policy really blocks what it should."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import Server, chromium, needs_chromium, run_server

pytestmark = [pytest.mark.browser, needs_chromium]

#: Records every violation the browser reports, from the first script on.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push(`${event.violatedDirective} ${event.blockedURI} ${event.lineNumber}`);
});
"""

PUBLIC = ["/", "/audit", "/lottery", "/plenary", "/programme", "/login", "/council/proposals"]
ORGANISER = [
    "/organiser",
    "/organiser/summit",
    "/organiser/participants",
    "/organiser/partners",
    "/organiser/lottery",
    "/organiser/selection",
    "/organiser/ideas",
    "/moderator",
    "/moderator/themes",
    "/seating",
    "/council",
    "/programme/manage",
]
PARTICIPANT = ["/me", "/me/ideas", "/council/mine", "/me/video"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(tmp_path_factory.mktemp("csp-demo")) as running:
        yield running


def _visit(page: Any, url: str, problems: list[str]) -> None:
    response = page.goto(url, wait_until="load")
    page.wait_for_timeout(700)  # the page's modules run and connect
    status = response.status if response else 0
    if status >= 400 and status != 404:
        problems.append(f"{url}: {status}")
    for violation in page.evaluate("window.__csp"):
        problems.append(f"{url}: {violation}")


def _signed_in(browser: Any, server: Server, role: str | None) -> Any:
    context = browser.new_context(locale="nl-NL", bypass_csp=False)  # the policy applies
    context.add_init_script(WATCH)
    page = context.new_page()
    if role == "participant":
        page.goto(server.links()["resident (online)"])
    elif role is not None:
        page.goto(server.url + "/login")
        page.get_by_label("Gebruikersnaam").fill(role)
        page.get_by_label("Wachtwoord").fill(server.credential(role))
        page.get_by_role("button", name="Inloggen").click()
        page.wait_for_url(re.compile(r".*/(organiser|moderator)$"))
    return page


def test_the_main_pages_run_without_a_single_csp_violation(server: Server) -> None:
    problems: list[str] = []
    with chromium() as browser:
        visits = ((None, PUBLIC), ("organiser", ORGANISER), ("participant", PARTICIPANT))
        for role, paths in visits:
            page = _signed_in(browser, server, role)
            for path in paths:
                _visit(page, server.url + path, problems)
            page.context.close()
        # the policy is live: an injected inline script is refused and reported
        page = _signed_in(browser, server, None)
        page.goto(server.url + "/")
        page.evaluate(
            """() => { const s = document.createElement('script');
                       s.textContent = 'window.__ran = 1'; document.body.append(s); }"""
        )
        page.wait_for_timeout(200)
        assert page.evaluate("window.__ran") is None
        assert any("script-src" in v for v in page.evaluate("window.__csp"))
    assert not problems, "\n".join(problems)
