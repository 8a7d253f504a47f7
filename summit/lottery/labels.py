"""What residents read for the demographic questions: labels per language, set by the organiser.

The questions and their answers come from the register extract (the population the quotas are
measured against) or, before an import, from the summit's settings. Their names are keys
(``age_band``, ``female``); what a resident reads is a label. The organiser may set a label per
language for every question and answer (stored in ``Summit.features[i]["labels"][lang]``, the
question under ``"_"``); where none is set, a built-in translation of the common keys is used,
and for anything else the key itself (a wijk's name is its own label).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core.errors import InvalidInput
from summit.core.i18n import current_language
from summit.core.i18n import gettext as _
from summit.core.labels import built_in_feature_labels
from summit.core.models import Summit
from summit.lottery.models import RegisterImport

#: The question's own label sits under this key among the value labels.
QUESTION = "_"
MAX_LABEL = 120


@dataclass(frozen=True)
class Question:
    """One demographic question: its key and label, and its answers as (value, label)."""

    name: str
    label: str
    options: tuple[tuple[str, str], ...]

    @property
    def values(self) -> list[str]:
        return [value for value, _label in self.options]


def _labels(feature: Mapping[str, Any], lang: str) -> Mapping[str, str]:
    labels = feature.get("labels") or {}
    chosen = labels.get(lang) if isinstance(labels, Mapping) else None
    return chosen if isinstance(chosen, Mapping) else {}


def _options(feature: Mapping[str, Any], imported: RegisterImport | None) -> list[str]:
    name = str(feature.get("name", ""))
    if imported is not None and imported.counts.get(name):
        return sorted(imported.counts[name])  # the register's own values: what quotas count
    return [str(v) for v in feature.get("values", []) or []]


def questions(
    summit: Summit, imported: RegisterImport | None, lang: str | None = None
) -> list[Question]:
    """The summit's questions in ``lang`` (default: the current language)."""
    lang = lang or current_language()
    built_in = built_in_feature_labels()
    out = []
    for feature in summit.features or []:
        name = str(feature.get("name", ""))
        own = _labels(feature, lang)
        options = tuple(
            (value, own.get(value) or built_in.get(value, value))
            for value in _options(feature, imported)
        )
        out.append(Question(name, own.get(QUESTION) or built_in.get(name, name), options))
    return out


def label_form(
    summit: Summit, imported: RegisterImport | None, languages: Sequence[str]
) -> list[dict[str, Any]]:
    """What the organiser's label form shows: per question, its values and their labels."""
    rows = []
    for feature in summit.features or []:
        name = str(feature.get("name", ""))
        rows.append(
            {
                "name": name,
                "values": _options(feature, imported),
                "labels": {lang: dict(_labels(feature, lang)) for lang in languages},
            }
        )
    return rows


def apply_labels(
    summit: Summit, form: Mapping[str, str], languages: Sequence[str]
) -> list[dict[str, Any]]:
    """The summit's features with the labels of ``form`` (``label:LANG:NAME:VALUE`` fields).

    An empty field removes the label (the built-in one shows again). Returns the new list;
    the caller stores it. Raises :class:`InvalidInput` naming the first label that is too long.
    """
    features = [dict(feature) for feature in summit.features or []]
    for feature in features:
        name = str(feature.get("name", ""))
        labels: dict[str, dict[str, str]] = {}
        for lang in languages:
            prefix = f"label:{lang}:{name}:"
            chosen = {}
            for key, text in form.items():
                if not key.startswith(prefix):
                    continue
                text = " ".join(str(text).split())
                if len(text) > MAX_LABEL:
                    raise InvalidInput(key, _("at most %(n)s characters") % {"n": MAX_LABEL})
                if text:
                    chosen[key.removeprefix(prefix) or QUESTION] = text
            if chosen:
                labels[lang] = chosen
        feature["labels"] = labels
    return features


async def save_labels(
    session: AsyncSession,
    summit: Summit,
    form: Mapping[str, str],
    languages: Sequence[str],
    *,
    actor: str,
) -> None:
    """Store the organiser's labels (all languages at once) and log the change."""
    summit.features = apply_labels(summit, form, languages)
    await audit.append(
        session,
        actor=actor,
        action="summit.labels",
        subject=f"summit:{summit.id}",
        summit_id=summit.id,
        payload={"labels": {str(f.get("name")): f.get("labels", {}) for f in summit.features}},
    )
