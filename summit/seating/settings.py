"""The seating settings of a summit (table size, rounds, groups kept apart, venue areas, topics…)
as the organiser sets them, checked field by field, and the inputs a seating is computed from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _
from summit.core.models import Participant as ParticipantRow
from summit.core.models import Summit, utcnow
from summit.seating.models import SeatingConfig

MAX_ROUNDS = 12


def feature_names(summit: Summit) -> list[str]:
    names = []
    for feature in summit.features or []:
        name = feature.get("name") if isinstance(feature, dict) else feature
        if isinstance(name, str) and name:
            names.append(name)
    return names


async def get_settings(session: AsyncSession, summit: Summit) -> SeatingConfig:
    """The summit's seating settings; defaults from the summit (table size, features)."""
    config = await session.scalar(select(SeatingConfig).where(SeatingConfig.summit_id == summit.id))
    if config is None:
        config = SeatingConfig(
            summit_id=summit.id,
            rounds=4,
            table_size=summit.table_size or 8,
            features=feature_names(summit),
            hosts_stay=True,
            hybrid_tables=0,
            remote_seats_per_hybrid_table=0,
            venue_areas=[],
            keep_together=[],
            keep_apart=[],
            fixed_tables={},
            effort=1.0,
            topics=[],
        )
        session.add(config)
        await session.flush()
    return config


def _groups(value: Any, name: str) -> list[list[str]]:
    if not isinstance(value, list):
        raise InvalidInput(name, _("give a list of groups of pseudonyms"))
    groups = []
    for i, group in enumerate(value, start=1):
        if not isinstance(group, list | tuple) or len(group) < 2:
            raise InvalidInput(name, _("group %(i)s needs at least two pseudonyms") % {"i": i})
        members = sorted({str(m).strip() for m in group if str(m).strip()})
        if len(members) < 2:
            raise InvalidInput(
                name, _("group %(i)s needs at least two different pseudonyms") % {"i": i}
            )
        groups.append(members)
    return groups


_WHOLE = {
    "rounds": (1, MAX_ROUNDS),
    "table_size": (2, 30),
    "hybrid_tables": (0, 1000),
    "remote_seats_per_hybrid_table": (0, 10),
}


