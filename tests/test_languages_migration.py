"""Migration 0016: French and German, never translated, are no longer offered; summits,
participants and followers that had chosen them move to a complete language."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from summit.core import service as repository
from summit.core.db import Database, upgrade
from summit.core.models import Summit
from summit.core.rules.summit_spec import LANGUAGES
from tests.support.http import login

pytestmark = pytest.mark.anyio


async def test_french_and_german_summits_move_to_their_complete_languages(
    empty_db_url: str,
) -> None:
    assert LANGUAGES == ("nl", "en")
    await upgrade(empty_db_url, "0015")
    db = Database(empty_db_url)
    try:
        async with db.session() as session:
            ids = []
            for slug, languages, default in (
                ("fr-first", ["fr", "en", "de"], "fr"),
                ("only-de", ["de"], "de"),
                ("fine", ["nl", "en"], "en"),
            ):
                summit = await repository.create_summit(
                    session,
                    actor="S-test",
                    slug=slug,
                    name=slug,
                    municipality="Testdorp",
                    date=dt.date(2027, 3, 13),
                )
                summit.languages, summit.default_language = languages, default
                participant, _token = await repository.add_participant(
                    session, summit, actor="S-test", role="resident", first_name="Anna"
                )
                participant.language = default
                ids.append(summit.id)
        await upgrade(empty_db_url)
        async with db.session() as session:
            after = {
                s.slug: (s.languages, s.default_language)
                for s in (await session.execute(sa.select(Summit))).scalars()
            }
            spoken = dict(
                (
                    await session.execute(
                        sa.text("SELECT summit_id, language FROM participants ORDER BY id")
                    )
                ).all()
            )
        assert after == {
            "fr-first": (["en"], "en"),
            "only-de": (["nl"], "nl"),
            "fine": (["nl", "en"], "en"),
        }
        assert [spoken[i] for i in ids] == ["en", "nl", "en"]
    finally:
        await db.dispose()


def test_the_settings_offer_only_complete_languages(demo_client: Any) -> None:
    client, info = demo_client
    login(client, "organiser", info.organiser_password)
    page = client.get("/organiser/summit").text
    assert 'name="language_nl"' in page and 'name="language_en"' in page
    assert "language_fr" not in page and "Français" not in page and "Deutsch" not in page
