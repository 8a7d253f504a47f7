"""Reading a page's forms as a browser would (stdlib HTML parser), to check that a refused form
came back with what was typed and the message by the field (``summit.core.forms``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from summit.core import i18n


@dataclass
class Control:
    tag: str
    attrs: dict[str, str]
    options: list[tuple[str, bool]] = field(default_factory=list)  # (value, selected)
    text: str = ""

    @property
    def value(self) -> str | list[str]:
        """What the browser would send: text, the selected option(s), a checkbox's value."""
        if self.tag == "textarea":
            return self.text[1:] if self.text.startswith("\n") else self.text
        if self.tag == "select":
            chosen = [v for v, selected in self.options if selected]
            if "multiple" in self.attrs:
                return chosen
            return chosen[0] if chosen else (self.options[0][0] if self.options else "")
        return self.attrs.get("value", "")


@dataclass
class Form:
    action: str
    controls: list[Control] = field(default_factory=list)

    def named(self, name: str) -> list[Control]:
        return [c for c in self.controls if c.attrs.get("name") == name]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.texts: dict[str, str] = {}  # element id -> its text
        self.links: list[str] = []  # href of links inside role="alert" blocks
        self._form: Form | None = None
        self._control: Control | None = None
        self._option: list[str] | None = None
        self._open: list[tuple[str, str | None, bool]] = []  # (tag, id, in alert)

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        in_alert = bool(self._open and self._open[-1][2]) or attrs.get("role") == "alert"
        if tag not in ("input", "br", "img", "meta", "link", "hr", "option"):
            self._open.append((tag, attrs.get("id"), in_alert))
        if tag == "a" and in_alert:
            self.links.append(attrs.get("href", ""))
        if tag == "form":
            self._form = Form(attrs.get("action", ""))
            self.forms.append(self._form)
        elif tag in ("input", "textarea", "select", "button") and self._form is not None:
            control = Control(tag, attrs)
            self._form.controls.append(control)
            self._control = control if tag in ("textarea", "select") else None
        elif tag == "option" and self._control is not None:
            value = attrs.get("value")
            self._control.options.append((value or "", "selected" in attrs))
            self._option = [] if value is None else None  # its text is its value

    def handle_endtag(self, tag: str) -> None:
        if tag in ("option", "select"):
            self._option = None
        if tag == "form":
            self._form = None
        if tag in ("textarea", "select"):
            self._control = None
        while self._open:
            open_tag, _id, _alert = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._option is not None and self._control is not None and self._control.options:
            value, selected = self._control.options[-1]
            self._control.options[-1] = ((value + data).strip(), selected)
        for _tag, element_id, _alert in self._open:
            if element_id:
                self.texts[element_id] = self.texts.get(element_id, "") + data
        if self._control is not None and self._control.tag == "textarea":
            self._control.text += data


def parse(page: str) -> _Parser:
    parser = _Parser()
    parser.feed(page)
    parser.close()
    return parser


def assert_kept(page: str, action: str, typed: dict[str, str], field: str, message: str) -> None:
    """``page`` is the form posting to ``action`` shown again: each typed value is in its
    control, the named field is marked invalid and described by ``message``, and a summary
    with role="alert" links to the field."""
    parsed = parse(page)
    forms = [f for f in parsed.forms if f.action == action]
    assert forms, f"no form posting to {action} on the page"
    form = forms[0]
    for name, value in typed.items():
        controls = form.named(name)
        assert controls, f"no field {name!r} in the form"
        boxes = [c for c in controls if c.attrs.get("type") in ("checkbox", "radio")]
        if boxes:
            ticked = [c.attrs.get("value", "on") for c in boxes if "checked" in c.attrs]
            assert value in ticked, (name, value, ticked)
            continue
        assert controls[0].value == value, (name, value, controls[0].value)
    # the control the message belongs to: the one with the field's id (a button standing for a
    # hidden value), else the first of that name
    failed = [c for c in form.controls if c.attrs.get("id") == f"f-{field}"] or form.named(field)
    assert failed, f"no field {field!r} in the form"
    control = failed[0]
    assert control.attrs.get("aria-invalid") == "true", (field, control.attrs)
    described = control.attrs.get("aria-describedby", "").split()
    texts = [parsed.texts.get(i, "").strip() for i in described]
    assert message in texts, (field, message, texts)
    field_id = control.attrs.get("id", "")
    assert field_id and f"#{field_id}" in parsed.links, (field_id, parsed.links)


#: The password of the staff users these tests make.
PASSWORD = "a long test password"

LOCALE = Path(__file__).resolve().parents[2] / "web" / "locale"


def dutch(message: str, **values: Any) -> str:
    """``message`` as the Dutch catalogue gives it, formatted with ``values``."""
    if "nl" not in i18n.available():  # no app was made in this process yet
        i18n.load_catalogues(LOCALE)
    with i18n.language("nl"):
        text = i18n.gettext(message)
    return text % values if values else text
