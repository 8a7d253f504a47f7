"""Dutch and English (and any other catalogue in ``web/locale``) through gettext catalogues.

The request's language lives in a context variable, so templates and Python code call the same
``gettext``. Catalogues are ``.po`` files compiled in memory at start-up: no build step.
"""

from __future__ import annotations

import gettext as _gettext
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}
_current: ContextVar[str] = ContextVar("summit_language", default="nl")
_catalogues: dict[str, _gettext.NullTranslations] = {}


#: Compiled catalogues by (file, modification time, size): an app made again in the same
#: process (the tests make one per test) does not parse an unchanged ``.po`` file again.
_compiled: dict[tuple[str, int, int], _gettext.GNUTranslations] = {}


def _compile(po: Path, lang: str) -> _gettext.GNUTranslations:
    stat = po.stat()
    key = (str(po.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _compiled:
        with po.open("rb") as handle:
            catalogue = read_po(handle, locale=lang)
        buffer = io.BytesIO()
        write_mo(buffer, catalogue)
        buffer.seek(0)
        _compiled[key] = _gettext.GNUTranslations(buffer)
    return _compiled[key]


def load_catalogues(locale_dir: Path) -> list[str]:
    """Compile each ``<lang>/LC_MESSAGES/messages.po`` in ``locale_dir``; return the languages."""
    _catalogues.clear()
    _catalogues["en"] = _gettext.NullTranslations()  # msgids are English
    for po in sorted(locale_dir.glob("*/LC_MESSAGES/messages.po")):
        lang = po.parent.parent.name
        _catalogues[lang] = _compile(po, lang)
    return sorted(_catalogues)


def _loaded() -> dict[str, _gettext.NullTranslations]:
    """The catalogues, loaded from the installation's ``web/locale`` (or ``SUMMIT_WEB_DIR``'s) on
    first use when no app has loaded them yet: a command that writes text before any app starts
    (``summit demo`` writes the demo's Burgerbesluit) still writes it in the summit's language."""
    if not _catalogues:
        web = os.environ.get("SUMMIT_WEB_DIR") or Path(__file__).resolve().parents[2] / "web"
        load_catalogues(Path(web) / "locale")
    return _catalogues


def available() -> list[str]:
    return sorted(_catalogues) or ["en"]


def set_language(lang: str) -> None:
    _current.set(lang if lang in _loaded() else "en")


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Messages in ``lang`` inside the block (a command, a job, a test), then as before."""
    token = _current.set(lang if lang in _loaded() else "en")
    try:
        yield
    finally:
        _current.reset(token)


def current_language() -> str:
    return _current.get()


def _translations() -> _gettext.NullTranslations:
    return _loaded().get(_current.get()) or _gettext.NullTranslations()


def gettext(message: str) -> str:
    return _translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations().ngettext(singular, plural, n)


_ = gettext
