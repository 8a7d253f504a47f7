"""A media worker: one process's share of the tables, forwarding encoded media between seats.

``MediaWorker`` is the async API the control plane (or ``MediaSupervisor``, for a worker in
another process) calls. Each participant has one *publish* connection (their camera and
microphone up) and one *subscribe* connection with fixed slot tracks (everyone else down). Moving
a participant to another table of the same worker re-points their slots: no renegotiation.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.rtcrtpparameters import RTCRtpCodecCapability
from aiortc.sdp import SessionDescription

from . import _aiortc_seam as seam
from .config import MediaConfig, MediaEvent, _check_id
from .errors import AccessDenied, MediaValueError, ProtocolError, UnknownParticipant
from .forwarding import SlotTrack, Source
from .layout import assign_slots
from .protocol import MAX_SLOTS, server_message
from .speaking import SpeakingMeter, TableSpeaking, table_speaking

_CODECS = {"video": ("video/vp8", "video/rtx"), "audio": ("audio/opus",)}


@dataclass
class _Member:
    participant_id: str
    seat: int
    table_id: str | None = None
    visitor: bool = False
    publish_pc: RTCPeerConnection | None = None
    video: Source | None = None
    audio: Source | None = None
    subscribe_pc: RTCPeerConnection | None = None
    video_slots: list[SlotTrack] = field(default_factory=list)
    audio_slots: list[SlotTrack] = field(default_factory=list)
    layout: list[str | None] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _parse_offer(sdp: object) -> SessionDescription:
    if not isinstance(sdp, str) or not sdp.startswith("v=0"):
        raise ProtocolError("sdp", "is not an SDP offer (must start with 'v=0')")
    try:
        return SessionDescription.parse(sdp)
    except Exception as exc:  # aiortc raises assorted errors on malformed SDP
        raise ProtocolError("sdp", f"cannot be parsed: {exc}") from exc


def _codec_preferences(kind: str) -> list[RTCRtpCodecCapability]:
    return [
        c for c in RTCRtpSender.getCapabilities(kind).codecs if c.mimeType.lower() in _CODECS[kind]
    ]


class MediaWorker:
    """Hosts whole tables and forwards their members' encoded media to each other.

    The one access rule: a participant's download slots only ever show publishers seated at
    (or visiting) the table that participant is assigned to right now.
    """

    def __init__(
        self,
        config: MediaConfig | None = None,
        *,
        on_event: Callable[[MediaEvent], None] | None = None,
    ) -> None:
        self.config = config or MediaConfig()
        seam.install_passthrough()
        if self.config.host_addresses is not None:
            seam.restrict_host_addresses(list(self.config.host_addresses))
        self.events: deque[MediaEvent] = deque(maxlen=1000)
        self._on_event = on_event
        self._members: dict[str, _Member] = {}
        self._tables: dict[str, list[str]] = {}
        self._seats = 0
        self._round_id = "0"
        self._meters: dict[str, SpeakingMeter] = {}
        self._meter = self._new_meter()
        self._meters[self._round_id] = self._meter
        self._started = time.monotonic()

    # -- seating -------------------------------------------------------------------------------

    async def assign(self, participant_id: str, table_id: str) -> None:
        """Seat ``participant_id`` at ``table_id`` (a round change or a moderator's move)."""
        _check_id("participant_id", participant_id)
        _check_id("table_id", table_id)
        self._move(self._member(participant_id, create=True), table_id, visitor=False)

    async def visit(self, moderator_id: str, table_id: str | None) -> None:
        """Let a moderator listen in at ``table_id`` (``None`` ends the visit). The table's
        members get a ``visitor`` event; the moderator's own media, if published, reaches them."""
        _check_id("moderator_id", moderator_id)
        if table_id is not None:
            _check_id("table_id", table_id)
        member = self._member(moderator_id, create=True)
        previous = member.table_id if member.visitor else None
        self._move(member, table_id, visitor=table_id is not None)
        if previous is not None and previous != table_id:
            self._emit_visitor(previous, moderator_id, present=False)
        if table_id is not None and previous != table_id:
            self._emit_visitor(table_id, moderator_id, present=True)

    async def leave(self, participant_id: str) -> None:
        """Close both connections of ``participant_id`` and free their seat."""
        member = self._members.get(participant_id)
        if member is None:
            return
        was_visiting = member.table_id if member.visitor else None
        self._move(member, None, visitor=False)
        del self._members[participant_id]
        if was_visiting is not None:
            self._emit_visitor(was_visiting, participant_id, present=False)
        await self._close_publisher(member)
        await self._close_subscriber(member)

    def _member(self, participant_id: str, *, create: bool = False) -> _Member:
        member = self._members.get(participant_id)
        if member is None:
            if not create:
                raise UnknownParticipant(f"participant_id: {participant_id!r} is not seated here")
            self._seats += 1
            member = _Member(participant_id=participant_id, seat=self._seats)
            self._members[participant_id] = member
        return member

    def _move(self, member: _Member, table_id: str | None, *, visitor: bool) -> None:
        old = member.table_id
        member.visitor = visitor
        if old == table_id:
            return
        if old is not None:
            seated = self._tables[old]
            seated.remove(member.participant_id)
            if not seated:
                del self._tables[old]
        member.table_id = table_id
        member.layout = []
        if table_id is not None:
            self._tables.setdefault(table_id, []).append(member.participant_id)
        # Synchronous from here on: no packet of the old table is forwarded after this call.
        if old is not None:
            self._relayout(old)
        if table_id is not None:
            self._relayout(table_id)
        else:
            self._relayout_member(member)

    def _relayout(self, table_id: str) -> None:
        for pid in self._tables.get(table_id, ()):
            self._relayout_member(self._members[pid])

    def _relayout_member(self, member: _Member) -> None:
        if member.subscribe_pc is None:
            return
        candidates = [
            pid
            for pid in self._tables.get(member.table_id or "", ())
            if pid != member.participant_id
        ]
        count = max(len(member.video_slots), len(member.audio_slots))
        layout = assign_slots(member.layout, candidates, count)
        for i, who in enumerate(layout):
            other = self._members[who] if who is not None else None
            if i < len(member.video_slots):
                member.video_slots[i].point_to(other.video if other else None)
            if i < len(member.audio_slots):
                member.audio_slots[i].point_to(other.audio if other else None)
        if layout != member.layout or not member.layout:
            member.layout = layout
            self._emit(
                (member.participant_id,),
                server_message(
                    "layout",
                    table_id=member.table_id,
                    slots=[{"index": i, "participant_id": p} for i, p in enumerate(layout)],
                ),
            )

    def layout(self, participant_id: str) -> list[str | None]:
        """Which participant each download slot of ``participant_id`` shows now."""
        return list(self._member(participant_id).layout)

    def table_of(self, participant_id: str) -> str | None:
        return self._member(participant_id).table_id

    # -- connections ---------------------------------------------------------------------------

    def _new_pc(self) -> RTCPeerConnection:
        servers = [
            RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
            for s in self.config.ice_servers
        ]
        # iceServers=[] matters: with None aiortc would add a public STUN server.
        # max-bundle: with aiortc's default (balanced) policy, transceivers created before
        # setRemoteDescription keep a discarded transport when the offer bundles them.
        return RTCPeerConnection(
            RTCConfiguration(iceServers=servers, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )

    async def publish(self, participant_id: str, table_id: str, offer_sdp: str) -> str:
        """Accept the upload connection of ``participant_id`` (at most one audio and one video
        track, VP8 and Opus) and return the SDP answer. Seats the participant at ``table_id``
        when they have no seat yet; refuses a table other than their own."""
        _check_id("participant_id", participant_id)
        _check_id("table_id", table_id)
        member = self._members.get(participant_id)
        if member is not None and member.table_id not in (None, table_id):
            raise AccessDenied(
                f"table_id: participant {participant_id!r} is seated at table "
                f"{member.table_id!r}, not {table_id!r}"
            )
        offer = _parse_offer(offer_sdp)
        media = [m for m in offer.media if m.kind in ("audio", "video")]
        for kind in ("audio", "video"):
            if sum(m.kind == kind for m in media) > 1:
                raise ProtocolError("sdp", f"a publish offer carries at most one {kind} track")
        for m in media:
            if m.direction not in ("sendonly", "sendrecv"):
                raise ProtocolError("sdp", f"publish m-line {m.rtp.muxId!r} must send media")
        if member is None or member.table_id is None:
            member = self._member(participant_id, create=True)
            self._move(member, table_id, visitor=False)
        async with member.lock:
            await self._close_publisher(member)
            pc = self._new_pc()
            rtx: dict[str, frozenset[int]] = {}
            for m in media:
                rtx[m.kind] = frozenset(
                    c.payloadType
                    for c in m.rtp.codecs
                    if c.payloadType is not None and c.mimeType.lower().endswith("/rtx")
                )
                transceiver = pc.addTransceiver(m.kind, direction="recvonly")
                transceiver.setCodecPreferences(_codec_preferences(m.kind))
            try:
                await pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
                await pc.setLocalDescription(await pc.createAnswer())
            except Exception as exc:
                await seam.close_peer(pc)
                raise ProtocolError("sdp", f"offer refused: {exc}") from exc
            if self._members.get(participant_id) is not member:
                await seam.close_peer(pc)
                raise UnknownParticipant(f"participant_id: {participant_id!r} left meanwhile")
            for transceiver in pc.getTransceivers():
                track = transceiver.receiver.track
                if track is None:
                    continue
                source = Source(
                    participant_id,
                    track.kind,
                    track,
                    transceiver.receiver,
                    rtx_payload_types=rtx.get(track.kind, frozenset()),
                    keyframe_interval=self.config.keyframe_interval,
                    on_level=self._on_level,
                    inline=self.config.inline_frames,
                    silence_level=self.config.audio_silence_level,
                    silence_hangover=self.config.audio_silence_hangover,
                )
                source.start()
                if track.kind == "video":
                    member.video = source
                else:
                    member.audio = source
            member.publish_pc = pc
            self._watch(pc, member, "publish")
            if member.table_id is not None:
                self._relayout(member.table_id)
            return str(pc.localDescription.sdp)

    async def subscribe(
        self, participant_id: str, offer_sdp: str, table_id: str | None = None
    ) -> str:
        """Accept the download connection of ``participant_id``: every recvonly m-line of the
        offer becomes a slot (video slot *i* and audio slot *i* show the same person). With
        ``table_id``, refuses unless the participant is seated at that table right now."""
        _check_id("participant_id", participant_id)
        member = self._members.get(participant_id)
        if member is None:
            raise AccessDenied(f"participant_id: {participant_id!r} is not seated at any table")
        if table_id is not None and table_id != member.table_id:
            raise AccessDenied(
                f"table_id: participant {participant_id!r} is not seated at table {table_id!r}"
            )
        offer = _parse_offer(offer_sdp)
        media = [m for m in offer.media if m.kind in ("audio", "video")]
        for m in media:
            if m.direction != "recvonly":
                raise ProtocolError("sdp", f"subscribe m-line {m.rtp.muxId!r} must be recvonly")
        for kind in ("audio", "video"):
            if sum(m.kind == kind for m in media) > MAX_SLOTS:
                raise ProtocolError("sdp", f"at most {MAX_SLOTS} {kind} slots")
        async with member.lock:
            await self._close_subscriber(member)
            pc = self._new_pc()
            video: list[SlotTrack] = []
            audio: list[SlotTrack] = []
            for m in media:
                slots = video if m.kind == "video" else audio
                queue = self.config.video_queue if m.kind == "video" else self.config.audio_queue
                slot = SlotTrack(m.kind, len(slots), max_queue=queue)
                slots.append(slot)
                transceiver = pc.addTransceiver(slot, direction="sendonly")
                transceiver.setCodecPreferences(_codec_preferences(m.kind))
                seam.on_keyframe_request(transceiver.sender, slot.request_keyframe)
                if m.kind == "audio":
                    seam.stamp_audio_level(transceiver.sender, slot.current_level)
            try:
                await pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
                await pc.setLocalDescription(await pc.createAnswer())
            except Exception as exc:
                await seam.close_peer(pc)
                raise ProtocolError("sdp", f"offer refused: {exc}") from exc
            if self._members.get(participant_id) is not member:
                await seam.close_peer(pc)
                raise UnknownParticipant(f"participant_id: {participant_id!r} left meanwhile")
            member.subscribe_pc = pc
            member.video_slots = video
            member.audio_slots = audio
            member.layout = []
            self._watch(pc, member, "subscribe")
            self._relayout_member(member)
            return str(pc.localDescription.sdp)

    def _watch(self, pc: RTCPeerConnection, member: _Member, role: str) -> None:
        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState != "failed":
                return
            current = member.publish_pc if role == "publish" else member.subscribe_pc
            if current is not pc:
                return
            if role == "publish":
                await self._close_publisher(member)
                if member.table_id is not None:
                    self._relayout(member.table_id)
            else:
                await self._close_subscriber(member)
            if self._members.get(member.participant_id) is member:
                self._emit(
                    (member.participant_id,), server_message("reconnect", reason="peer_failed")
                )

    async def _close_publisher(self, member: _Member) -> None:
        pc, sources = member.publish_pc, (member.video, member.audio)
        member.publish_pc, member.video, member.audio = None, None, None
        for source in sources:
            if source is not None:
                await source.stop()
        if pc is not None:
            await seam.close_peer(pc)

    async def _close_subscriber(self, member: _Member) -> None:
        pc, slots = member.subscribe_pc, member.video_slots + member.audio_slots
        member.subscribe_pc, member.video_slots, member.audio_slots = None, [], []
        for slot in slots:
            slot.stop()
        if pc is not None:
            await seam.close_peer(pc)

    async def close(self) -> None:
        """Close every connection."""
        for pid in list(self._members):
            await self.leave(pid)

    # -- speaking time -------------------------------------------------------------------------

    def _new_meter(self) -> SpeakingMeter:
        return SpeakingMeter(
            threshold=self.config.speaking_threshold, hangover=self.config.speaking_hangover
        )

    def _on_level(self, participant_id: str, level: int) -> None:
        member = self._members.get(participant_id)
        if member is None or member.table_id is None or member.visitor:
            return
        self._meter.feed(
            (member.table_id, participant_id), asyncio.get_running_loop().time(), level
        )

    async def begin_round(self, round_id: str) -> None:
        """Start counting speaking time for a new round (earlier rounds stay queryable)."""
        _check_id("round_id", round_id)
        self._round_id = round_id
        self._meter = self._meters.setdefault(round_id, self._new_meter())

    def speaking(
        self, table_id: str, min_seconds: float | None = None, round_id: str | None = None
    ) -> TableSpeaking:
        """Speaking seconds per member of ``table_id`` in the round, their Gini coefficient and
        who has not spoken yet (less than ``min_seconds``)."""
        meter = self._meters.get(round_id or self._round_id)
        if meter is None:
            raise MediaValueError(f"round_id: no round {round_id!r}")
        members = [pid for pid in self._tables.get(table_id, ()) if not self._members[pid].visitor]
        if not members:
            members = sorted(
                {key[1] for key in meter.tracked() if isinstance(key, tuple) and key[0] == table_id}
            )
        seconds = {pid: meter.seconds((table_id, pid)) for pid in members}
        threshold = self.config.silent_after_seconds if min_seconds is None else min_seconds
        return table_speaking(table_id, members, seconds, threshold)

    # -- events and stats ----------------------------------------------------------------------

    def _emit(self, to: tuple[str, ...], message: dict[str, Any]) -> None:
        if not to:
            return
        event = MediaEvent(to=to, message=message)
        self.events.append(event)
        if self._on_event is not None:
            self._on_event(event)

    def _emit_visitor(self, table_id: str, moderator_id: str, *, present: bool) -> None:
        audience = tuple(p for p in self._tables.get(table_id, ()) if p != moderator_id)
        self._emit(
            audience,
            server_message(
                "visitor", table_id=table_id, moderator_id=moderator_id, present=present
            ),
        )

    def participants(self) -> dict[str, str | None]:
        """Every known participant and their table."""
        return {pid: m.table_id for pid, m in self._members.items()}

    def stats(self) -> dict[str, Any]:
        """Counters for monitoring; ``cpu_seconds`` is this process's CPU time so far."""
        tables: dict[str, Any] = {}
        for tid, pids in self._tables.items():
            members = [self._members[p] for p in pids]
            tables[tid] = {
                "members": list(pids),
                "publishing": sum(m.publish_pc is not None for m in members),
                "subscribed": sum(m.subscribe_pc is not None for m in members),
            }
        sources: dict[str, Any] = {}
        slots = {"frames_out": 0, "dropped": 0, "flushes": 0}
        for pid, m in self._members.items():
            sources[pid] = {
                "video_frames_in": m.video.frames_in if m.video else 0,
                "audio_frames_in": m.audio.frames_in if m.audio else 0,
                "keyframes_in": m.video.keyframes_in if m.video else 0,
                "keyframe_requests": m.video.keyframe_requests if m.video else 0,
                "plis_sent": m.video.plis_sent if m.video else 0,
                "audio_suppressed": m.audio.suppressed if m.audio else 0,
            }
            for slot in m.video_slots + m.audio_slots:
                slots["frames_out"] += slot.frames_out
                slots["dropped"] += slot.dropped
                slots["flushes"] += slot.flushes
        return {
            "participants": len(self._members),
            "tables": tables,
            "sources": sources,
            "slots": slots,
            "round_id": self._round_id,
            "cpu_seconds": time.process_time(),
            "uptime_seconds": time.monotonic() - self._started,
        }
