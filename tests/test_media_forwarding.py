"""Slot tracks: monotonic timestamps across switches, keyframe gating, slow-subscriber flush."""

from __future__ import annotations

import asyncio
import fractions

from aiortc import RTCRtpReceiver
from aiortc.rtcdtlstransport import RTCCertificate, RTCDtlsTransport
from aiortc.rtcicetransport import RTCIceGatherer, RTCIceTransport
from hypothesis import given, settings
from hypothesis import strategies as st

from summit.media.forwarding import SlotTrack, Source

TB = fractions.Fraction(1, 90000)
CERT = RTCCertificate.generateCertificate()


def source(name: str) -> Source:
    transport = RTCDtlsTransport(RTCIceTransport(RTCIceGatherer()), [CERT])
    receiver = RTCRtpReceiver("video", transport)
    return Source(name, "video", receiver.track, receiver)  # type: ignore[arg-type]


ops = st.lists(
    st.one_of(
        st.tuples(st.just("frame"), st.integers(0, 1), st.booleans(), st.integers(1, 9000)),
        st.tuples(st.just("switch"), st.one_of(st.none(), st.integers(0, 1))),
        st.tuples(st.just("read")),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(ops, st.integers(2, 6))
def test_slot_output_is_monotonic_gated_and_only_from_the_current_source(
    steps: list[tuple[object, ...]], max_queue: int
) -> None:
    async def scenario() -> None:
        sources = [source("a"), source("b")]
        clocks = [0, 10**6]
        slot = SlotTrack("video", 0, max_queue=max_queue)
        current: int | None = None
        need_key = True
        last_pts: int | None = None
        counter = 0
        for step in steps:
            if step[0] == "switch":
                target = step[1]
                slot.point_to(None if target is None else sources[target])  # type: ignore[index]
                if target != current:
                    need_key = True
                current = target  # type: ignore[assignment]
            elif step[0] == "frame":
                _, index, key, delta = step
                clocks[index] += delta  # type: ignore[index, operator]
                counter += 1
                data = f"{'ab'[index]}:{counter}:{int(key)}".encode()  # type: ignore[index]
                sources[index].forward(data, clocks[index], TB, bool(key))  # type: ignore[index]
            # Read everything queued; each packet must come from the source shown now.
            while slot._queue:
                packet = await slot.recv()
                name, _, key = bytes(packet).decode().split(":")
                assert current is not None and name == "ab"[current]
                if need_key:
                    assert key == "1", "a new source must start at a keyframe"
                    need_key = False
                assert last_pts is None or packet.pts > last_pts
                last_pts = packet.pts
        slot.stop()

    asyncio.run(scenario())


def test_slow_subscriber_is_flushed_and_waits_for_a_keyframe() -> None:
    async def scenario() -> None:
        a = source("a")
        slot = SlotTrack("video", 0, max_queue=3)
        slot.point_to(a)
        a.forward(b"k0", 0, TB, True)
        for i in range(1, 4):
            a.forward(f"d{i}".encode(), 3000 * i, TB, False)
        assert slot.flushes == 1 and slot.dropped == 4
        assert not slot._queue
        a.forward(b"d5", 15000, TB, False)  # still waiting for a keyframe
        a.forward(b"k6", 18000, TB, True)
        assert bytes(await slot.recv()) == b"k6"
        assert a.keyframe_requests >= 2  # one on subscribing, one after the flush
        slot.stop()

    asyncio.run(scenario())


def test_keyframe_requests_target_the_media_ssrc_and_are_rate_limited() -> None:
    from aiortc.rtp import RtpPacket

    async def scenario() -> None:
        transport = RTCDtlsTransport(RTCIceTransport(RTCIceGatherer()), [CERT])
        receiver = RTCRtpReceiver("video", transport)
        a = Source(
            "a",
            "video",
            receiver.track,
            receiver,  # type: ignore[arg-type]
            rtx_payload_types=frozenset({97}),
            keyframe_interval=0.2,
        )
        a.request_keyframe()  # before any packet: remembered, not sent
        assert a.plis_sent == 0
        # Chrome sends RTX padding first; its SSRC must never become the PLI target.
        await receiver._handle_rtp_packet(RtpPacket(payload_type=97, ssrc=2222), 0)
        assert a.media_ssrc is None and a.plis_sent == 0
        await receiver._handle_rtp_packet(RtpPacket(payload_type=96, ssrc=1111), 0)
        assert a.media_ssrc == 1111 and a.plis_sent == 1  # the remembered request goes out
        for _ in range(5):
            a.request_keyframe()
        assert a.plis_sent == 1  # inside the interval: deferred, and folded into one
        deadline = asyncio.get_running_loop().time() + 5
        while a.plis_sent < 2 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        assert a.plis_sent == 2
        await asyncio.sleep(0.3)
        assert a.plis_sent == 2  # nothing more without a new request
        await a.stop()

    asyncio.run(scenario())
