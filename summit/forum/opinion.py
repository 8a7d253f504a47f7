"""The opinion map's data and its live state: statements (a proposal's key points and accepted
reactions), agree/disagree/pass votes, and one in-process map per summit kept up to date as
votes arrive.

The algorithm is ``summit.forum.rules.opinion_map`` (pure, deterministic given the votes and the
seed); this module only feeds it. Each app process keeps its own map: a vote placed here is
applied at once; votes placed through another process are read back (by ``updated_at``) the next
time the map is asked for, and a change of statements rebuilds it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core.db import Database, rows_of
from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _
from summit.core.models import Summit, utcnow
from summit.forum import mapping
from summit.forum.models import Reaction, Reactor, Statement, StatementVote
from summit.forum.proposals import forum_proposal
from summit.forum.settings import forum_settings

VALUES = {"agree": 1, "disagree": -1, "pass": 0}
MAX_STATEMENT = 500
#: Votes read back from other processes overlap by this much (clocks of app workers differ).
_OVERLAP = dt.timedelta(seconds=2)
#: How long a map is served without asking the database what other processes changed.
FRESH = 1.0


# --- statements ---------------------------------------------------------------------------------


async def statements(session: AsyncSession, summit_id: int) -> list[Statement]:
    """Active statements in the order they were added."""
    where = (Statement.summit_id == summit_id, Statement.status == "active")
    return await rows_of(session, Statement, *where, order_by=Statement.id)


async def _log_statement(session: AsyncSession, statement: Statement, actor: str) -> None:
    await audit.append(
        session,
        actor=actor,
        action="forum.statement",
        subject=f"statement:{statement.id}",
        summit_id=statement.summit_id,
        payload={
            "proposal": statement.proposal_id,
            "kind": statement.kind,
            "reaction": statement.reaction_id,
            "text": statement.text,
        },
    )


async def add_key_point(
    session: AsyncSession, summit: Summit, *, actor: str, proposal_id: int, text: str
) -> Statement:
    await forum_proposal(session, summit.id, proposal_id)
    clean = (text or "").strip()
    if not clean:
        raise InvalidInput("statement", _("Write the key point as one short sentence."))
    if len(clean) > MAX_STATEMENT:
        raise InvalidInput(
            "statement", _("Keep a statement under %(max)s characters.") % {"max": MAX_STATEMENT}
        )
    statement = Statement(
        summit_id=summit.id, proposal_id=proposal_id, kind="key_point", text=clean, created_by=actor
    )
    session.add(statement)
    await session.flush()
    await _log_statement(session, statement, actor)
    return statement


async def accept_reaction(
    session: AsyncSession, summit: Summit, reaction_id: int, *, actor: str
) -> Statement:
    """A visible reaction becomes a statement everyone can vote on."""
    reaction = await session.get(Reaction, reaction_id)
    if reaction is None or reaction.summit_id != summit.id or reaction.status != "visible":
        raise InvalidInput("reaction", _("Only a visible reaction can become a statement."))
    if len(reaction.text) > MAX_STATEMENT:
        raise InvalidInput(
            "reaction",
            _("Keep a statement under %(max)s characters.") % {"max": MAX_STATEMENT},
        )
    known = await session.scalar(select(Statement).where(Statement.reaction_id == reaction.id))
    if known is not None:
        raise InvalidInput("reaction", _("This reaction is already a statement."))
    statement = Statement(
        summit_id=summit.id,
        proposal_id=reaction.proposal_id,
        reaction_id=reaction.id,
        kind="reaction",
        text=reaction.text,
        created_by=actor,
    )
    session.add(statement)
    await session.flush()
    await _log_statement(session, statement, actor)
    return statement


# --- votes --------------------------------------------------------------------------------------


async def vote(
    session: AsyncSession, summit_id: int, *, reactor: Reactor, statement_id: int, choice: str
) -> StatementVote:
    """Agree, disagree or pass; a later vote on the same statement replaces the earlier one.

    Votes are opinions, not choices the platform makes: they are stored, not logged one by one
    (the public log would link a pseudonym's votes); the map is reproducible from them."""
    if choice not in VALUES:
        raise InvalidInput("vote", _("Choose agree, disagree or pass."))
    statement = await session.get(Statement, statement_id)
    if statement is None or statement.summit_id != summit_id or statement.status != "active":
        raise InvalidInput("statement", _("This statement is not on the map."))
    row = await session.scalar(
        select(StatementVote).where(
            StatementVote.statement_id == statement.id, StatementVote.reactor_id == reactor.id
        )
    )
    now = utcnow()
    if row is None:
        row = StatementVote(
            summit_id=summit_id,
            statement_id=statement.id,
            reactor_id=reactor.id,
            value=VALUES[choice],
            updated_at=now,
        )
        session.add(row)
    else:
        row.value = VALUES[choice]
        row.updated_at = now
    await session.flush()
    return row


async def my_votes(session: AsyncSession, reactor_id: int) -> dict[int, int]:
    rows = await session.execute(
        select(StatementVote.statement_id, StatementVote.value).where(
            StatementVote.reactor_id == reactor_id
        )
    )
    return dict(rows.tuples().all())


async def tallies(session: AsyncSession, summit_id: int) -> dict[int, dict[int, int]]:
    """Statement id -> {1: agree, -1: disagree, 0: pass} counts."""
    rows = await session.execute(
        select(StatementVote.statement_id, StatementVote.value, func.count())
        .where(StatementVote.summit_id == summit_id)
        .group_by(StatementVote.statement_id, StatementVote.value)
    )
    found: dict[int, dict[int, int]] = {}
    for statement_id, value, count in rows.tuples():
        found.setdefault(statement_id, {1: 0, -1: 0, 0: 0})[value] = int(count)
    return found


# --- the live map -------------------------------------------------------------------------------


@dataclass
class _Live:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    state: mapping.LiveMap | None = None
    #: what the map was built from: every statement id and the retired ones
    statements: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())
    seed: str = ""
    seen: dt.datetime | None = None
    #: a full rebuild in a worker thread, and the votes that arrived meanwhile
    task: asyncio.Task[None] | None = None
    pending: list[tuple[int, int, int]] = field(default_factory=list)
    #: when this process last asked the database for changes (monotonic seconds)
    checked: float = -1.0


