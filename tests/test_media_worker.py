"""End to end on loopback: bots publish to a forwarding worker and count what reaches them.

Whose media a slot carries is read from the stream itself (each bot's VP8 frame width and RFC 6464
audio level are its own), so these tests check routing, not just that packets flow.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import time
from collections.abc import Awaitable, Callable
from functools import cache

import pytest

from summit.media import (
    AccessDenied,
    MediaConfig,
    MediaEvent,
    MediaSupervisor,
    MediaValueError,
    MediaWorker,
    ProtocolError,
    parse_server_message,
)
from summit.media import _aiortc_seam as seam
from summit.media.bots import Bot, Clip, make_clip

CONFIG = MediaConfig(host_addresses=("127.0.0.1",))
SWITCH_BOUND_S = 3.0


@pytest.fixture(autouse=True)
def loopback() -> object:
    # aioice never offers 127.0.0.1 by itself.
    seam.restrict_host_addresses(["127.0.0.1"])
    yield
    seam.restrict_host_addresses(None)


@cache
def clip(i: int) -> Clip:
    # 10 fps video and 60 ms audio packets keep a whole table in one process light enough for
    # a shared 2-core machine; routing does not depend on the packet rate.
    return make_clip(
        64 + 16 * i, 48, fps=10, seconds=2.0, bitrate=60_000, seed=i, audio_frame_ms=60
    )


def width(i: int) -> int:
    return 64 + 16 * i


def level(i: int, round_no: int = 1) -> int:
    return 10 + i + 40 * (round_no - 1)


def make_bot(i: int, **kwargs: int) -> Bot:
    return Bot(f"p{i}", clip(i), audio_level=kwargs.get("audio_level", level(i)))


async def join(worker: MediaWorker | MediaSupervisor, bot: Bot, table: str, slots: int) -> None:
    pid = bot.participant_id
    await bot.publish(lambda sdp: worker.publish(pid, table, sdp))
    await bot.subscribe(lambda sdp: worker.subscribe(pid, sdp), slots=slots)


async def wait_until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()


def hears_and_sees(bot: Bot, others: list[int], minimum: int = 1, round_no: int = 1) -> bool:
    video, audio = bot.received("video"), bot.received("audio")
    return all(
        video.get(width(i), 0) >= minimum and audio.get(level(i, round_no), 0) >= minimum
        for i in others
    )


def foreign(bot: Bot, allowed: list[int], round_no: int = 1) -> tuple[set[int], set[int]]:
    """Identities received since the last mark() that are not among ``allowed``."""
    video = set(bot.received("video")) - {width(i) for i in allowed}
    audio = set(bot.received("audio")) - {level(i, round_no) for i in allowed}
    return video, audio


async def close_all(bots: list[Bot], worker: MediaWorker) -> None:
    for bot in bots:
        await bot.close()
    await worker.close()


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())


def test_table_of_eight_everyone_receives_everyone_then_round_switch() -> None:
    async def scenario() -> None:
        worker = MediaWorker(CONFIG)
        bots = [make_bot(i) for i in range(8)]
        try:
            for bot in bots:
                await worker.assign(bot.participant_id, "t1")
            await asyncio.gather(*(join(worker, bot, "t1", slots=7) for bot in bots))
            everyone = list(range(8))
            assert await wait_until(
                lambda: all(
                    hears_and_sees(b, [j for j in everyone if j != i], minimum=5)
                    for i, b in enumerate(bots)
                ),
                45,
            ), [(b.received("video"), b.received("audio")) for b in bots]
            for i, bot in enumerate(bots):
                assert sorted(worker.layout(bot.participant_id), key=str) == sorted(
                    f"p{j}" for j in everyone if j != i
                )
                # a bot never receives itself
                assert width(i) not in bot.received("video")
                assert level(i) not in bot.received("audio")
            stats = worker.stats()
            assert stats["tables"]["t1"]["publishing"] == 8
            assert all(s["video_frames_in"] > 0 for s in stats["sources"].values())

            # Round switch: two new tables of four, without renegotiation.
            tables = {i: ("t2a" if i < 4 else "t2b") for i in everyone}
            mates = {
                i: [j for j in everyone if tables[j] == tables[i] and j != i] for i in everyone
            }
            pcs = [(b.publish_pc, b.subscribe_pc) for b in bots]
            for bot in bots:
                bot.mark()
            started = time.monotonic()
            for i, bot in enumerate(bots):
                await worker.assign(bot.participant_id, tables[i])
                # Packets with the new level were sent after the switch; the server sends on one
                # bundled socket per subscriber, so once they arrive nothing older is in flight.
                bot.audio_track.level = level(i, round_no=2)

            def arrivals() -> list[float] | None:
                """When each mate's video and audio first reached the slot now showing them."""
                times = []
                for i, bot in enumerate(bots):
                    layout = worker.layout(bot.participant_id)
                    for j in mates[i]:
                        k = layout.index(f"p{j}")
                        video = bot.slots[("video", k)].identity_first_seen.get(width(j))
                        audio = bot.slots[("audio", k)].identity_first_seen.get(level(j, 2))
                        if video is None or audio is None:
                            return None
                        times += [video, audio]
                return times

            assert await wait_until(lambda: arrivals() is not None, 10)
            gap = max(arrivals() or [math.inf]) - started
            assert gap < SWITCH_BOUND_S, f"media took {gap:.2f}s after the round switch"
            assert pcs == [(b.publish_pc, b.subscribe_pc) for b in bots]
            for bot in bots:
                bot.mark()
            await asyncio.sleep(1.0)
            for i, bot in enumerate(bots):
                assert foreign(bot, mates[i], round_no=2) == (set(), set()), bot.participant_id
                assert hears_and_sees(bot, mates[i], minimum=3, round_no=2)
        finally:
            await close_all(bots, worker)

    run(scenario)


