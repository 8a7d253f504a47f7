"""The control plane of the video tables: signalling between browsers and the media plane.

``VideoHub`` owns this app process's media plane (a ``MediaSupervisor`` with one worker process
per core, or a ``MediaWorker`` inside the app process when ``SUMMIT_MEDIA_WORKERS=0``; with
``SUMMIT_MEDIA_NODES`` a ``NodePlane`` that places tables on media nodes), the open
``/ws/video`` connections, and who is placed at which media table. The table always comes from the
database (``summit.video.seats_at_video_tables``), never from the browser. It follows the
summit's live events (``round``, ``seating``) and re-points everyone's download slots when a round
opens or a person is moved.

Started lazily on first use (``hub_for(app)``); ``shutdown(app)`` closes it (call it in the app's
lifespan; until then a guard task closes it when the event loop shuts down).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket

from summit import seating
from summit.core.db import Database
from summit.core.events import EventBus
from summit.core.models import Participant, Summit, utcnow
from summit.media import (
    AccessDenied,
    MediaError,
    MediaEvent,
    ProtocolError,
    UnknownParticipant,
    WorkerUnavailable,
    parse_client_message,
    server_message,
)
from summit.video import service as uc
from summit.video.config import VideoSettings
from summit.video.models import MediaTableNode
from summit.video.nodeplane import NodePlane
from summit.video.plane import MediaPlane

log = logging.getLogger("summit.video")

# --- connections ----------------------------------------------------------------------------------


@dataclass(eq=False)
class Connection:
    """One open ``/ws/video`` socket: a participant, or a staff member (to visit tables); or a
    socket to a fixed video room outside the rounds (``room``, e.g. an online workshop meeting),
    whose ``admit`` is awaited before every publish and subscribe and raises ``AccessDenied``
    once the caller may no longer be there."""

    media_id: str
    summit_id: int
    participant_id: int | None = None
    staff_id: int | None = None
    room: str | None = None
    admit: Callable[[], Awaitable[None]] | None = None
    websocket: WebSocket | None = None
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    held: list[dict[str, Any]] | None = None
    publishing: bool = False
    subscribed: bool = False
    opened: float = field(default_factory=time.monotonic)

    def push(self, message: dict[str, Any]) -> None:
        if self.held is not None:
            self.held.append(message)
        else:
            self.queue.put_nowait(message)

    def release(self) -> None:
        held, self.held = self.held or [], None
        for message in held:
            self.queue.put_nowait(message)


def _error(
    code: str, message: str, field_name: str = "", re: int | str | None = None
) -> dict[str, Any]:
    extra = {"field": field_name} if field_name else {}
    return server_message("error", re=re, code=code, message=message[:1000], **extra)


@dataclass
class Visit:
    table_id: int
    table_number: int


class VideoHub:
    """Signalling, placement and live following of the seating for one app process."""

    def __init__(self, db: Database, bus: EventBus, settings: VideoSettings | None = None) -> None:
        self.db = db
        self.bus = bus
        self.settings = settings or VideoSettings.from_env()
        self.plane: MediaPlane | NodePlane
        if self.settings.nodes_url:
            self.plane = NodePlane(
                self.settings.nodes_url,
                (self.settings.node_key or "").encode(),
                self._on_media_event,
                self._on_placed,
            )
        else:
            self.plane = MediaPlane(self.settings, self._on_media_event)
        self._records: set[asyncio.Task[None]] = set()
        self.connections: dict[str, Connection] = {}
        self.placements: dict[str, str] = {}  # media id -> media table id
        self.summit_of: dict[str, int] = {}
        self.visits: dict[str, Visit] = {}
        self.speaking: dict[str, dict[str, Any]] = {}
        self.hosts: set[str] = set()
        self.moves: list[tuple[str, float]] = []  # (media id, seconds to re-point), recent
        self._rounds: dict[int, int] = {}
        self._watchers: dict[int, asyncio.Task[None]] = {}
        self._closers: dict[int, asyncio.Task[None]] = {}
        self._leaving: dict[str, asyncio.Task[None]] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.closed = False

    async def start(self) -> None:
        await self.plane.start()
        self._ticker = asyncio.get_running_loop().create_task(self._speaking_loop())

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        tasks = [
            *self._watchers.values(),
            *self._closers.values(),
            *self._leaving.values(),
            *([self._ticker] if self._ticker else []),
        ]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for conn in list(self.connections.values()):
            conn.queue.put_nowait(None)
        await self.plane.close()

    # -- media events --------------------------------------------------------------------------

    def _on_media_event(self, event: MediaEvent) -> None:
        for media_id in event.to:
            conn = self.connections.get(media_id)
            if conn is not None:
                conn.push(event.message)

    def _on_placed(self, media_table: str, node_id: str, reason: str) -> None:
        task = asyncio.get_running_loop().create_task(self._record(media_table, node_id, reason))
        self._records.add(task)
        task.add_done_callback(self._records.discard)

    async def _record(self, media_table: str, node_id: str, reason: str) -> None:
        """Keep the table's node in the database (the record of assignments)."""
        try:
            async with self.db.session() as session:
                row = await session.get(MediaTableNode, media_table)
                if row is None:
                    session.add(
                        MediaTableNode(media_table=media_table, node_id=node_id, reason=reason)
                    )
                elif row.node_id != node_id:
                    row.node_id, row.reason, row.assigned_at = node_id, reason, utcnow()
        except Exception:  # another app process recorded it at the same moment
            log.warning("video: recording a table's media node failed", exc_info=True)

    # -- connections ---------------------------------------------------------------------------

    async def connect(self, conn: Connection) -> None:
        """Register a socket; an older socket of the same person is closed (latest tab wins)."""
        old = self.connections.get(conn.media_id)
        if old is not None and old is not conn:
            old.queue.put_nowait(None)
        self.connections[conn.media_id] = conn
        self.summit_of[conn.media_id] = conn.summit_id
        leaving = self._leaving.pop(conn.media_id, None)
        if leaving is not None:
            leaving.cancel()
        self._watch(conn.summit_id)

    async def disconnect(self, conn: Connection) -> None:
        """The socket closed: free the seat after the grace period unless it comes back."""
        if self.connections.get(conn.media_id) is not conn:
            return
        del self.connections[conn.media_id]
        if self.closed:
            return
        self._leaving[conn.media_id] = asyncio.get_running_loop().create_task(
            self._leave_later(conn.media_id)
        )

    async def _leave_later(self, media_id: str) -> None:
        await asyncio.sleep(self.settings.grace_seconds)
        self._leaving.pop(media_id, None)
        if media_id not in self.connections:
            await self.leave(media_id)

    async def leave(self, media_id: str) -> None:
        self.placements.pop(media_id, None)
        self.hosts.discard(media_id)
        visit = self.visits.pop(media_id, None)
        with contextlib.suppress(MediaError):
            await self.plane.leave(media_id)
        if visit is not None:
            log.info("visit ended", extra={"fields": {"moderator": media_id}})

    # -- placement -----------------------------------------------------------------------------

    async def place(self, media_id: str, seat: uc.VideoSeat) -> bool:
        """Seat ``media_id`` at its database table in the media plane; True when the browser
        must reconnect (a table on another worker)."""
        if seat.is_host:
            self.hosts.add(media_id)
        else:
            self.hosts.discard(media_id)
        if self.placements.get(media_id) == seat.media_table:
            return False
        start = time.monotonic()
        moved = await self.plane.assign(media_id, seat.media_table)
        if media_id in self.placements:
            self.moves = [*self.moves[-199:], (media_id, time.monotonic() - start)]
        self.placements[media_id] = seat.media_table
        return moved

    async def _seat_of(self, conn: Connection) -> uc.VideoSeat:
        assert conn.participant_id is not None
        async with self.db.session() as session:
            participant = await session.get(Participant, conn.participant_id)
            if participant is None or participant.status == "withdrawn":
                raise AccessDenied("participant: not a participant of this summit")
            seat = await uc.video_seat(session, participant)
            await self._begin_round(session, conn.summit_id)
        if seat is None:
            raise AccessDenied("table: you have no seat at an online table in this round")
        return seat

    async def _begin_round(self, session: Any, summit_id: int) -> None:
        rnd = await uc.video_round(session, summit_id)
        if rnd is not None and self._rounds.get(summit_id) != rnd.id:
            self._rounds[summit_id] = rnd.id
            await self.plane.begin_round(uc.round_media_id(rnd.id))

    async def _media_table(self, conn: Connection) -> str:
        if conn.room is not None:
            if conn.admit is not None:
                await conn.admit()
            if self.placements.get(conn.media_id) != conn.room:
                await self.plane.assign(conn.media_id, conn.room)
                self.placements[conn.media_id] = conn.room
            return conn.room
        if conn.participant_id is not None:
            seat = await self._seat_of(conn)
            await self.place(conn.media_id, seat)
            return seat.media_table
        visit = self.visits.get(conn.media_id)
        if visit is None:
            raise AccessDenied("table: choose a table to visit first")
        return uc.table_media_id(visit.table_id)

    async def visit(self, conn_media_id: str, summit_id: int, visit: Visit | None) -> None:
        """A moderator listens in at a table (``None`` ends the visit); the table's members see
        a ``visitor`` message and the moderator's tile."""
        self.summit_of[conn_media_id] = summit_id
        if visit is None:
            self.visits.pop(conn_media_id, None)
            await self.plane.visit(conn_media_id, None)
            return
        self.visits[conn_media_id] = visit
        await self.plane.visit(conn_media_id, uc.table_media_id(visit.table_id))

    # -- the signalling protocol ---------------------------------------------------------------

    async def handle(self, conn: Connection, raw: str | bytes) -> None:
        """Answer one protocol-v1 message from the browser (replies go to ``conn.queue``)."""
        try:
            message = parse_client_message(raw)
        except ProtocolError as exc:
            conn.push(_error("protocol", exc.detail, exc.field, re=_request_id(raw)))
            return
        re = message.id
        try:
            if message.type == "ping":
                conn.push(server_message("pong", re=re))
            elif message.type == "leave":
                conn.publishing = conn.subscribed = False
                await self.leave(conn.media_id)
            elif message.type == "publish":
                assert message.sdp is not None
                table = await self._media_table(conn)
                answer = await self.plane.publish(conn.media_id, table, message.sdp)
                conn.publishing = True
                conn.push(server_message("answer", re=re, sdp=answer, **{"for": "publish"}))
            elif message.type == "subscribe":
                assert message.sdp is not None
                table = await self._media_table(conn)
                # the answer goes out before the layout that the subscription triggers
                conn.held = []
                try:
                    answer = await self.plane.subscribe(conn.media_id, message.sdp, table)
                    conn.subscribed = True
                    conn.queue.put_nowait(
                        server_message("answer", re=re, sdp=answer, **{"for": "subscribe"})
                    )
                finally:
                    conn.release()
        except AccessDenied as exc:
            conn.push(_error("access_denied", _detail(exc), re=re))
        except UnknownParticipant as exc:
            conn.push(_error("unknown_participant", _detail(exc), re=re))
        except ProtocolError as exc:
            conn.push(_error("protocol", exc.detail, exc.field, re=re))
        except WorkerUnavailable as exc:
            conn.push(_error("unavailable", _detail(exc), re=re))
        except MediaError as exc:
            log.warning("media error", extra={"fields": {"error": type(exc).__name__}})
            conn.push(_error("internal", _detail(exc), re=re))

    # -- following the seating -----------------------------------------------------------------

    def _watch(self, summit_id: int) -> None:
        task = self._watchers.get(summit_id)
        if task is None or task.done():
            loop = asyncio.get_running_loop()
            self._watchers[summit_id] = loop.create_task(self._follow(summit_id))
            self._schedule_closing(summit_id)

    async def _follow(self, summit_id: int) -> None:
        async with self.bus.subscribe(f"summit:{summit_id}") as events:
            async for event in events:
                if event.get("type") not in {"round", "seating", "seat"}:
                    continue
                if event.get("type") == "round" and isinstance(self.plane, NodePlane):
                    try:  # drained nodes give up their tables at the round change
                        await self.plane.replan()
                    except Exception:
                        log.exception("video: moving tables off draining media nodes failed")
                try:
                    await self.resync(summit_id)
                except Exception:
                    log.exception("video: following the seating failed")
                if event.get("type") == "round":
                    self._schedule_closing(summit_id)

    async def resync(self, summit_id: int) -> None:
        """Re-point everyone of the summit at their database table (after a round change or a
        move); people without a video seat now are taken out of the media plane."""
        async with self._lock:
            media_ids = [
                m
                for m in {*self.placements, *self.connections}
                if self.summit_of.get(m) == summit_id and m.startswith("p")
            ]
            ids = [i for m in media_ids if (i := uc.parse_media_id(m, "p")) is not None]
            async with self.db.session() as session:
                seats = await uc.seats_at_video_tables(session, summit_id, ids)
                await self._begin_round(session, summit_id)
            for media_id in media_ids:
                pid = uc.parse_media_id(media_id, "p")
                seat = seats.get(pid) if pid is not None else None
                conn = self.connections.get(media_id)
                if seat is None:
                    if media_id in self.placements:
                        await self.leave(media_id)
                        if conn is not None:
                            conn.publishing = conn.subscribed = False
                            conn.push(
                                _error(
                                    "access_denied",
                                    "table: you have no seat at an online table in this round",
                                )
                            )
                    continue
                if media_id in self.placements or (conn and (conn.publishing or conn.subscribed)):
                    try:
                        await self.place(media_id, seat)
                    except MediaError:
                        log.exception("video: re-pointing failed")

    def _schedule_closing(self, summit_id: int) -> None:
        old = self._closers.pop(summit_id, None)
        if old is not None:
            old.cancel()
        self._closers[summit_id] = asyncio.get_running_loop().create_task(
            self._close_when_due(summit_id)
        )

    async def _close_when_due(self, summit_id: int) -> None:
        """Close the round when its closing countdown (``round.closing``) runs out."""
        async with self.db.session() as session:
            rnd = await uc.due_closing(session, summit_id, utcnow() + _FAR)
            ends = rnd.ends_at if rnd is not None else None
        if ends is None:
            return
        await asyncio.sleep(max(0.0, (ends - utcnow()).total_seconds()))
        async with self.db.session() as session:
            rnd = await uc.due_closing(session, summit_id, utcnow())
            if rnd is None:
                return
            summit = await session.get(Summit, summit_id)
            assert summit is not None
            _closed, events = await seating.close_round(
                session, summit, actor="countdown", number=rnd.number
            )
        await seating.publish(self.bus, events)

    async def _speaking_loop(self, period: float = 3.0) -> None:
        while True:
            await asyncio.sleep(period)
            try:
                await self.send_speaking()
            except Exception:
                log.exception("video: speaking summary failed")

    async def send_speaking(self) -> None:
        """Tell every table its speaking balance: hosts get seconds per member, the others
        the table's Gini and their own time (a gentle indicator, no ranking)."""
        tables: dict[str, list[str]] = {}
        for media_id, table in self.placements.items():
            tables.setdefault(table, []).append(media_id)
        for table, members in tables.items():
            try:
                summary = await self.plane.speaking(table)
            except MediaError:
                continue
            self.speaking[table] = summary
            seconds = dict(summary.get("seconds", {}))
            total = sum(seconds.values())
            for media_id in members:
                conn = self.connections.get(media_id)
                if conn is None or not conn.subscribed:
                    continue
                if media_id in self.hosts:
                    view = dict(summary)
                else:
                    view = {
                        "table_id": table,
                        "gini": summary.get("gini", 0.0),
                        "seconds": {media_id: seconds.get(media_id, 0.0)},
                        "members": len(seconds),
                        "total": total,
                    }
                conn.push(server_message("speaking", table=view))
        for table in list(self.speaking):
            if table not in tables:
                del self.speaking[table]

    # -- what the moderator sees ---------------------------------------------------------------

    def table_state(self, media_table: str) -> dict[str, Any]:
        members = [m for m, t in self.placements.items() if t == media_table]
        return {
            "placed": sorted(members),
            "connected": sorted(m for m in members if m in self.connections),
            "publishing": sorted(
                m for m in members if (c := self.connections.get(m)) is not None and c.publishing
            ),
            "speaking": self.speaking.get(media_table),
            "visitors": sorted(
                m for m, v in self.visits.items() if uc.table_media_id(v.table_id) == media_table
            ),
        }


