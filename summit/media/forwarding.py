"""Forwarding encoded media: a published track fans out to fixed download slots.

Nothing here decodes or encodes. A ``Source`` reads encoded ``av.Packet`` s from a publisher's
remote track (see ``_aiortc_seam.install_passthrough``) and offers each to the ``SlotTrack`` s
pointed at it; a download sender packetises whatever its slot yields.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
from aiortc import RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from . import _aiortc_seam as seam


@dataclass(frozen=True, slots=True)
class _Item:
    data: bytes
    pts: int
    time_base: fractions.Fraction
    keyframe: bool
    level: int | None


class Source:
    """One published track (video or audio) of one participant."""

    def __init__(
        self,
        participant_id: str,
        kind: str,
        track: MediaStreamTrack,
        receiver: RTCRtpReceiver,
        *,
        rtx_payload_types: frozenset[int] = frozenset(),
        keyframe_interval: float = 0.5,
        on_level: Callable[[str, int], None] | None = None,
        inline: bool = True,
        silence_level: int | None = None,
        silence_hangover: float = 1.0,
    ) -> None:
        """``inline``: forward frames straight from aiortc's jitter buffer (no decoder-thread
        hop); otherwise read encoded packets from ``track`` (needs the passthrough decoder).
        ``silence_level``: audio quieter than this RFC 6464 level (larger numbers are quieter)
        for longer than ``silence_hangover`` seconds is not forwarded, like Opus DTX."""
        self.participant_id = participant_id
        self.kind = kind
        self.track = track
        self.receiver = receiver
        self.slots: set[SlotTrack] = set()
        self.media_ssrc: int | None = None
        self.level: int | None = None
        self.frames_in = 0
        self.keyframes_in = 0
        self.keyframe_requests = 0
        self.plis_sent = 0
        self.suppressed = 0
        self._silence_level = silence_level
        self._silence_hangover = silence_hangover
        self._last_voice = -math.inf
        self._time_base = fractions.Fraction(1, 90000 if kind == "video" else 48000)
        self._rtx = rtx_payload_types
        self._interval = keyframe_interval
        self._on_level = on_level
        self._last_pli = -math.inf
        self._pli_timer: asyncio.TimerHandle | None = None
        self._pli_tasks: set[asyncio.Task[None]] = set()
        self._pli_wanted = False
        self._task: asyncio.Task[None] | None = None
        self._inline = inline
        seam.tap_receiver(receiver, self._on_rtp)
        if inline:
            seam.forward_frames_inline(receiver, self._on_frame)

    def start(self) -> None:
        if not self._inline:
            self._task = asyncio.get_running_loop().create_task(self._pump())

    def _on_frame(self, codec: RTCRtpCodecParameters, frame: Any) -> None:
        data: bytes = frame.data
        keyframe = seam.is_vp8_keyframe(data) if self.kind == "video" else True
        self.forward(data, int(frame.timestamp), self._time_base, keyframe)

    def forward(self, data: bytes, pts: int, time_base: fractions.Fraction, keyframe: bool) -> None:
        """Hand one encoded frame to every slot that shows this source."""
        self.frames_in += 1
        if keyframe and self.kind == "video":
            self.keyframes_in += 1
        if self.kind == "audio" and self._silence_level is not None:
            now = time.monotonic()
            if self.level is None or self.level <= self._silence_level:
                self._last_voice = now
            elif now - self._last_voice > self._silence_hangover:
                self.suppressed += 1
                return
        item = _Item(data=data, pts=pts, time_base=time_base, keyframe=keyframe, level=self.level)
        for slot in tuple(self.slots):
            slot.offer(item)

    async def stop(self) -> None:
        for slot in list(self.slots):
            slot.point_to(None)
        if self._pli_timer is not None:
            self._pli_timer.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_rtp(self, packet: RtpPacket) -> None:
        if packet.payload_type in self._rtx:
            # Chrome probes bandwidth with padding on the RTX SSRC: a PLI for it is ignored.
            return
        first = self.media_ssrc is None
        self.media_ssrc = packet.ssrc
        if first and self._pli_wanted:
            self.request_keyframe()
        level = packet.extensions.audio_level
        if level is not None and self.kind == "audio":
            self.level = int(level[1])
            if self._on_level is not None:
                self._on_level(self.participant_id, self.level)

    async def _pump(self) -> None:
        try:
            while True:
                packet = await self.track.recv()
                if not isinstance(packet, av.Packet) or packet.pts is None:
                    continue
                self.forward(
                    bytes(packet),
                    int(packet.pts),
                    packet.time_base or self._time_base,
                    bool(packet.is_keyframe),
                )
        except MediaStreamError:
            pass

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe, at most once per ``keyframe_interval``; a request
        inside the interval is deferred to its end rather than lost."""
        if self.kind != "video":
            return
        self.keyframe_requests += 1
        if self.media_ssrc is None:
            self._pli_wanted = True
            return
        if self._pli_timer is not None:
            return
        loop = asyncio.get_running_loop()
        wait = self._last_pli + self._interval - loop.time()
        if wait <= 0:
            self._send_pli()
        else:
            self._pli_timer = loop.call_later(wait, self._send_pli)

    def _send_pli(self) -> None:
        self._pli_timer = None
        self._pli_wanted = False
        if self.media_ssrc is None:
            return
        loop = asyncio.get_running_loop()
        self._last_pli = loop.time()
        self.plis_sent += 1
        # Keep a reference: the loop holds tasks weakly, and a collected task never runs.
        task = loop.create_task(seam.send_pli(self.receiver, self.media_ssrc))
        self._pli_tasks.add(task)
        task.add_done_callback(self._pli_tasks.discard)


