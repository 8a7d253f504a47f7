"""Every form in the templates posts to a route that exists, with the form's method.

A button whose form posts to a path no route serves answers 404 only when someone presses it;
this finds it from the templates and the application's route table, without a browser. Template
expressions in an action (``/forum/workshops/{{ w.id }}/meetings``) stand for a number."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from starlette.routing import Match, Route, WebSocketRoute

import summit
from summit.app import routes

TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates"
FORM = re.compile(r"<form\b([^>]*)>", re.S)
ATTRIBUTE = re.compile(r"""\b(action|method)\s*=\s*"([^"]*)\"""", re.S)
EXPRESSION = re.compile(r"\{\{.*?\}\}", re.S)


def _forms() -> list[tuple[str, str, str]]:
    """(template, method, path) of every form with a literal or templated action."""
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        for attributes in FORM.findall(template.read_text()):
            fields = dict(ATTRIBUTE.findall(attributes))
            action = fields.get("action", "")
            if not action.startswith("/") or "{%" in action:
                continue
            path = EXPRESSION.sub("1", action).split("?", 1)[0].split("#", 1)[0]
            method = fields.get("method", "get").upper()
            found.append((str(template.relative_to(TEMPLATES)), method, path))
    return found


def _served(method: str, path: str) -> bool:
    scope = {"type": "http", "path": path, "method": method}
    return any(
        isinstance(route, Route) and route.matches(scope)[0] == Match.FULL for route in routes()
    )


def test_the_scan_finds_the_forms_and_tells_a_missing_route() -> None:
    forms = _forms()
    assert len(forms) > 80
    assert ("lottery/selection.html", "POST", "/organiser/selection/stop") in forms
    assert not _served("POST", "/organiser/selection/no-such-button")
    assert not _served("GET", "/organiser/selection/cancel")  # POST only


def test_every_form_posts_to_a_route_with_its_method() -> None:
    missing = [form for form in _forms() if not _served(form[1], form[2])]
    assert not missing, missing


def test_every_page_a_view_module_defines_is_in_the_route_table() -> None:
    """A view decorated with ``@page``/``@socket`` but left out of its part's ``routes`` list is
    served by nobody; every such route object in ``summit`` must be in the application's table."""
    table = {id(route) for route in routes()}
    left_out = []
    for module_info in pkgutil.walk_packages(summit.__path__, "summit."):
        if ".migrations" in module_info.name or module_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            defined_here = getattr(getattr(value, "endpoint", None), "__module__", module.__name__)
            if (
                isinstance(value, Route | WebSocketRoute)
                and defined_here == module.__name__
                and id(value) not in table
            ):
                left_out.append(f"{module.__name__}.{name} ({value.path})")
    assert not left_out, left_out
