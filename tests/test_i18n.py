"""Every text in the UI is translatable, and translated into every shipped language."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "web" / "locale"


def source_messages() -> set[str]:
    method_map = [("summit/**.py", "python"), ("web/templates/**.html", "jinja2")]
    options = {
        "web/templates/**.html": {
            "extensions": "jinja2.ext.i18n",
            "trim_blocks": "True",
            "lstrip_blocks": "True",
        }
    }
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT), method_map, options, keywords={"_": None, "gettext": None, "ngettext": (1, 2)}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_is_translated_into_every_catalogue() -> None:
    messages = source_messages()
    assert len(messages) > 100
    catalogues = sorted(LOCALES.glob("*/LC_MESSAGES/messages.po"))
    assert [c.parent.parent.name for c in catalogues] == ["nl"]
    for path in catalogues:
        with path.open("rb") as handle:
            catalogue = read_po(handle)
        translated = {
            m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.id and m.string
        }
        missing = sorted(messages - translated)
        assert not missing, (
            f"{path.parent.parent.name}: untranslated (run scripts/i18n): {missing[:5]}"
        )


def test_placeholders_survive_translation() -> None:
    import re

    with (LOCALES / "nl" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    for message in catalogue:
        translated = message.string if isinstance(message.string, str) else all(message.string)
        if message.id and translated:
            assert set(re.findall(r"%\(\w+\)s", str(message.id))) == set(
                re.findall(r"%\(\w+\)s", str(message.string))
            ), message.id


def test_templates_have_no_untranslated_sentences() -> None:
    """Visible text in templates sits inside _() — a crude but useful guard."""
    import re

    offenders = []
    for template in (ROOT / "web" / "templates").rglob("*.html"):
        text = template.read_text()
        text = re.sub(r"{#.*?#}|{%.*?%}|{{.*?}}|<[^>]+>|&\w+;", " ", text, flags=re.S)
        for word in re.findall(r"[A-Za-z]{4,}", text):
            offenders.append(f"{template.name}: {word}")
    assert offenders == []


def test_pybabel_can_compile_the_catalogues(tmp_path: Path) -> None:
    for po in LOCALES.glob("*/LC_MESSAGES/messages.po"):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "babel.messages.frontend",
                "compile",
                "-i",
                str(po),
                "-o",
                str(tmp_path / "m.mo"),
                "--statistics",
            ],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr


def test_text_written_before_any_app_starts_is_in_the_summits_language() -> None:
    """A command that writes text before an app has loaded the catalogues (``summit demo``
    writes the demo's Burgerbesluit) writes Dutch, not the English msgids."""
    program = (
        "from summit.core import i18n\n"
        "print(i18n.gettext('Log in'))\n"
        "with i18n.language('en'):\n"
        "    print(i18n.gettext('Log in'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["Inloggen", "Log", "in"]
