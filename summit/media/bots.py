"""Bots: aiortc clients that publish looping pre-encoded VP8/Opus and count what they receive.

Publishing pre-encoded packets costs almost nothing (no encoder runs); receiving counts packets
per slot without decoding. Each bot's clip can have its own frame width and audio level, so a
receiver can tell *whose* media a slot carries from the VP8 keyframe header and the RFC 6464
level alone — which is how the tests check routing, not just that "something" arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import math
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.codecs.vpx import VpxPayloadDescriptor
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import RtpPacket
from aiortc.sdp import SessionDescription

from . import _aiortc_seam as seam
from .errors import MediaValueError

Signal = Callable[[str], Awaitable[str]]
"""Sends an SDP offer to the server and returns its answer."""

VIDEO_TIME_BASE = fractions.Fraction(1, 90000)
AUDIO_TIME_BASE = fractions.Fraction(1, 48000)


@dataclass(frozen=True)
class Clip:
    """A pre-encoded loop: VP8 frames (the first one a keyframe) and 20 ms Opus packets."""

    width: int
    height: int
    fps: int
    video: tuple[bytes, ...]
    keyframes: tuple[bool, ...]
    audio: tuple[bytes, ...]
    audio_frame_ms: int = 20

    @property
    def video_bitrate(self) -> float:
        return sum(map(len, self.video)) * 8 * self.fps / max(1, len(self.video))


def vp8_keyframe_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a VP8 keyframe header (RFC 6386, 9.1), ``None`` for interframes."""
    if len(data) < 10 or data[0] & 0x01 or data[3:6] != b"\x9d\x01\x2a":
        return None
    return (
        int.from_bytes(data[6:8], "little") & 0x3FFF,
        int.from_bytes(data[8:10], "little") & 0x3FFF,
    )


