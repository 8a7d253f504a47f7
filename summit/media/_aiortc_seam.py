"""Every private aiortc/aioice name the forwarding SFU relies on, in one place.

aiortc has no public API for forwarding encoded media, so these hooks reach into aiortc 1.16.0
(pinned in pyproject.toml). ``tests/test_media_seam.py`` fails when any of them moves.

- ``aiortc.rtcrtpreceiver.get_decoder``: the decoder thread of every ``RTCRtpReceiver`` looks this
  module-level name up; replacing it makes remote tracks yield encoded ``av.Packet`` s.
- ``RTCRtpReceiver._handle_rtp_packet(packet, arrival_time_ms)``: tapped per instance to read the
  media SSRC and the RFC 6464 audio level of every incoming packet.
- ``RTCRtpReceiver._send_rtcp_pli(media_ssrc)``: asks a publisher for a keyframe.
- ``RTCRtpSender._send_keyframe()``: called when a subscriber sends PLI/FIR; replaced per instance
  so the request reaches the publisher instead of an encoder that does not exist.
- ``RTCRtpSender._next_encoded_frame(codec)`` returning ``RTCEncodedFrame`` with ``audio_level``
  (dBov, <= 0): wrapped per instance to stamp forwarded audio with its level.
- ``RTCRtpReceiver.__decoder_queue`` (``_RTCRtpReceiver__decoder_queue``): the queue that
  ``_handle_rtp_packet`` puts ``(codec, encoded_frame)`` on for the decoder thread
  (``decoder_worker(loop, input_q, output_q, decode_error)``). The media worker swaps it for a
  sink that forwards each complete frame inline, skipping the thread hop per frame.
- ``aioice.ice.get_host_addresses(use_ipv4, use_ipv6)``: restricts ICE host candidates.

One behaviour of the public API is worked around here as well: ``RTCPeerConnection.close()``
marks the connection closing before it awaits its transports, and every later ``close()`` waits
for that first one; a first close cut short by a cancellation leaves them waiting forever
(``close_peer``).
"""

from __future__ import annotations

import asyncio
import fractions
import queue
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import aioice.ice
import av
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, rtcrtpreceiver
from aiortc.codecs import get_decoder as _aiortc_get_decoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

AIORTC_VERSION = "1.16.0"

_original_host_addresses = aioice.ice.get_host_addresses

#: Closes under way, kept referenced until they end (``close_peer``).
_closing: set[asyncio.Task[None]] = set()


async def close_peer(pc: RTCPeerConnection) -> None:
    """Close ``pc``. A close once begun runs to its end even when the caller is cancelled
    (a socket that goes away, a bot told to stop mid-reconnect), so that no later close of the
    same connection waits forever for it."""
    task = asyncio.ensure_future(pc.close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)
    await asyncio.shield(task)


# aiortc's receiver module looks its decoder factory up by this private module-level name.
_receiver_module: Any = rtcrtpreceiver


def is_vp8_keyframe(data: bytes) -> bool:
    """A VP8 frame is a keyframe when bit 0 of its frame tag is 0 (RFC 6386, section 9.1)."""
    return len(data) > 0 and data[0] & 0x01 == 0