def _whole(key: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(key, _("must be a whole number"))
    low, high = _WHOLE[key]
    if not low <= value <= high:
        raise InvalidInput(
            key, _("must be between %(low)s and %(high)s") % {"low": low, "high": high}
        )
    return value


def _features(value: Any, known: set[str]) -> list[str]:
    features = [str(f) for f in value]
    unknown = [f for f in features if f not in known]
    if unknown:
        raise InvalidInput(
            "features", _("%(unknown)r is not a feature of this summit") % {"unknown": unknown[0]}
        )
    return list(dict.fromkeys(features))


def _effort(value: Any) -> float:
    if not isinstance(value, int | float) or not 0 < float(value) <= 10:
        raise InvalidInput("effort", _("must be a number above 0 and at most 10"))
    return float(value)


def _areas(value: Any) -> list[dict[str, Any]]:
    areas = []
    for area in value:
        label, tables = str(area["label"]).strip(), area["tables"]
        if not label or not isinstance(tables, int) or tables < 1:
            raise InvalidInput(
                "venue_areas", _("%(area)r: give a name and tables ≥ 1") % {"area": area}
            )
        areas.append({"label": label[:64], "tables": tables})
    return areas


def _fixed(value: Any) -> dict[str, int]:
    fixed: dict[str, int] = {}
    for pid, number in dict(value).items():
        if not isinstance(number, int) or number < 1:
            raise InvalidInput("fixed_tables", _("%(pid)s: give a table number ≥ 1") % {"pid": pid})
        fixed[str(pid).strip()] = number
    return fixed


def _topics(value: Any) -> list[str]:
    topics = [str(t).strip()[:200] for t in value if str(t).strip()]
    if len(set(topics)) != len(topics):
        raise InvalidInput("topics", _("each topic may appear only once"))
    return topics


def _setting(key: str, value: Any, known_features: set[str]) -> Any:
    """The checked value of one setting; ``InvalidInput`` names the setting."""
    if key in _WHOLE:
        return _whole(key, value)
    if key == "features":
        return _features(value, known_features)
    if key == "hosts_stay":
        return bool(value)
    if key == "effort":
        return _effort(value)
    if key == "venue_areas":
        return _areas(value)
    if key in {"keep_together", "keep_apart"}:
        return _groups(value, key)
    if key == "fixed_tables":
        return _fixed(value)
    if key == "topics":
        return _topics(value)
    raise InvalidInput(key, _("is not a seating setting"))


async def _check_named(session: AsyncSession, summit: Summit, config: SeatingConfig) -> None:
    """Every pseudonym the constraints name is a participant of the summit."""
    pseudonyms = set(
        (
            await session.execute(
                select(ParticipantRow.pseudonym).where(ParticipantRow.summit_id == summit.id)
            )
        ).scalars()
    )
    named = [
        *(m for g in config.keep_together for m in g),
        *(m for g in config.keep_apart for m in g),
        *config.fixed_tables,
    ]
    for pid in named:
        if pid not in pseudonyms:
            raise InvalidInput(
                "constraints", _("%(pid)r is not a participant of this summit") % {"pid": pid}
            )


async def save_settings(
    session: AsyncSession, summit: Summit, *, actor: str, **values: Any
) -> SeatingConfig:
    """Change the seating settings; unknown pseudonyms and features are refused by name."""
    config = await get_settings(session, summit)
    known_features = set(feature_names(summit))
    for key, value in values.items():
        if value is not None:
            setattr(config, key, _setting(key, value, known_features))
    await _check_named(session, summit, config)
    config.updated_at = utcnow()
    await audit.append(
        session,
        actor=actor,
        action="seating.settings",
        subject=f"summit:{summit.id}",
        summit_id=summit.id,
        payload=settings_payload(config),
    )
    return config


def settings_payload(config: SeatingConfig) -> dict[str, Any]:
    return {
        "rounds": config.rounds,
        "table_size": config.table_size,
        "features": list(config.features),
        "hosts_stay": config.hosts_stay,
        "hybrid_tables": config.hybrid_tables,
        "remote_seats_per_hybrid_table": config.remote_seats_per_hybrid_table,
        "venue_areas": list(config.venue_areas),
        "keep_together": list(config.keep_together),
        "keep_apart": list(config.keep_apart),
        "fixed_tables": dict(config.fixed_tables),
        "effort": config.effort,
    }


async def selected_participants(session: AsyncSession, summit_id: int) -> list[ParticipantRow]:
    """Who is seated: selected participants (not withdrawn, not reserves)."""
    return list(
        (
            await session.execute(
                select(ParticipantRow)
                .where(ParticipantRow.summit_id == summit_id, ParticipantRow.status == "selected")
                .order_by(ParticipantRow.pseudonym)
            )
        ).scalars()
    )


def participant_record(p: ParticipantRow, features: Sequence[str]) -> dict[str, Any]:
    values = dict(p.features or {})
    return {
        "id": p.pseudonym,
        "role": p.role,
        "mode": p.attendance,
        # only the features that are balanced enter the inputs (and the hash)
        "features": {f: str(values[f]) for f in features if f in values},
    }


async def mixed_inputs(
    session: AsyncSession, summit: Summit, config: SeatingConfig
) -> dict[str, Any]:
    people = await selected_participants(session, summit.id)
    return {
        "kind": "mixed",
        "participants": [participant_record(p, config.features) for p in people if not p.is_host],
        "hosts": [{"id": p.pseudonym, "mode": p.attendance} for p in people if p.is_host],
        "settings": settings_payload(config),
    }
