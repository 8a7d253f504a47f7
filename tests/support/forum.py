"""The Burgerforum's world: a small summit on the forum and helpers to act as anyone in it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from summit.core import service as repository
from summit.core.models import AuditEntry, SummitTable
from summit.core.security import token_hash
from summit.council import proposals as council
from summit.forum.models import ForumSettings
from summit.ideas.models import Idea, Theme
from summit.lottery.models import Invitation
from tests.support.app import Client
from tests.support.http import csrf_of, login

CODE = "K7M3QX9PTR"
WITHDRAWN = "W2W3W4W5W6"


@dataclass
class World:
    """A small summit on the forum: three proposals (one from a theme), six participants, two
    letter codes, staff; helpers to act as anyone."""

    client: Client
    summit_id: int
    passwords: dict[str, str]
    proposals: list[int]
    participants: list[tuple[int, str, str]]  # id, pseudonym, link token
    theme_id: int
    staff_cookies: dict[str, dict[str, str]] = field(default_factory=dict)

    def run(self, coro: Any) -> Any:
        return self.client.run(coro)

    def anonymous(self) -> None:
        self.client.cookies.clear()
        self.client.get("/forum?lang=en")

    def staff(self, role: str) -> None:
        self.client.cookies.clear()
        if role not in self.staff_cookies:
            assert login(self.client, role, self.passwords[role]).status_code == 303
            self.staff_cookies[role] = dict(self.client.cookies)
        self.client.cookies.update(self.staff_cookies[role])
        self.client.get("/forum?lang=en")

    def participant(self, index: int) -> str:
        self.client.cookies.clear()
        assert self.client.get(f"/p/{self.participants[index][2]}").status_code == 303
        self.client.get("/forum?lang=en")
        return self.participants[index][1]

    def post(self, path: str, data: dict[str, Any], page: str = "/forum/take-part") -> Any:
        """POST a form with the session's CSRF token (read from ``page``, or any page with a
        form: the token is per session)."""
        found = re.search(r'name="csrf_token" value="([^"]+)"', self.client.get(page).text)
        token = found.group(1) if found else csrf_of(self.client.get("/forum/take-part").text)
        # the token first, as in every form of the site (large bodies are checked by it)
        return self.client.post(path, data={"csrf_token": token, **data})

    def count(self, model: Any, *where: Any) -> int:
        async def go() -> int:
            async with self.client.db.session() as session:
                found = await session.scalar(select(func.count()).select_from(model).where(*where))
                return int(found or 0)

        return int(self.run(go()))

    def audit(self, action: str) -> list[AuditEntry]:
        async def go() -> list[AuditEntry]:
            async with self.client.db.session() as session:
                rows = await session.execute(
                    select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
                )
                return list(rows.scalars())

        return list(self.run(go()))

    def settings(self, **values: Any) -> None:
        async def go() -> None:
            async with self.client.db.session() as session:
                row = await session.scalar(
                    select(ForumSettings).where(ForumSettings.summit_id == self.summit_id)
                )
                assert row is not None
                for key, value in values.items():
                    setattr(row, key, value)

        self.run(go())

    def react(self, proposal: int, stance: str, text: str) -> Any:
        return self.post(f"/forum/proposals/{proposal}/react", {"stance": stance, "text": text})

    def with_code(self, code: str = CODE) -> Any:
        return self.post("/forum/take-part", {"method": "letter_code", "code": code})


async def build_world(client: Client) -> World:
    passwords = {"organiser": "organiser-pass-1", "moderator": "moderator-pass-1"}
    async with client.db.session() as session:
        for role, password in passwords.items():
            await repository.add_staff_user(session, role, password, role)
        summit = await repository.create_summit(
            session,
            actor="test",
            slug="forum-test",
            name="G1000 Teststad",
            municipality="Teststad",
            languages=["nl", "en"],
            default_language="nl",
            phase="forum",
            public_seed="forum-test-seed",
        )
        people = []
        for i in range(6):
            participant, token = await repository.add_participant(
                session, summit, actor="test", role="resident", first_name=f"P{i}"
            )
            people.append((participant.id, participant.pseudonym, token))
        table = SummitTable(summit_id=summit.id, number=7, kind="venue")
        theme = Theme(summit_id=summit.id, label="Fietsen")
        session.add_all([table, theme])
        await session.flush()
        for title in ("Fietspad langs de school", "Meer fietsenstallingen"):
            session.add(
                Idea(summit_id=summit.id, table_id=table.id, title=title, theme_id=theme.id)
            )
        for code, status in ((CODE, "sent"), (WITHDRAWN, "withdrawn")):
            session.add(Invitation(summit_id=summit.id, code_hash=token_hash(code), status=status))
        ids = []
        for n, title in enumerate(("Veilige fietsroutes", "Buurthuizen", "Moestuinen")):
            content = council.ProposalText(title=title, text=f"Voorstel {n}: {title}")
            created = await council.create_proposal(
                session,
                summit,
                actor="test",
                content=content,
                theme_id=theme.id if n == 0 else None,
            )
            ids.append(created.id)
        session.add(
            ForumSettings(
                summit_id=summit.id,
                open=True,
                methods=["letter_code", "postcode", "email"],
                postcodes=["1234", "5678AB"],
                max_length=200,
                per_hour=5,
                map_seed="",
            )
        )
        return World(client, summit.id, passwords, ids, people, theme.id)