def make_clip(
    width: int = 320,
    height: int = 240,
    fps: int = 15,
    seconds: float = 4.0,
    bitrate: int = 250_000,
    seed: int = 0,
    audio_frame_ms: int = 20,
) -> Clip:
    """Encode a moving, slightly noisy test pattern and a tone once with PyAV."""
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise MediaValueError(f"width/height: must be even and >= 16, got {width}x{height}")
    if audio_frame_ms not in (10, 20, 40, 60):
        raise MediaValueError(f"audio_frame_ms: must be 10, 20, 40 or 60, got {audio_frame_ms}")
    if not 1 <= fps <= 60 or seconds <= 0:
        raise MediaValueError(f"fps/seconds: need 1..60 fps and > 0 s, got {fps}, {seconds}")
    rng = np.random.default_rng(seed)
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height = width, height
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = fractions.Fraction(1, fps)
    encoder.framerate = fractions.Fraction(fps, 1)
    encoder.bit_rate = bitrate
    encoder.gop_size = 100_000  # one keyframe, at the start of the loop
    encoder.qmin, encoder.qmax = 2, 56
    rate = str(bitrate)
    # Constant bitrate like a browser's encoder, so packet counts per frame are realistic.
    encoder.options = {
        "deadline": "realtime",
        "cpu-used": "8",
        "lag-in-frames": "0",
        "bufsize": rate,
        "minrate": rate,
        "maxrate": rate,
        "undershoot-pct": "100",
        "overshoot-pct": "15",
        "static-thresh": "1",
    }
    n = max(2, round(seconds * fps))
    yy, xx = np.mgrid[0:height, 0:width]
    video: list[bytes] = []
    keyframes: list[bool] = []

    def take(packets: list[av.Packet[Any]]) -> None:
        for packet in packets:
            video.append(bytes(packet))
            keyframes.append(bool(packet.is_keyframe))

    for i in range(n):
        luma = (xx * 2 + yy + i * 6) % 256 + rng.integers(-4, 4, size=(height, width))
        chroma = np.full((height // 2, width), 128 + (seed * 37) % 64, dtype=np.uint8)
        plane = np.vstack([np.clip(luma, 0, 255).astype(np.uint8), chroma])
        frame = av.VideoFrame.from_ndarray(plane, format="yuv420p")
        frame.pts = i
        frame.time_base = encoder.time_base
        take(encoder.encode(frame))
    take(encoder.encode(None))
    audio = _encode_tone(max(1, round(seconds * 1000 / audio_frame_ms)), seed, audio_frame_ms)
    return Clip(width, height, fps, tuple(video), tuple(keyframes), audio, audio_frame_ms)


def _encode_tone(packets: int, seed: int, frame_ms: int) -> tuple[bytes, ...]:
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate = 48000
    encoder.layout = "stereo"
    encoder.format = "s16"
    encoder.bit_rate = 32000
    encoder.time_base = AUDIO_TIME_BASE
    encoder.options = {"frame_duration": str(frame_ms)}
    samples = 48 * frame_ms
    out: list[bytes] = []
    t = np.arange(samples) / 48000
    for i in range(packets + 4):
        phase = t + i * frame_ms / 1000
        tone = (3000 * np.sin(2 * math.pi * (220 + 20 * seed) * phase)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(
            np.repeat(tone, 2).reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate = 48000
        frame.pts = i * samples
        frame.time_base = AUDIO_TIME_BASE
        out.extend(bytes(p) for p in encoder.encode(frame))
    return tuple(out[:packets]) if len(out) >= packets else tuple(out)


class _Paced(MediaStreamTrack):
    def __init__(self, period: float) -> None:
        super().__init__()
        self._period = period
        self._count = 0
        self._start: float | None = None

    async def _tick(self) -> int:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        wait = self._start + self._count * self._period - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        elif wait < -1.0:
            self._start = loop.time() - self._count * self._period  # fell far behind: re-anchor
        self._count += 1
        return self._count - 1


class ClipVideoTrack(_Paced):
    """Loops a clip's VP8 frames in real time; a keyframe request restarts the loop."""

    kind = "video"

    def __init__(self, clip: Clip) -> None:
        super().__init__(1 / clip.fps)
        self.clip = clip
        self._index = 0
        self.keyframe_requests = 0
        self.sent: list[float] = []
        """``time.monotonic()`` of every frame handed to the sender."""

    def restart_at_keyframe(self) -> None:
        self.keyframe_requests += 1
        self._index = 0

    async def recv(self) -> av.Packet[Any]:
        count = await self._tick()
        self.sent.append(time.monotonic())
        packet = av.Packet(self.clip.video[self._index])
        packet.is_keyframe = self.clip.keyframes[self._index]
        self._index = (self._index + 1) % len(self.clip.video)
        packet.pts = count * (90000 // self.clip.fps)
        packet.time_base = VIDEO_TIME_BASE
        return packet


class ClipAudioTrack(_Paced):
    """Loops a clip's Opus packets in real time; ``level`` (RFC 6464, 0 loud … 127 silent) is
    sent in the audio-level header extension of each packet."""

    kind = "audio"

    def __init__(self, clip: Clip, level: int = 127) -> None:
        super().__init__(clip.audio_frame_ms / 1000)
        self.clip = clip
        self.level = level

    async def recv(self) -> av.Packet[Any]:
        count = await self._tick()
        packet = av.Packet(self.clip.audio[count % len(self.clip.audio)])
        packet.pts = count * 48 * self.clip.audio_frame_ms
        packet.time_base = AUDIO_TIME_BASE
        return packet


@dataclass
class SlotStats:
    """What one download slot of a bot received."""

    kind: str
    index: int
    frames: int = 0
    first_frame: float | None = None
    arrivals: list[float] = field(default_factory=list)
    identity: int | None = None
    """Width of the last VP8 keyframe (video) or last audio level (audio) on this slot."""
    identity_first_seen: dict[int, float] = field(default_factory=dict)
    by_identity: Counter[int] = field(default_factory=Counter)

    def fps(self, since: float, until: float) -> float:
        n = sum(since <= t < until for t in self.arrivals)
        return n / (until - since) if until > since else 0.0


class Bot:
    """A scripted participant: publishes a clip, subscribes to ``slots`` slots and counts."""

    def __init__(
        self,
        participant_id: str,
        clip: Clip,
        *,
        audio_level: int = 127,
        ice_servers: list[RTCIceServer] | None = None,
        light: bool = False,
    ) -> None:
        """``light``: count packets as they arrive, bypassing aiortc's receive pipeline
        (jitter buffer, NACK, decoder thread) so that one process can receive many streams."""
        seam.install_passthrough()
        self.light = light
        self.participant_id = participant_id
        self.clip = clip
        self.video_track = ClipVideoTrack(clip)
        self.audio_track = ClipAudioTrack(clip, audio_level)
        self._ice = ice_servers or []
        self.publish_pc: RTCPeerConnection | None = None
        self.subscribe_pc: RTCPeerConnection | None = None
        self.slots: dict[tuple[str, int], SlotStats] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def _pc(self) -> RTCPeerConnection:
        return RTCPeerConnection(
            RTCConfiguration(iceServers=list(self._ice), bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )

    async def publish(self, signal: Signal, *, video: bool = True, audio: bool = True) -> None:
        """Send the clip through a new upload connection (closing any previous one)."""
        if self.publish_pc is not None:
            await seam.close_peer(self.publish_pc)
        self.video_track = ClipVideoTrack(self.clip)
        self.audio_track = ClipAudioTrack(self.clip, self.audio_track.level)
        pc = self._pc()
        if video:
            sender = pc.addTransceiver(self.video_track, direction="sendonly").sender
            seam.on_keyframe_request(sender, self.video_track.restart_at_keyframe)
        if audio:
            track = self.audio_track
            sender = pc.addTransceiver(track, direction="sendonly").sender
            seam.stamp_audio_level(sender, lambda: track.level)
        await pc.setLocalDescription(await pc.createOffer())
        answer = await signal(pc.localDescription.sdp)
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        self.publish_pc = pc

    async def subscribe(self, signal: Signal, slots: int = 7, *, video: bool = True) -> None:
        """Open a download connection with ``slots`` audio (and video) slots."""
        await self._close_subscription()
        pc = self._pc()
        kinds = (["video"] * slots if video else []) + ["audio"] * slots
        self.slots = {}
        counters: list[SlotStats] = []
        for kind in kinds:
            index = sum(1 for c in counters if c.kind == kind)
            transceiver = pc.addTransceiver(kind, direction="recvonly")
            stats = SlotStats(kind, index)
            counters.append(stats)
            self.slots[(kind, index)] = stats
            if kind == "audio":
                seam.tap_receiver(transceiver.receiver, self._audio_tap(stats))
        await pc.setLocalDescription(await pc.createOffer())
        answer = await signal(pc.localDescription.sdp)
        if self.light:
            media = SessionDescription.parse(answer).media
            for transceiver, stats, m in zip(pc.getTransceivers(), counters, media, strict=True):
                wanted = {c.payloadType for c in m.rtp.codecs if c.mimeType.lower() != "video/rtx"}
                seam.consume_receiver(transceiver.receiver, self._light_count(stats, wanted))
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        if not self.light:
            for transceiver, stats in zip(pc.getTransceivers(), counters, strict=True):
                track = transceiver.receiver.track
                task = asyncio.get_running_loop().create_task(self._count(track, stats))
                self._tasks.append(task)
        self.subscribe_pc = pc

    @staticmethod
    def _audio_tap(stats: SlotStats) -> Callable[[RtpPacket], None]:
        def tap(packet: RtpPacket) -> None:
            level = packet.extensions.audio_level
            if level is not None:
                value = int(level[1])
                stats.identity = value
                stats.by_identity[value] += 1
                stats.identity_first_seen.setdefault(value, time.monotonic())

        return tap

    @staticmethod
    def _light_count(
        stats: SlotStats, payload_types: set[int | None]
    ) -> Callable[[RtpPacket], None]:
        def count(packet: RtpPacket) -> None:
            if packet.payload_type not in payload_types or not packet.payload:
                return
            now = time.monotonic()
            if stats.kind == "video":
                try:
                    descriptor, data = VpxPayloadDescriptor.parse(packet.payload)
                except ValueError:
                    return
                if not descriptor.partition_start or descriptor.partition_id != 0:
                    return  # not the first packet of a frame
                size = vp8_keyframe_size(data)
                if size is not None:
                    stats.identity = size[0]
            else:
                level = packet.extensions.audio_level
                if level is not None:
                    stats.identity = int(level[1])
            stats.frames += 1
            stats.arrivals.append(now)
            if stats.first_frame is None:
                stats.first_frame = now
            if stats.identity is not None:
                stats.by_identity[stats.identity] += 1
                stats.identity_first_seen.setdefault(stats.identity, now)

        return count

    @staticmethod
    async def _count(track: MediaStreamTrack, stats: SlotStats) -> None:
        try:
            while True:
                packet = await track.recv()
                now = time.monotonic()
                stats.frames += 1
                stats.arrivals.append(now)
                if stats.first_frame is None:
                    stats.first_frame = now
                if stats.kind == "video" and isinstance(packet, av.Packet):
                    size = vp8_keyframe_size(bytes(packet))
                    if size is not None:
                        stats.identity = size[0]
                    if stats.identity is not None:
                        stats.by_identity[stats.identity] += 1
                        stats.identity_first_seen.setdefault(stats.identity, now)
        except MediaStreamError:
            pass

    def mark(self) -> None:
        """Forget which identities were seen, to time the next switch."""
        for stats in self.slots.values():
            stats.identity_first_seen.clear()
            stats.by_identity.clear()

    def received(self, kind: str) -> dict[int, int]:
        """Frames (video) or packets (audio) received per sender identity since ``mark()``."""
        total: Counter[int] = Counter()
        for (k, _), stats in self.slots.items():
            if k == kind:
                total.update(stats.by_identity)
        return dict(total)

    def first_seen(self, kind: str) -> dict[int, float]:
        seen: dict[int, float] = defaultdict(lambda: math.inf)
        for (k, _), stats in self.slots.items():
            if k == kind:
                for identity, t in stats.identity_first_seen.items():
                    seen[identity] = min(seen[identity], t)
        return dict(seen)

    async def _close_subscription(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self.subscribe_pc is not None:
            await seam.close_peer(self.subscribe_pc)
            self.subscribe_pc = None

    async def close(self) -> None:
        await self._close_subscription()
        if self.publish_pc is not None:
            await seam.close_peer(self.publish_pc)
            self.publish_pc = None
