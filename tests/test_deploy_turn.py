"""TURN through coturn with the app's time-limited logins (docs/deploy.md#turn).

A coturn started here on loopback with the production configuration
(``deploy/coturn/turnserver.conf``, overridden to listen and relay on 127.0.0.1):

* the login the app hands a browser allocates a relay and carries datagrams both ways
  (aioice's TURN client against the real coturn); a wrong secret, an expired login and a login
  with another user's password are refused (401);
* two Chromium participants forced to ``iceTransportPolicy: "relay"`` see each other's video
  through coturn and the media worker: every byte of their media crosses the relay.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from deploy.stack import TURNSERVER, Coturn, ensure_package
from summit.video.config import VideoSettings
from tests.support.browser import chromium, needs_chromium, run_server, wait_playing


@pytest.fixture(scope="module")
def coturn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Coturn]:
    if not ensure_package("coturn", TURNSERVER):
        pytest.skip("coturn is not installed (scripts/install --test)")
    server = Coturn(tmp_path_factory.mktemp("coturn"), secrets.token_urlsafe(24))
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Peer(asyncio.DatagramProtocol):
    """A UDP endpoint that keeps what it receives (and from where)."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.put_nowait((data, addr))


async def _allocate(coturn: Coturn, username: str, password: str) -> tuple[Any, Peer]:
    from aioice import turn

    return await asyncio.wait_for(
        turn.create_turn_endpoint(
            Peer,
            server_addr=("127.0.0.1", coturn.port),
            username=username,
            password=password,
            lifetime=120,
            transport="udp",
        ),
        10,
    )


def _settings(coturn: Coturn, secret: str | None = None) -> VideoSettings:
    return VideoSettings.from_env(
        {
            "SUMMIT_TURN_URLS": coturn.url,
            "SUMMIT_TURN_SECRET": secret or coturn.secret,
            "SUMMIT_TURN_TTL": "600",
        }
    )


async def _relay_round_trip(coturn: Coturn, username: str, password: str) -> None:
    relay, client = await _allocate(coturn, username, password)
    loop = asyncio.get_running_loop()
    peer_transport, peer = await loop.create_datagram_endpoint(Peer, local_addr=("127.0.0.1", 0))
    try:
        relayed = relay.get_extra_info("sockname")
        assert relayed[0] == "127.0.0.1" and relayed[1] != coturn.port
        relay.sendto(b"to the peer", peer_transport.get_extra_info("sockname"))
        data, source = await asyncio.wait_for(peer.received.get(), 10)
        assert (data, source) == (b"to the peer", tuple(relayed))  # it came out of the relay
        peer_transport.sendto(b"back", source)
        data, _source = await asyncio.wait_for(client.received.get(), 10)
        assert data == b"back"
    finally:
        peer_transport.close()
        relay.close()
        await asyncio.sleep(0.1)


def test_the_apps_login_relays_media_through_coturn(coturn: Coturn) -> None:
    login = _settings(coturn).turn_login("p7")
    assert login is not None
    username, password = login
    assert username.endswith(":p7") and int(username.split(":")[0]) > time.time() + 500
    asyncio.run(_relay_round_trip(coturn, username, password))


def _refused(coturn: Coturn, username: str, password: str) -> str:
    from aioice.stun import TransactionFailed

    async def attempt() -> str:
        try:
            relay, _client = await _allocate(coturn, username, password)
        except TransactionFailed as exc:
            return str(exc)
        relay.close()
        return "allocated"

    return asyncio.run(attempt())


def test_coturn_refuses_wrong_expired_and_borrowed_logins(coturn: Coturn) -> None:
    wrong = _settings(coturn, secret="not-the-secret").turn_login("p7")
    expired = _settings(coturn).turn_login("p7", now=time.time() - 700)
    mine = _settings(coturn).turn_login("p7")
    assert wrong and expired and mine
    borrowed = (mine[0].replace(":p7", ":p8"), mine[1])  # another user's name, p7's password
    for username, password in (wrong, expired, borrowed):
        assert "401" in _refused(coturn, username, password)


# --- two browsers, relay only ---------------------------------------------------------------------


@dataclass
class Pair:
    links: dict[str, str]
    media: dict[str, str]


async def _two_at_one_online_table(data_dir: Path) -> Pair:
    from summit.core import service as repository
    from summit.core.db import Database, upgrade
    from summit.core.models import Participant, Round, Seat, SummitTable
    from summit.demo import create_demo

    url = f"sqlite+aiosqlite:///{data_dir / 'summit.db'}"
    await upgrade(url)
    db = Database(url)
    try:
        await create_demo(db, participants=48, rounds=1)
        async with db.session() as session:
            rows = (
                await session.execute(
                    select(Participant, SummitTable.id)
                    .join(Seat, Seat.participant_id == Participant.id)
                    .join(SummitTable, SummitTable.id == Seat.table_id)
                    .join(Round, Round.id == Seat.round_id)
                    .where(Round.number == 1, SummitTable.kind == "online", ~Seat.is_host)
                    .order_by(SummitTable.id, Participant.id)
                )
            ).all()
            first_table = rows[0][1]
            a, b = [person for person, table in rows if table == first_table][:2]
            links = {
                key: "/p/" + await repository.issue_link(session, person, actor="test")
                for key, person in (("a", a), ("b", b))
            }
        return Pair(links, {"a": f"p{a.id}", "b": f"p{b.id}"})
    finally:
        await db.dispose()


# Every RTCPeerConnection the page makes gathers and uses relay candidates only.
FORCE_RELAY = """
(() => {
  const Original = window.RTCPeerConnection;
  window.__peerConnections = [];
  window.RTCPeerConnection = function (config) {
    const pc = new Original({ ...(config || {}), iceTransportPolicy: "relay" });
    window.__peerConnections.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Original.prototype;
})();
"""

# The candidate types of the pairs in use, on every connection of the page.
SELECTED_TYPES = """async () => {
  const types = [];
  for (const pc of window.__peerConnections) {
    const stats = await pc.getStats();
    for (const report of stats.values()) {
      if (report.type === "transport" && report.selectedCandidatePairId) {
        const pair = stats.get(report.selectedCandidatePairId);
        types.push(stats.get(pair.localCandidateId).candidateType);
      }
    }
  }
  return types;
}"""


@pytest.mark.browser
@needs_chromium
@pytest.mark.timeout(240)
def test_two_browsers_see_each_other_through_the_relay_only(coturn: Coturn, tmp_path: Path) -> None:
    pair = asyncio.run(_two_at_one_online_table(tmp_path))
    env = {
        "SUMMIT_MEDIA_WORKERS": "1",
        "SUMMIT_MEDIA_LOOPBACK": "1",
        "SUMMIT_TURN_URLS": f"{coturn.url}?transport=udp",
        "SUMMIT_TURN_SECRET": coturn.secret,
    }
    with run_server(tmp_path, env=env, args=["--no-demo"]) as server, chromium() as browser:
        pages = {}
        for key in ("a", "b"):
            page = browser.new_context(locale="en-GB").new_page()
            page.add_init_script(FORCE_RELAY)
            page.goto(server.url + pair.links[key])
            page.goto(server.url + "/me/video?lang=en")
            info = page.evaluate("fetch('/me/video.json').then((r) => r.json())")
            assert info["ice_servers"][0]["username"].endswith(":" + pair.media[key])
            page.locator("#video-join").click()
            pages[key] = page
        for key, other in (("a", "b"), ("b", "a")):
            wait_playing(pages[key], pair.media[other], timeout=45)
            types = pages[key].evaluate(SELECTED_TYPES)
            assert types and set(types) == {"relay"}, types
