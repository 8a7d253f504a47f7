"""The private aiortc/aioice names the forwarding SFU uses must not move (aiortc is pinned)."""

from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace
from typing import Any

import aioice.ice
import aiortc
import av
from aiortc import RTCRtpReceiver, RTCRtpSender, rtcrtpreceiver, rtcrtpsender
from aiortc.codecs import get_decoder
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from hypothesis import given, settings
from hypothesis import strategies as st

from summit.media import _aiortc_seam as seam
from summit.media.bots import make_clip


def _params(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)  # type: ignore[arg-type]


def test_aiortc_is_the_pinned_version() -> None:
    assert aiortc.__version__ == seam.AIORTC_VERSION == "1.16.0"


def test_receiver_seam_names_and_signatures() -> None:
    # The decoder thread looks up the module-level name at run time.
    assert rtcrtpreceiver.get_decoder is get_decoder or seam.passthrough_installed()
    worker_source = inspect.getsource(rtcrtpreceiver.decoder_worker)
    assert "decoder = get_decoder(codec)" in worker_source
    assert "decoder.decode(encoded_frame)" in worker_source
    assert _params(RTCRtpReceiver._handle_rtp_packet) == ["self", "packet", "arrival_time_ms"]
    assert _params(RTCRtpReceiver._send_rtcp_pli) == ["self", "media_ssrc"]
    dtls_source = inspect.getsource(aiortc.rtcdtlstransport.RTCDtlsTransport._handle_rtp_data)
    assert "receiver._handle_rtp_packet(packet, arrival_time_ms=arrival_time_ms)" in dtls_source


def test_sender_seam_names_and_signatures() -> None:
    assert _params(RTCRtpSender._send_keyframe) == ["self"]
    assert _params(RTCRtpSender._next_encoded_frame) == ["self", "codec"]
    rtcp_source = inspect.getsource(RTCRtpSender._handle_rtcp_packet)
    assert "self._send_keyframe()" in rtcp_source
    run_source = inspect.getsource(RTCRtpSender._run_rtp)
    assert "await self._next_encoded_frame(codec)" in run_source
    assert "packet.extensions.audio_level = (False, -enc_frame.audio_level)" in run_source
    next_source = inspect.getsource(RTCRtpSender._next_encoded_frame)
    assert "self.__encoder.pack(data)" in next_source
    assert _params(rtcrtpsender.RTCEncodedFrame) == ["payloads", "timestamp", "audio_level"]
    assert _params(Vp8Encoder.pack) == ["self", "packet"]
    assert _params(OpusEncoder.pack) == ["self", "packet"]


def test_aioice_host_address_seam() -> None:
    assert _params(aioice.ice.get_host_addresses) == ["use_ipv4", "use_ipv6"]
    seam.restrict_host_addresses(["127.0.0.1", "::1"])
    try:
        assert aioice.ice.get_host_addresses(True, False) == ["127.0.0.1"]
        assert aioice.ice.get_host_addresses(True, True) == ["127.0.0.1", "::1"]
    finally:
        seam.restrict_host_addresses(None)


def test_passthrough_decoder_hands_on_encoded_frames() -> None:
    was_installed = seam.passthrough_installed()
    seam.install_passthrough()
    try:
        clip = make_clip(64, 48, fps=15, seconds=0.4, bitrate=50_000)
        vp8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
        decoder = rtcrtpreceiver.get_decoder(vp8)
        out = [
            decoder.decode(SimpleNamespace(data=d, timestamp=3000 * i))[0]
            for i, d in enumerate(clip.video)
        ]
        assert all(isinstance(p, av.Packet) for p in out)
        assert [bytes(p) for p in out] == list(clip.video)
        assert [p.pts for p in out] == [3000 * i for i in range(len(clip.video))]
        assert [bool(p.is_keyframe) for p in out] == list(clip.keyframes)
        assert out[0].time_base.denominator == 90000
        opus = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, payloadType=111)
        packet = rtcrtpreceiver.get_decoder(opus).decode(
            SimpleNamespace(data=clip.audio[0], timestamp=960)
        )[0]
        assert packet.is_keyframe and packet.time_base.denominator == 48000
        seam.uninstall_passthrough()
        assert not seam.passthrough_installed()
        assert type(rtcrtpreceiver.get_decoder(vp8)).__name__ == "Vp8Decoder"
    finally:
        if was_installed:
            seam.install_passthrough()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=20))
def test_vp8_keyframe_flag_is_frame_tag_bit_zero(data: bytes) -> None:
    assert seam.is_vp8_keyframe(data) == (len(data) > 0 and data[0] % 2 == 0)


def test_inline_forwarding_seam() -> None:
    # _handle_rtp_packet queues complete frames on the decoder queue the worker swaps out.
    handle_source = inspect.getsource(RTCRtpReceiver._handle_rtp_packet)
    assert "self.__decoder_queue.put((codec, encoded_frame))" in handle_source
    assert "encoded_frame.timestamp = self.__timestamp_mapper.map(" in handle_source
    assert _params(rtcrtpreceiver.decoder_worker) == ["loop", "input_q", "output_q", "decode_error"]
    stop_source = inspect.getsource(RTCRtpReceiver._RTCRtpReceiver__stop_decoder)  # type: ignore[attr-defined]
    assert "self.__decoder_queue.put(None)" in stop_source
    init_source = inspect.getsource(RTCRtpReceiver.__init__)
    assert "self.__decoder_queue: queue.Queue = queue.Queue()" in init_source


def test_a_close_cut_short_by_a_cancellation_does_not_hang_the_next_close() -> None:
    """aiortc's own ``close()``: a second close waits for the first, forever when the first was
    cancelled; ``close_peer`` finishes the first close regardless, so the second returns."""

    async def connected() -> tuple[aiortc.RTCPeerConnection, aiortc.RTCPeerConnection]:
        a, b = aiortc.RTCPeerConnection(), aiortc.RTCPeerConnection()
        a.addTransceiver("audio", direction="sendrecv")
        await a.setLocalDescription(await a.createOffer())
        await b.setRemoteDescription(a.localDescription)
        await b.setLocalDescription(await b.createAnswer())
        await a.setRemoteDescription(b.localDescription)
        return a, b

    async def second_close_returns(close: Any) -> bool:
        a, b = await connected()
        first = asyncio.get_running_loop().create_task(close(a))
        for _ in range(3):
            await asyncio.sleep(0)  # the first close is under way, inside its transports
        first.cancel()
        try:
            await asyncio.wait_for(close(a), 3)
            return True
        except TimeoutError:
            return False
        finally:
            await seam.close_peer(b)

    assert not asyncio.run(second_close_returns(lambda pc: pc.close()))  # aiortc 1.16.0 as is
    assert asyncio.run(second_close_returns(seam.close_peer))