async def statement_ids(
    session: AsyncSession, summit_id: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    rows = (
        await session.execute(
            select(Statement.id, Statement.status)
            .where(Statement.summit_id == summit_id)
            .order_by(Statement.id)
        )
    ).tuples()
    found = list(rows)
    return tuple(i for i, _s in found), tuple(i for i, s in found if s != "active")


async def all_votes(session: AsyncSession, summit_id: int) -> list[tuple[int, int, int]]:
    """Every vote in the order first cast (a changed vote keeps its place, as in the builder)."""
    rows = await session.execute(
        select(StatementVote.reactor_id, StatementVote.statement_id, StatementVote.value)
        .where(StatementVote.summit_id == summit_id)
        .order_by(StatementVote.id)
    )
    return [(r, s, v) for r, s, v in rows.tuples()]


class OpinionService:
    """The opinion maps of this app process, one per summit (``app.state.forum_opinion``).

    A vote stored by this process reaches its map at once (``apply``); a full rebuild, when the
    builder says one is due, runs in a worker thread from the stored votes, and the votes that
    arrive meanwhile are replayed onto the new map before it replaces the old one.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._live: dict[int, _Live] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _state(self, summit_id: int) -> _Live:
        return self._live.setdefault(summit_id, _Live())

    def invalidate(self, summit_id: int) -> None:
        """Statements changed: the next read rebuilds the map."""
        self._state(summit_id).state = None

    def apply(self, summit_id: int, reactor_id: int, statement_id: int, value: int) -> None:
        """A vote this process just stored reaches the map at once."""
        live = self._state(summit_id)
        if live.task is not None:
            live.pending.append((reactor_id, statement_id, value))
        if live.state is None:
            return
        live.state.vote(reactor_id, statement_id, value)
        if live.state.rebuild_due and live.task is None:
            self._rebuild_later(summit_id, live)

    async def current(self, session: AsyncSession, summit: Summit) -> mapping.MapView:
        """The summit's map as it stands, built on first use. Votes stored by this process are
        on it at once; what other processes stored is read at most every ``FRESH`` seconds."""
        live = self._state(summit.id)
        if live.state is not None and time.monotonic() - live.checked < FRESH:
            return live.state.view()
        async with live.lock:
            live.checked = time.monotonic()
            known = await statement_ids(session, summit.id)
            seed = await map_seed(session, summit)
            if live.state is None or live.statements != known or live.seed != seed:
                await self._rebuild(session, live, summit.id, known, seed)
            else:
                await self._catch_up(session, live, summit.id)
            assert live.state is not None
            return live.state.view()

    async def _rebuild(
        self,
        session: AsyncSession,
        live: _Live,
        summit_id: int,
        known: tuple[tuple[int, ...], tuple[int, ...]],
        seed: str,
    ) -> None:
        started = utcnow()
        votes = await all_votes(session, summit_id)
        live.state = await asyncio.to_thread(mapping.LiveMap.build, votes, known[1], seed)
        live.statements, live.seed, live.seen = known, seed, started

    async def _catch_up(self, session: AsyncSession, live: _Live, summit_id: int) -> None:
        """Votes other app processes stored since this map last looked."""
        since = (live.seen or utcnow()) - _OVERLAP
        started = utcnow()
        rows = await session.execute(
            select(StatementVote.reactor_id, StatementVote.statement_id, StatementVote.value)
            .where(StatementVote.summit_id == summit_id, StatementVote.updated_at >= since)
            .order_by(StatementVote.id)
        )
        for reactor_id, statement_id, value in rows.tuples():
            self.apply(summit_id, reactor_id, statement_id, value)
        live.seen = started

    def _rebuild_later(self, summit_id: int, live: _Live) -> None:
        live.pending = []
        task = asyncio.get_running_loop().create_task(self._background(summit_id, live))
        live.task = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _background(self, summit_id: int, live: _Live) -> None:
        try:
            async with self.db.session() as session:
                votes = await all_votes(session, summit_id)
            state = live.state
            if state is None:
                return
            retired = live.statements[1]
            fresh = await asyncio.to_thread(mapping.LiveMap.build, votes, retired, live.seed)
            for vote in live.pending:
                fresh.vote(*vote)
            if live.state is state:
                live.state = fresh
        finally:
            live.task = None
            live.pending = []

    async def drain(self) -> None:
        """Wait for the background rebuilds (tests and the benchmark)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


async def map_seed(session: AsyncSession, summit: Summit) -> str:
    settings = await forum_settings(session, summit.id)
    return settings.map_seed or summit.public_seed or f"forum-{summit.id}"


async def inputs(
    session: AsyncSession, summit: Summit
) -> tuple[list[tuple[int, int, int]], tuple[int, ...], str]:
    """What a map is built from: the votes in order, the retired statements, the seed."""
    known = await statement_ids(session, summit.id)
    return await all_votes(session, summit.id), known[1], await map_seed(session, summit)


def service(app: Any) -> OpinionService:
    found = getattr(app.state, "forum_opinion", None)
    if not isinstance(found, OpinionService):
        found = OpinionService(app.state.db)
        app.state.forum_opinion = found
    return found


async def consensus_for(
    app: Any, session: AsyncSession, summit: Summit, proposal_ids: Sequence[int]
) -> dict[int, list[tuple[Statement, str]]]:
    """Proposal id -> its consensus statements on the current map (with the stance everyone
    shares), strongest first."""
    wanted = set(proposal_ids)
    if not wanted:
        return {}
    view = await service(app).current(session, summit)
    by_id = {s.id: s for s in await statements(session, summit.id)}
    found: dict[int, list[tuple[Statement, str]]] = {}
    for item in view.consensus:
        statement = by_id.get(item.statement_id)
        if statement is not None and statement.proposal_id in wanted:
            found.setdefault(statement.proposal_id, []).append((statement, item.stance))
    return found