def test_only_the_own_table_is_ever_received() -> None:
    async def scenario() -> None:
        events: list[MediaEvent] = []
        # Frames go through the passthrough decoder thread here (the inline path elsewhere).
        config = MediaConfig(host_addresses=("127.0.0.1",), inline_frames=False)
        worker = MediaWorker(config, on_event=events.append)
        bots = [make_bot(i) for i in range(3)]
        try:
            await worker.assign("p0", "tA")
            await worker.assign("p1", "tA")
            await worker.assign("p2", "tB")
            # Another table's "credentials": refused before any media is set up.
            with pytest.raises(AccessDenied, match="not seated at table 'tA'"):
                await worker.subscribe("p2", "v=0\r\n", table_id="tA")
            with pytest.raises(AccessDenied, match="seated at table 'tB'"):
                await worker.publish("p2", "tA", "v=0\r\n")
            with pytest.raises(AccessDenied, match="not seated"):
                await worker.subscribe("intruder", "v=0\r\n")
            with pytest.raises(MediaValueError, match="table_id"):
                await worker.assign("p3", "table 9")
            for i, bot in enumerate(bots):
                await join(worker, bot, "tA" if i < 2 else "tB", slots=3)
            assert await wait_until(lambda: hears_and_sees(bots[0], [1], minimum=10), 10)
            assert bots[2].received("video") == {} and bots[2].received("audio") == {}
            assert worker.layout("p2") == [None, None, None]

            # A moderator visits table tA: its members are told, the moderator hears them.
            # (counting raw RTP, as the benchmark's bots do)
            moderator = Bot("mod", clip(5), audio_level=level(5), light=True)
            await worker.visit("mod", "tA")
            await moderator.subscribe(lambda sdp: worker.subscribe("mod", sdp), slots=3)
            visits = [
                parse_server_message(e.message) for e in events if e.message["type"] == "visitor"
            ]
            assert visits and visits[-1]["present"] is True
            assert {p for e in events if e.message["type"] == "visitor" for p in e.to} == {
                "p0",
                "p1",
            }
            assert await wait_until(lambda: hears_and_sees(moderator, [0, 1]), 10)
            await worker.visit("mod", None)
            assert events[-1].message["present"] is False
            await moderator.close()

            # p0 moves to tB: from then on p1 gets nothing of p0, and p2 gets only p0.
            await worker.assign("p0", "tB")
            await asyncio.sleep(1.0)  # packets sent before the move may still be in flight
            for bot in bots:
                bot.mark()
            await asyncio.sleep(1.5)
            assert foreign(bots[1], []) == (set(), set())
            assert foreign(bots[2], [0]) == (set(), set())
            assert hears_and_sees(bots[2], [0], minimum=3)
            layouts = [
                parse_server_message(e.message)
                for e in events
                if e.message["type"] == "layout" and e.to == ("p2",)
            ]
            assert layouts[-1]["table_id"] == "tB"
            assert [s["participant_id"] for s in layouts[-1]["slots"]] == ["p0", None, None]
        finally:
            await close_all(bots, worker)

    run(scenario)