class SlotTrack(MediaStreamTrack):
    """A fixed download track whose source the server re-points at round changes.

    Timestamps are rewritten so that they keep increasing across switches (the receiver sees one
    continuous stream); video from a new source starts at a keyframe; a subscriber that falls
    behind by ``max_queue`` frames loses its queue and waits for the next keyframe.
    """

    def __init__(self, kind: str, index: int, *, max_queue: int) -> None:
        super().__init__()
        self.kind = kind
        self.index = index
        self.source: Source | None = None
        self.level: int | None = None
        self.frames_out = 0
        self.dropped = 0
        self.flushes = 0
        self.switches = 0
        self._max_queue = max_queue
        self._queue: deque[_Item] = deque()
        self._ready = asyncio.Event()
        self._need_keyframe = kind == "video"
        self._offset: int | None = None
        self._rebase = True
        self._last_out: int | None = None
        self._last_out_time = 0.0
        self._clock = 90000 if kind == "video" else 48000

    def point_to(self, source: Source | None) -> None:
        """Show ``source`` from now on (``None``: show nothing). Queued packets of the previous
        source are discarded at once, so nothing of it is sent after this call."""
        if source is self.source:
            return
        if self.source is not None:
            self.source.slots.discard(self)
        self.source = source
        self._queue.clear()
        self._rebase = True
        self.switches += 1
        if source is not None:
            source.slots.add(self)
            if self.kind == "video":
                self._need_keyframe = True
                source.request_keyframe()

    def current_level(self) -> int | None:
        """RFC 6464 level of the packet handed out last (forwarded with it)."""
        return self.level

    def request_keyframe(self) -> None:
        if self.source is not None:
            self.source.request_keyframe()

    def offer(self, item: _Item) -> None:
        if self._need_keyframe:
            if not item.keyframe:
                self.dropped += 1
                return
            self._need_keyframe = False
        if len(self._queue) >= self._max_queue:
            # The subscriber cannot keep up: drop what is queued rather than fall further behind.
            self.dropped += len(self._queue)
            self._queue.clear()
            self.flushes += 1
            if self.kind == "video" and not item.keyframe:
                self._need_keyframe = True
                self.dropped += 1
                self.request_keyframe()
                return
        self._queue.append(item)
        self._ready.set()

    def stop(self) -> None:
        if self.source is not None:
            self.source.slots.discard(self)
            self.source = None
        super().stop()
        self._ready.set()

    async def recv(self) -> av.Packet[Any]:
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        if self.readyState != "live":
            raise MediaStreamError
        item = self._queue.popleft()
        now = time.monotonic()
        if self._rebase or self._offset is None:
            # Continue the outgoing timeline where it stopped, advanced by the wall-clock pause.
            if self._last_out is None:
                target = 0
            else:
                pause = max(1, int((now - self._last_out_time) * self._clock))
                target = self._last_out + pause
            self._offset = target - item.pts
            self._rebase = False
        out = item.pts + self._offset
        if self._last_out is not None and out <= self._last_out:
            # The source's clock jumped back (a publisher restarted): stay monotonic.
            self._offset += self._last_out + 1 - out
            out = self._last_out + 1
        self._last_out = out
        self._last_out_time = now
        self.level = item.level
        self.frames_out += 1
        packet = av.Packet(item.data)
        packet.pts = out
        packet.time_base = item.time_base
        packet.is_keyframe = item.keyframe
        return packet