class PassthroughDecoder:
    """Stands in for aiortc's decoder: hands the encoded frame on as an ``av.Packet``.

    ``pts`` is the (unwrapped) RTP timestamp, ``time_base`` 1/clock rate, and ``is_keyframe`` is
    read from the VP8 frame tag; every audio frame counts as a keyframe.
    """

    def __init__(self, codec: RTCRtpCodecParameters) -> None:
        self.mime_type = codec.mimeType.lower()
        self.time_base = fractions.Fraction(1, codec.clockRate)

    def decode(self, encoded_frame: Any) -> list[av.Packet[Any]]:
        data: bytes = encoded_frame.data
        packet = av.Packet(data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = self.time_base
        if self.mime_type == "video/vp8":
            packet.is_keyframe = is_vp8_keyframe(data)
        else:
            packet.is_keyframe = not self.mime_type.startswith("video/")
        return [packet]


def _passthrough_get_decoder(codec: RTCRtpCodecParameters) -> PassthroughDecoder:
    return PassthroughDecoder(codec)


def install_passthrough() -> None:
    """Make every ``RTCRtpReceiver`` of this process yield encoded packets (idempotent)."""
    _receiver_module.get_decoder = _passthrough_get_decoder


def uninstall_passthrough() -> None:
    """Restore aiortc's decoders (used by the re-encoding baseline of the benchmark)."""
    _receiver_module.get_decoder = _aiortc_get_decoder


def passthrough_installed() -> bool:
    return bool(_receiver_module.get_decoder is _passthrough_get_decoder)


def restrict_host_addresses(addresses: list[str] | None) -> None:
    """Offer only these host addresses as ICE candidates (``None`` restores aioice's default).

    Tests use ``["127.0.0.1"]``: aioice never offers loopback candidates by itself.
    """
    if addresses is None:
        aioice.ice.get_host_addresses = _original_host_addresses
        return
    chosen = list(addresses)

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = get_host_addresses


def tap_receiver(receiver: RTCRtpReceiver, callback: Callable[[RtpPacket], None]) -> None:
    """Call ``callback`` with every RTP packet routed to ``receiver`` before aiortc handles it."""
    original = receiver._handle_rtp_packet

    async def handle(packet: RtpPacket, arrival_time_ms: int) -> None:
        callback(packet)
        await original(packet, arrival_time_ms)

    receiver._handle_rtp_packet = handle  # type: ignore[method-assign]


def consume_receiver(receiver: RTCRtpReceiver, callback: Callable[[RtpPacket], None]) -> None:
    """Hand every RTP packet routed to ``receiver`` to ``callback`` *instead of* aiortc: no
    jitter buffer, NACK or decoder. Load-test bots use it to count cheaply."""

    async def handle(packet: RtpPacket, arrival_time_ms: int) -> None:
        callback(packet)

    receiver._handle_rtp_packet = handle  # type: ignore[method-assign]


class _InlineSink:
    """Takes the place of a receiver's decoder queue: complete encoded frames go to
    ``deliver(codec, frame)`` on the event-loop thread; the decoder thread (if started with this
    sink) just waits for the stop signal."""

    def __init__(
        self, original: queue.Queue[Any], deliver: Callable[[RTCRtpCodecParameters, Any], None]
    ) -> None:
        self._original = original
        self._deliver = deliver
        self._stopped = threading.Event()

    def put(self, task: Any) -> None:
        if task is None:
            self._stopped.set()
            self._original.put(None)  # in case the thread was started on the original queue
            return
        codec, encoded_frame = task
        self._deliver(codec, encoded_frame)

    def get(self) -> None:
        self._stopped.wait()
        return None


def forward_frames_inline(
    receiver: RTCRtpReceiver, deliver: Callable[[RTCRtpCodecParameters, Any], None]
) -> None:
    """Hand each complete encoded frame (``.data``, ``.timestamp``) of ``receiver`` to
    ``deliver`` as soon as aiortc's jitter buffer assembles it, instead of queueing it for the
    decoder thread. The receiver's track then never yields anything."""
    name = "_RTCRtpReceiver__decoder_queue"
    original = getattr(receiver, name)
    setattr(receiver, name, _InlineSink(original, deliver))


async def send_pli(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Send a Picture Loss Indication for ``media_ssrc`` to the remote publisher."""
    await receiver._send_rtcp_pli(media_ssrc)


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call ``callback`` instead of flagging the (unused) encoder when the remote asks for a
    keyframe (PLI or FIR)."""
    sender._send_keyframe = callback  # type: ignore[method-assign]


def stamp_audio_level(sender: RTCRtpSender, level: Callable[[], int | None]) -> None:
    """Send the RFC 6464 level returned by ``level()`` (0 loud … 127 silent) with each packet
    that ``sender`` packs from an encoded packet (aiortc only computes it for raw audio)."""
    original: Callable[[RTCRtpCodecParameters], Awaitable[Any]] = sender._next_encoded_frame

    async def next_encoded_frame(codec: RTCRtpCodecParameters) -> Any:
        frame = await original(codec)
        if frame is not None:
            value = level()
            if value is not None:
                frame.audio_level = -value
        return frame

    sender._next_encoded_frame = next_encoded_frame  # type: ignore[method-assign]
