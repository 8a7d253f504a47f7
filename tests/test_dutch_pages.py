"""A Dutch user never meets English or raw keys: every page that staff and participants can open
on the demo summit (forum, council and monitor populated), and the message of every error path
(bad input posted to every form and JSON endpoint), read in Dutch.

The check is a list of English words that Dutch text never contains, the keys that must be
shown through labels (roles, attendance, features: ``resident``, ``civil_servant``, ``venue``,
any ``snake_case`` word), and the catalogue: every message the code can show has a Dutch
translation (tests/test_i18n.py) and none of those is English left as it was.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

from babel.messages.pofile import read_po

from summit.core.rules.roles import Principal
from tests.support.app import Client
from tests.support.dutch import english_in
from tests.support.http import csrf_of, login
from tests.support.routes import ROOT, field_names, route_pattern, routes_of

#: Text that is not language: command lines and file names on the verification pages, code.
NOT_TEXT = re.compile(
    r"<(script|style|code|pre|kbd|samp|textarea)\b.*?</\1>|<!--.*?-->", re.S | re.I
)
SHOWN_ATTRIBUTES = re.compile(r'\b(?:title|placeholder|aria-label|alt)="([^"]*)"')


def visible_text(page: str) -> str:
    """What a reader sees or hears: text between tags and the attributes read aloud."""
    page = NOT_TEXT.sub(" ", page)
    attributes = " ".join(SHOWN_ATTRIBUTES.findall(page))
    text = re.sub(r"<[^>]+>", " ", page)
    text = re.sub(r"\bsummit [a-z]+ [a-z-]+(?: --[a-z-]+ [A-Z]+)?", " ", text)  # a command
    text = re.sub(r"\b[a-z_]+:\d+\b", " ", text)  # a reference in the audit log: theme:7
    text = re.sub(r"https?://\S+|/[\w./?=&%-]+|\S+@\S+", " ", text)  # addresses, paths, e-mail
    return html.unescape(text + " " + attributes)


# --- the walk ----------------------------------------------------------------------------------

LINK = re.compile(r'(?:href|action)="(/[^"#]*)"')
#: Pages a walk must not follow: they end the session or change the language.
NEVER = re.compile(r"^/logout|[?&]lang=|^/static/|\.(?:csv|json|pdf|zip|txt|ics|png|svg|ico)\b")


def _walk(client: Client, start: list[str], templates: list[str]) -> dict[str, str]:
    """Follow links from ``start``; one concrete path per route template (and every path of
    routes without parameters). Returns {path: html} of the pages that answered 200."""
    patterns = [(t, route_pattern(t)) for t in templates]
    seen_templates: set[str] = set()
    pages: dict[str, str] = {}
    queue = list(start)
    while queue:
        path = html.unescape(queue.pop(0))
        if path in pages or NEVER.search(path):
            continue
        bare = path.split("?", 1)[0]
        template = next((t for t, p in patterns if p.match(bare)), None)
        if template is None or (template in seen_templates and "{" in template):
            continue
        response = client.get(path, headers={"accept": "text/html"})
        if response.status_code != 200 or "text/html" not in response.headers.get(
            "content-type", ""
        ):
            continue
        seen_templates.add(template)
        pages[path] = response.text
        queue += LINK.findall(response.text)
    return pages


def _pages_of(client: Client, who: set[Principal], start: list[str]) -> dict[str, str]:
    routes = list(routes_of(client, who))
    gets = [t for t, methods in routes if "GET" in methods]
    return _walk(client, start + [t for t in gets if "{" not in t], gets)


#: Where keys are what the reader types: the organiser names the register's features.
TYPED_KEYS = re.compile(r"(?:e\.g\.|bijv\.) [\w, =:%-]+")


def _offences(pages: dict[str, str]) -> list[str]:
    out = []
    for path, page in pages.items():
        text = TYPED_KEYS.sub(" ", visible_text(page))
        found = english_in(text)
        if found:
            out.append(f"{path}: {found} in {_around(text, found)!r}")
    return out


def _around(text: str, found: list[str]) -> str:
    """The text around the first offending word, for the failure message."""
    text = " ".join(text.split())
    at = min((m.start() for w in found for m in re.finditer(re.escape(w), text)), default=0)
    return text[max(0, at - 60) : at + 60]


def _error_paths(
    client: Client, who: set[Principal], pages: dict[str, str], token: str
) -> Iterator[tuple[str, str]]:
    """Every POST route ``who`` may call, with bad input (each field 'x', and an empty body, as a
    form and as JSON): yields (request, the message a person reads) for each 4xx answer."""
    actions = {html.unescape(a) for page in pages.values() for a in LINK.findall(page)}
    bad = {name: "x" for name in field_names()}
    for template, methods in routes_of(client, who):
        if "POST" not in methods or template in {"/logout", "/login"}:
            continue
        pattern = route_pattern(template)
        paths = sorted(a for a in actions if pattern.match(a.split("?", 1)[0]))[:1]
        if "{" not in template:
            paths = [template]
        for path in paths:
            for label, body, kind in (
                ("form x", {"csrf_token": token, **bad}, "form"),
                ("form empty", {"csrf_token": token}, "form"),
                ("json x", bad, "json"),
                ("json empty", {}, "json"),
            ):
                headers = {"x-csrf-token": token}
                if kind == "json":
                    headers |= {"content-type": "application/json", "accept": "application/json"}
                    response = client.post(path, content=json.dumps(body), headers=headers)
                else:
                    headers["accept"] = "text/html"
                    response = client.post(path, data=body, headers=headers)
                if not 400 <= response.status_code < 500 or response.status_code == 405:
                    continue
                if response.headers.get("content-type", "").startswith("application/json"):
                    payload = response.json()
                    shown = json.dumps(
                        {k: v for k, v in payload.items() if k in {"error", "message", "errors"}},
                        ensure_ascii=False,
                    )
                    shown = re.sub(r'"(?:error|message|errors)"', " ", shown)
                    # "field: message": the field's key is for the client, which puts the
                    # message next to that field
                    shown = re.sub(r'"[\w\[\].-]+: ', '"', shown)
                else:
                    shown = TYPED_KEYS.sub(" ", visible_text(response.text))
                yield f"POST {path} [{label}] {response.status_code}", shown


def _walk_as(client: Client, who: set[Principal], start: list[str]) -> list[str]:
    pages = _pages_of(client, who, start)
    assert len(pages) >= len(start), sorted(pages)
    problems = _offences(pages)
    token = csrf_of(next(p for p in pages.values() if 'name="csrf_token"' in p))
    for request, shown in _error_paths(client, who, pages, token):
        found = english_in(shown)
        if found:
            problems.append(f"{request}: {found} in {_around(shown, found)!r}")
    return problems


def test_every_page_and_every_error_reads_dutch(demo_client: Any) -> None:
    client, info = demo_client
    staff = {Principal.PUBLIC, Principal.ORGANISER, Principal.MODERATOR}
    assert client.get("/?lang=nl").status_code in (200, 303)
    assert login(client, "organiser", info.organiser_password).status_code == 303
    problems = _walk_as(client, staff, ["/organiser/summit"])
    links = dict(info.links)
    assert client.get(links["resident (venue)"]).status_code == 303
    problems += _walk_as(client, {Principal.PARTICIPANT}, ["/me"])
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:200])


def test_no_dutch_translation_is_english_left_as_it_was() -> None:
    with (ROOT / "web" / "locale" / "nl" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    lazy = []
    for message in catalogue:
        if not message.id or isinstance(message.id, tuple):
            continue
        text = re.sub(r"%\(\w+\)\w|%\w|\{\w+\}", " ", str(message.string))
        text = TYPED_KEYS.sub(" ", text)
        if english_in(text):
            lazy.append(f"{message.id!r} -> {message.string!r}")
    assert not lazy, "\n".join(lazy[:40])


def test_the_check_sees_english_and_keys() -> None:
    assert english_in("seed: is empty") == ["empty"]
    assert english_in("sample_size: must be at least 1") == ["least", "must", "sample_size"]
    assert english_in("Rol: resident · venue") == ["resident", "venue"]
    assert english_in("Je stem is geteld. Bedankt!") == []
    assert visible_text('<p title="Sluiten">Hallo <script>let the = 1</script></p>').split() == [
        "Hallo",
        "Sluiten",
    ]