_FAR = dt.timedelta(days=3650)


def _request_id(raw: str | bytes) -> int | str | None:
    """The ``id`` of a refused message, when it has a usable one, so the answer can name it."""
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    request_id = value.get("id") if isinstance(value, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, int | str):
        return None
    return request_id if not isinstance(request_id, str) or len(request_id) <= 64 else None


def _detail(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


# --- one hub per app ------------------------------------------------------------------------------


def settings_for(app: Any) -> VideoSettings:
    """This app's video settings (read once from the environment)."""
    settings: VideoSettings | None = getattr(app.state, "video_settings", None)
    if settings is None:
        settings = VideoSettings.from_env()
        app.state.video_settings = settings
    return settings


def running_hub(app: Any) -> VideoHub | None:
    """This app's hub if it has been started (nothing is started here)."""
    hub: VideoHub | None = getattr(app.state, "video_hub", None)
    return hub if hub is not None and not hub.closed else None


async def hub_for(app: Any, settings: VideoSettings | None = None) -> VideoHub:
    """This app's hub, started on first use (media workers cost nothing until then);
    ``settings`` (tests) replace the environment's."""
    if settings is not None:
        app.state.video_settings = settings
    hub = running_hub(app)
    if hub is not None:
        return hub
    async with _lock_for(app):
        hub = running_hub(app)
        if hub is None:
            hub = VideoHub(app.state.db, app.state.bus, settings_for(app))
            await hub.start()
            app.state.video_hub = hub
            guard = asyncio.get_running_loop().create_task(_guard(hub))
            app.state.video_guard = guard
    return hub


def _lock_for(app: Any) -> asyncio.Lock:
    lock: asyncio.Lock | None = getattr(app.state, "video_lock", None)
    if lock is None:
        lock = asyncio.Lock()
        app.state.video_lock = lock
    return lock


async def _guard(hub: VideoHub) -> None:
    # Without a lifespan hook the hub closes when the event loop cancels its tasks at exit.
    try:
        await asyncio.Event().wait()
    finally:
        await hub.close()


async def shutdown(app: Any) -> None:
    """Close this app's hub (its media connections and worker processes); for the lifespan."""
    hub: VideoHub | None = getattr(app.state, "video_hub", None)
    guard: asyncio.Task[None] | None = getattr(app.state, "video_guard", None)
    if hub is not None:
        await hub.close()
    if guard is not None:
        guard.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await guard
