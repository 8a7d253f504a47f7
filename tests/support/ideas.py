"""Ideas at the tables: cheap embeddings, the people of one table, recording as them."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select

from summit.core import service as repository
from summit.core.models import Participant, Round, Seat
from summit.ideas import service as ideas
from summit.ideas.models import Idea
from summit.ideas.themes import ThemeService
from tests.support.app import Client


class TrigramEmbedder:
    """Cheap, deterministic embeddings (hashed character trigrams) for tests about the platform,
    not the model: similar wording gives similar vectors."""

    model_id = "test/trigram-hash"
    duplicate_threshold = 0.9

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        out = np.zeros((len(texts), 256), np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                padded = f" {word} "
                for i in range(len(padded) - 2):
                    out[row, zlib.crc32(padded[i : i + 3].encode()) % 256] += 1.0
        norms = np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return (out / norms).astype(np.float32)


def cheap_themes(client: Client) -> ThemeService:
    """Give the app a theme service with trigram embeddings (no model load)."""
    service = ThemeService(client.db, client.app.state.bus, embedder=TrigramEmbedder())  # type: ignore[attr-defined]
    client.app.state.theme_service = service  # type: ignore[attr-defined]
    return service


@dataclass
class Person:
    id: int
    pseudonym: str
    table_id: int
    link: str


async def table_people(client: Client) -> dict[str, Person]:
    """A host and a member of one table, and a member of another table, with fresh links."""
    async with client.db.session() as session:
        rnd = await session.scalar(select(Round).where(Round.status == "open"))
        seats = list((await session.execute(select(Seat).where(Seat.round_id == rnd.id))).scalars())
        host_seat = next(s for s in seats if s.is_host)
        member_seat = next(s for s in seats if s.table_id == host_seat.table_id and not s.is_host)
        other_seat = next(s for s in seats if s.table_id != host_seat.table_id and not s.is_host)
        found = {}
        for name, seat in (("host", host_seat), ("member", member_seat), ("other", other_seat)):
            participant = await session.get(Participant, seat.participant_id)
            assert participant is not None
            token = await repository.issue_link(session, participant, actor="test", log=False)
            found[name] = Person(
                participant.id, participant.pseudonym, seat.table_id, f"/p/{token}"
            )
        return found


def become(client: Client, person: Person) -> str:
    """Open the person's link in the client; returns the CSRF token of their ideas page."""
    client.cookies.clear()
    assert client.get(person.link).status_code == 303
    page = client.get("/me/ideas")
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text) or re.search(
        r'data-csrf="([^"]+)"', page.text
    )
    assert match
    return match.group(1)


def post_idea(client: Client, csrf: str, key: str | None = None, **body: Any) -> Any:
    headers = {"x-csrf-token": csrf}
    if key:
        headers["idempotency-key"] = key
    return client.post("/api/ideas", json=body, headers=headers)


def count_ideas(client: Client, **where: Any) -> int:
    async def go() -> int:
        async with client.db.session() as session:
            query = select(func.count()).select_from(Idea)
            for name, value in where.items():
                query = query.where(getattr(Idea, name) == value)
            return int(await session.scalar(query) or 0)

    return int(client.run(go()))


def open_recording(client: Client) -> tuple[str, str]:
    """Let every table member record ideas; links of two people at different tables."""

    async def go() -> tuple[str, str]:
        async with client.db.session() as session:
            summit_row = await repository.current_summit(session)
            assert summit_row is not None
            await ideas.set_who_records(session, summit_row.id, "table", actor="S-test")
            current = await repository.open_round(session, summit_row.id)
            assert current is not None
            seats = list(await session.scalars(select(Seat).where(Seat.round_id == current.id)))
            first = seats[0]
            second = next(seat for seat in seats if seat.table_id != first.table_id)
            links = []
            for seat in (first, second):
                person = await session.get(Participant, seat.participant_id)
                assert person is not None
                links.append("/p/" + await repository.issue_link(session, person, actor="S-test"))
            return links[0], links[1]

    return client.run(go())  # type: ignore[no-any-return]
