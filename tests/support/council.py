"""The Burgerraad through the real app: the organiser, the members and their browsers."""

from __future__ import annotations

import re
from collections.abc import Coroutine
from typing import Any, TypeVar, cast

from sqlalchemy import func, select

from summit.core import service as repository
from summit.core.models import AuditEntry, Participant
from summit.council import service as uc
from summit.council.rules.credentials import PublicKey, VotingKey
from summit.council.rules.voting import receipt_key
from tests.support.app import Client
from tests.support.http import csrf_of, login

T = TypeVar("T")


class Council:
    """The demo summit with helpers to act as the organiser or as one participant."""

    def __init__(self, client: Client, info: Any) -> None:
        self.client = client
        self.info = info
        self.summit_id = info.summit_id
        self.tokens: dict[int, str] = {}
        self.staff_cookies: dict[str, str] = {}

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return cast(T, self.client.run(coro))

    @property
    def key(self) -> bytes:
        return receipt_key(self.client.app.state.settings.secret_key)  # type: ignore[attr-defined]

    def as_organiser(self) -> None:
        self.client.cookies.clear()
        if self.staff_cookies:
            self.client.cookies.update(self.staff_cookies)
            return
        login(self.client, "organiser", self.info.organiser_password)
        self.staff_cookies = dict(self.client.cookies)

    def as_participant(self, pid: int) -> None:
        self.client.cookies.clear()
        if pid not in self.tokens:
            self.tokens[pid] = self.run(self._issue(pid))
        response = self.client.get(f"/p/{self.tokens[pid]}")
        assert response.status_code == 303, response.text

    async def _issue(self, pid: int) -> str:
        async with self.client.db.session() as session:
            participant = await session.get(Participant, pid)
            return await repository.issue_link(session, participant, actor="test", log=False)

    def csrf(self, path: str) -> str:
        return csrf_of(self.client.get(path).text)

    def post(self, path: str, data: dict[str, Any], page: str = "/") -> Any:
        token = self.csrf(page)
        return self.client.post(path, data={**data, "csrf_token": token})

    def participants(self) -> list[int]:
        async def go() -> list[int]:
            async with self.client.db.session() as session:
                return list(
                    (
                        await session.execute(
                            select(Participant.id)
                            .where(Participant.summit_id == self.summit_id)
                            .order_by(Participant.id)
                        )
                    ).scalars()
                )

        return self.run(go())

    def count(self, model: Any, *where: Any) -> int:
        async def go() -> int:
            async with self.client.db.session() as session:
                return int(
                    await session.scalar(select(func.count()).select_from(model).where(*where))
                )

        return self.run(go())

    def audit(self, action: str) -> list[dict[str, Any]]:
        async def go() -> list[dict[str, Any]]:
            async with self.client.db.session() as session:
                rows = (
                    await session.execute(
                        select(AuditEntry)
                        .where(AuditEntry.action == action)
                        .order_by(AuditEntry.seq)
                    )
                ).scalars()
                return [{"actor": r.actor, "subject": r.subject, **r.payload} for r in rows]

        return self.run(go())

    def member(self, pid: int, vote_id: int) -> Member:
        """The member's browser for one vote."""
        return Member(self, pid, vote_id)

    def cast(
        self, vote_id: int, pid: int, choices: dict[int, str], key: bytes | None = None
    ) -> list[uc.CastBallot]:
        """A member votes through the use cases in-process (their key asked for, signed, used)."""

        async def go() -> list[uc.CastBallot]:
            async with self.client.db.session() as session:
                return await uc.cast_ballots(
                    session,
                    summit_id=self.summit_id,
                    vote_id=vote_id,
                    participant_id=pid,
                    choices=choices,
                    key=key or self.key,
                )

        return self.run(go())

    def proposals(self, n: int) -> list[int]:
        """Write ``n`` proposals through the form (as the organiser, for a workshop)."""
        self.as_organiser()
        ids = []
        for i in range(n):
            response = self.post(
                "/council/proposals",
                {
                    "title": f"Voorstel {i + 1}",
                    "problem": "Te weinig groen",
                    "text": f"Plant {10 * (i + 1)} bomen",
                    "who_acts": "De gemeente",
                    "cost": "€ 10.000",
                },
                "/council/proposals",
            )
            assert response.status_code == 303, response.text
            ids.append(int(response.headers["location"].rsplit("/", 1)[1]))
        return ids

    def council_vote(self, proposal_ids: list[int], title: str = "Burgerraad 1") -> int:
        self.as_organiser()
        response = self.post(
            "/council/votes", {"title": title, "proposals": proposal_ids}, "/council"
        )
        assert response.status_code == 303, response.text
        return int(response.headers["location"].split("/")[3])


class Member:
    """A member's browser: it makes the voting key, asks for it with the member's session
    (``…/key``) and votes without any session (``…/ballot``), as ``council.js`` does."""

    def __init__(self, council: Council, pid: int, vote_id: int) -> None:
        self.council = council
        self.pid = pid
        self.vote = vote_id
        self.key: VotingKey | None = None
        self.csrf = ""

    @property
    def client(self) -> Client:
        return self.council.client

    def page(self) -> str:
        self.council.as_participant(self.pid)
        response = self.client.get(f"/council/votes/{self.vote}")
        assert response.status_code == 200, response.text
        return response.text

    def ask(self, *, reopen: bool = True) -> Any:
        """Ask for the voting key (again); unblinds it once the server has signed it."""
        if reopen:
            page = self.page()
            found = re.search(r'data-key-n="([0-9a-f]+)" data-key-e="(\d+)"', page)
            if self.key is None and found:
                public = PublicKey(int(found.group(1), 16), int(found.group(2)))
                self.key = VotingKey.new(public, self.vote)
            csrf = re.search(r'data-csrf="([^"]+)"', page)
            assert csrf
            self.csrf = csrf.group(1)
        response = self.client.post(
            f"/council/votes/{self.vote}/key",
            json={"blinded": format(self.key.blinded, "x") if self.key else "1"},
            headers={"x-csrf-token": self.csrf, "accept": "application/json"},
        )
        if response.status_code == 200 and response.json()["status"] == "signed":
            assert self.key is not None
            self.key.unblind(int(response.json()["blind_signature"], 16))
        return response

    def cast(self, choices: dict[int, str]) -> Any:
        """Send a ballot with the key and no session (the browser omits its cookies)."""
        assert self.key is not None and self.key.signature is not None
        self.client.cookies.clear()
        return self.client.post(
            f"/council/votes/{self.vote}/ballot",
            json={
                "secret": self.key.secret,
                "signature": format(self.key.signature, "x"),
                "choices": {str(p): c for p, c in choices.items()},
            },
            headers={"accept": "application/json"},
        )


def open_vote(council: Council, proposals: list[int]) -> int:
    vote = council.council_vote(proposals)
    assert council.post(f"/council/votes/{vote}/open", {}, "/council").status_code == 303
    return vote