def test_speaking_time_from_known_audio_levels() -> None:
    async def scenario() -> None:
        worker = MediaWorker(CONFIG)
        levels = {0: 20, 1: 127, 2: 127}  # p0 talks, p1 and p2 are silent
        bots = [Bot(f"p{i}", clip(i), audio_level=levels[i]) for i in range(3)]
        try:
            await worker.begin_round("r1")
            for bot in bots:
                await worker.assign(bot.participant_id, "t1")
                pid = bot.participant_id
                await bot.publish(lambda sdp, pid=pid: worker.publish(pid, "t1", sdp), video=False)
            await asyncio.sleep(1.5)
            bots[2].audio_track.level = 30  # p2 starts talking
            talk_started = time.monotonic()
            await asyncio.sleep(1.0)
            bots[2].audio_track.level = 127
            talked = time.monotonic() - talk_started
            await asyncio.sleep(0.5)
            summary = worker.speaking("t1", min_seconds=0.5)
            seconds = summary.seconds
            assert 1.5 <= seconds["p0"] <= 3.5
            assert seconds["p1"] == 0.0
            assert abs(seconds["p2"] - talked) < 0.6
            assert summary.silent == ("p1",)
            sources = worker.stats()["sources"]
            # Silent microphones are not forwarded (like Opus DTX); speakers are.
            assert sources["p1"]["audio_suppressed"] > 0
            assert sources["p0"]["audio_suppressed"] == 0
            assert 0.2 < summary.gini < 0.7
            # A new round starts from zero; the old one stays queryable.
            await worker.begin_round("r2")
            assert worker.speaking("t1").seconds["p2"] == 0.0
            assert worker.speaking("t1", round_id="r1").seconds["p0"] >= 1.5
        finally:
            await close_all(bots, worker)

    run(scenario)


def test_killed_worker_process_is_replaced_and_bots_reconnect() -> None:
    async def scenario() -> None:
        restarted: list[tuple[int, list[str]]] = []
        events: list[MediaEvent] = []
        supervisor = MediaSupervisor(
            workers=2,
            config=CONFIG,
            on_event=events.append,
            on_restart=lambda i, pids: restarted.append((i, pids)),
            heartbeat=0.5,
        )
        await supervisor.start()
        bots = [make_bot(i) for i in range(3)]
        try:
            for bot in bots:
                await supervisor.assign(bot.participant_id, "t1")
            await asyncio.gather(*(join(supervisor, b, "t1", slots=2) for b in bots))
            assert await wait_until(lambda: hears_and_sees(bots[0], [1, 2], minimum=5), 15)
            # Errors cross the worker pipe with their type and field.
            with pytest.raises(ProtocolError, match="recvonly") as info:
                await supervisor.subscribe("p0", "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n")
            assert info.value.field == "sdp"
            index = supervisor.worker_of("t1")
            victim = supervisor.worker_pids()[index]
            os.kill(victim, signal.SIGKILL)
            assert await wait_until(lambda: bool(restarted), 15)
            await supervisor.wait_ready()
            assert restarted == [(index, ["p0", "p1", "p2"])]
            assert supervisor.worker_pids()[index] != victim
            told = {
                e.to[0]
                for e in events
                if e.message["type"] == "reconnect" and e.message["reason"] == "worker_restarted"
            }
            assert told == {"p0", "p1", "p2"}
            # The bots reconnect (their seats were kept) and media flows again.
            for bot in bots:
                bot.mark()
            await asyncio.gather(*(join(supervisor, b, "t1", slots=2) for b in bots))
            assert await wait_until(
                lambda: all(
                    hears_and_sees(b, [j for j in range(3) if j != i], minimum=5)
                    for i, b in enumerate(bots)
                ),
                15,
            )
            # A table on the other worker: moving there means reconnecting.
            other = supervisor.worker_of("t2")
            assert other != index
            assert await supervisor.assign("p2", "t2") is True
            assert events[-1].message == {"v": 1, "type": "reconnect", "reason": "moved"}
            assert await supervisor.assign("p1", "t1") is False
            stats = await supervisor.stats()
            assert stats[index]["tables"]["t1"]["members"] == ["p0", "p1"]
            assert stats[other]["tables"]["t2"]["members"] == ["p2"]
            # p2 reconnects as told and meets p3 at t2 on the other worker; t1 no longer gets p2.
            newcomer = make_bot(3)
            bots.append(newcomer)
            await supervisor.assign("p3", "t2")
            for bot in bots:
                bot.mark()
            await asyncio.gather(
                join(supervisor, bots[2], "t2", slots=2), join(supervisor, newcomer, "t2", slots=2)
            )
            assert await wait_until(
                lambda: hears_and_sees(bots[2], [3], minimum=5)
                and hears_and_sees(newcomer, [2], minimum=5)
                and hears_and_sees(bots[0], [1], minimum=5),
                15,
            )
            assert foreign(bots[2], [3]) == (set(), set())
            assert foreign(newcomer, [2]) == (set(), set())
            assert foreign(bots[0], [1]) == (set(), set())
        finally:
            for bot in bots:
                await bot.close()
            await supervisor.close()

    run(scenario)
