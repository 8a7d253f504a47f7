"""Media nodes: hosts that each run the media workers of some tables, and how the control plane
places tables on them.

* A node registers itself in Redis with its capacity (tables it takes), its load (tables it
  hosts) and a heartbeat; the time of a heartbeat is Redis's own clock (``TIME``), so the hosts'
  clocks need not agree. A node whose last heartbeat is older than ``DEAD_AFTER`` seconds is dead.
  Nodes beat every ``HEARTBEAT`` seconds, so a node that stops is declared dead within
  ``DEAD_AFTER + HEARTBEAT`` = 4 s of its last beat.
* A whole table lives on one node. A new table goes to the live, not draining node with the
  lowest load relative to its capacity (``place_table``). At a round change every table on a
  draining or dead node is placed again (``replan``); between rounds only the tables of dead
  nodes move (``failover``).
* A node accepts a participant only with a seat token: HMAC-SHA256 over participant, table, node
  and expiry, with a key shared only by the app and the nodes (``SUMMIT_MEDIA_NODE_KEY``). The
  token names the node, so a token for one node is refused by another, and it names the table,
  so it cannot be borrowed for another table.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .errors import AccessDenied, MediaError, MediaValueError, WorkerUnavailable

if TYPE_CHECKING:
    from .supervisor import MediaSupervisor

HEARTBEAT = 1.0
DEAD_AFTER = 3.0
TOKEN_SECONDS = 6 * 3600
REQUEST_SECONDS = 20.0

_NODES = "summit:media:nodes"
_DRAIN = "summit:media:drain"
_TABLES = "summit:media:tables"
NODE_EVENTS = "summit:media:node-events"
"""Redis channel on which nodes publish their workers' events (``layout``, ``visitor``,
``reconnect``) as ``{"node_id", "to": [participant ids], "message": server message}``."""


@dataclass(frozen=True)
class NodeInfo:
    node_id: str
    address: str
    capacity: int
    load: int
    draining: bool = False
    seen: float = 0.0

    def alive(self, now: float, dead_after: float = DEAD_AFTER) -> bool:
        return now - self.seen <= dead_after

    def takes_tables(self, now: float) -> bool:
        return self.alive(now) and not self.draining and self.capacity > 0


def _count(assignments: Mapping[str, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in assignments.values():
        counts[node] = counts.get(node, 0) + 1
    return counts


def place_table(
    nodes: Iterable[NodeInfo], assignments: Mapping[str, str], now: float
) -> str | None:
    """The node for a new table: live, not draining, with the lowest share of its capacity in
    use (tables already assigned to it, or the load it reports if that is higher); ties go to
    the node id that sorts first. ``None`` when no node takes tables."""
    counts = _count(assignments)
    best: tuple[float, str] | None = None
    for node in nodes:
        if not node.takes_tables(now):
            continue
        used = max(counts.get(node.node_id, 0), node.load)
        key = (used / node.capacity, node.node_id)
        if best is None or key < best:
            best = key
    return None if best is None else best[1]


def _move(
    nodes: list[NodeInfo], assignments: Mapping[str, str], now: float, leave: set[str]
) -> dict[str, str]:
    kept = {t: n for t, n in assignments.items() if n not in leave}
    # loads as seen after the move: tables leaving a node no longer count on it
    adjusted = [NodeInfo(n.node_id, n.address, n.capacity, 0, n.draining, n.seen) for n in nodes]
    moved: dict[str, str] = {}
    for table in sorted(t for t in assignments if t not in kept):
        target = place_table(adjusted, {**kept, **moved}, now)
        if target is not None:
            moved[table] = target
    return moved


def failover(
    nodes: Iterable[NodeInfo], assignments: Mapping[str, str], now: float
) -> dict[str, str]:
    """New nodes for the tables whose node is dead or unknown (table -> node)."""
    listed = list(nodes)
    live = {n.node_id for n in listed if n.alive(now)}
    leave = {node for node in assignments.values() if node not in live}
    return _move(listed, assignments, now, leave)


def replan(nodes: Iterable[NodeInfo], assignments: Mapping[str, str], now: float) -> dict[str, str]:
    """At a round change: new nodes for the tables on dead, unknown or draining nodes."""
    listed = list(nodes)
    taking = {n.node_id for n in listed if n.takes_tables(now)}
    leave = {node for node in assignments.values() if node not in taking}
    return _move(listed, assignments, now, leave)


# -- seat tokens -------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SeatClaim:
    participant_id: str
    table_id: str
    node_id: str
    expires: int


def node_key(value: str) -> bytes:
    """The shared key from its configured text (at least 32 characters)."""
    if len(value) < 32:
        raise MediaValueError("SUMMIT_MEDIA_NODE_KEY: needs at least 32 characters")
    return value.encode()


def sign_seat(key: bytes, claim: SeatClaim) -> str:
    payload = json.dumps(asdict(claim), separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def verify_seat(
    key: bytes, token: str, *, node_id: str, table_id: str, participant_id: str, now: float
) -> SeatClaim:
    """The claim in ``token`` when it is signed with ``key``, unexpired, and names this node,
    table and participant; ``AccessDenied`` otherwise."""
    try:
        payload_text, mac_text = token.split(".")
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except ValueError as exc:
        raise AccessDenied("token: malformed") from exc
    if not hmac.compare_digest(mac, hmac.new(key, payload, hashlib.sha256).digest()):
        raise AccessDenied("token: bad signature")
    try:
        claim = SeatClaim(**json.loads(payload))
    except (TypeError, ValueError) as exc:
        raise AccessDenied("token: malformed") from exc
    if claim.expires < now:
        raise AccessDenied("token: expired")
    if claim.node_id != node_id:
        raise AccessDenied("token: issued for another media node")
    if claim.table_id != table_id or claim.participant_id != participant_id:
        raise AccessDenied("token: issued for another seat")
    return claim


# -- the registry in Redis ---------------------------------------------------------------------


class NodeRegistry:
    """Nodes, their heartbeats, drains and the table -> node assignments, in Redis."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._client: Any = redis.from_url(url)

    async def close(self) -> None:
        await self._client.aclose()

    async def now(self) -> float:
        seconds, micros = await self._client.time()
        return float(seconds) + float(micros) / 1e6

    async def heartbeat(self, node_id: str, address: str, capacity: int, load: int) -> NodeInfo:
        seen = await self.now()
        draining = bool(await self._client.hexists(_DRAIN, node_id))
        info = NodeInfo(node_id, address, capacity, load, draining, seen)
        await self._client.hset(_NODES, node_id, json.dumps(asdict(info)))
        return info

    async def nodes(self) -> list[NodeInfo]:
        raw = await self._client.hgetall(_NODES)
        drains = await self._client.hgetall(_DRAIN)
        draining = {k.decode() for k in drains}
        out = []
        for value in raw.values():
            data = json.loads(value)
            data["draining"] = data["node_id"] in draining
            out.append(NodeInfo(**data))
        return sorted(out, key=lambda n: n.node_id)

    async def drain(self, node_id: str, *, on: bool = True) -> None:
        if on:
            await self._client.hset(_DRAIN, node_id, "1")
        else:
            await self._client.hdel(_DRAIN, node_id)

    async def assignments(self) -> dict[str, str]:
        raw = await self._client.hgetall(_TABLES)
        return {k.decode(): v.decode() for k, v in raw.items()}

    async def assign(self, moves: Mapping[str, str]) -> None:
        if moves:
            await self._client.hset(_TABLES, mapping=dict(moves))

    async def release(self, table_id: str) -> None:
        await self._client.hdel(_TABLES, table_id)

    async def node_for(self, table_id: str) -> str | None:
        """The node of ``table_id``, placing it on the least loaded node if it has none (or a
        dead one)."""
        current = await self.assignments()
        nodes = await self.nodes()
        now = await self.now()
        node = current.get(table_id)
        if node is not None and any(n.node_id == node and n.alive(now) for n in nodes):
            return node
        others = {t: n for t, n in current.items() if t != table_id}
        target = place_table(nodes, others, now)
        if target is None:
            return None
        if node is None:
            # a new table: the first placement wins, so that two app processes (or two people
            # joining at once) never split a table between two nodes
            await self._client.hsetnx(_TABLES, table_id, target)
            raw = await self._client.hget(_TABLES, table_id)
            return None if raw is None else str(raw.decode())
        await self.assign({table_id: target})
        return target

    async def publish_event(self, node_id: str, to: Iterable[str], message: Any) -> None:
        """Tell the app processes about a worker event (``NODE_EVENTS``)."""
        payload = {"node_id": node_id, "to": list(to), "message": message}
        await self._client.publish(NODE_EVENTS, json.dumps(payload))

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """The nodes' worker events, as they are published (for the app's hub)."""
        pubsub = self._client.pubsub()
        await pubsub.subscribe(NODE_EVENTS)
        try:
            async for item in pubsub.listen():
                if item.get("type") == "message":
                    yield json.loads(item["data"])
        finally:
            await pubsub.aclose()

    async def failover(self) -> dict[str, str]:
        moves = failover(await self.nodes(), await self.assignments(), await self.now())
        await self.assign(moves)
        return moves

    async def replan(self) -> dict[str, str]:
        moves = replan(await self.nodes(), await self.assignments(), await self.now())
        await self.assign(moves)
        return moves


# -- signalling between the app and a node ----------------------------------------------------
#
# JSON lines over TCP: {"op", "participant_id", "table_id", "token", "sdp"?} -> {"ok": true,
# "sdp": answer or result} or {"ok": false, "error": code, "message": text}. Ops: publish,
# subscribe, assign, visit (``end``: true ends it), speaking, leave, begin_round (table_id = the
# round's id). Every op needs a seat token for this node; all but leave and begin_round also
# need the table to be assigned to this node.


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise MediaValueError(f"address: expected HOST:PORT, got {address!r}")
    return host, int(port)


class NodeSignalling:
    """A node's signalling endpoint: admits a participant only with a valid seat token for a
    table that the control plane assigned to this node, then asks the node's workers."""

    def __init__(
        self, supervisor: MediaSupervisor, registry: NodeRegistry, node_id: str, key: bytes
    ) -> None:
        self.supervisor = supervisor
        self.registry = registry
        self.node_id = node_id
        self.key = key

    async def serve(self, address: str) -> asyncio.Server:
        host, port = split_address(address)
        return await asyncio.start_server(self._client, host, port)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                reply = await self.answer(line)
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise MediaValueError("request: expected a JSON object")
            return {"ok": True, "sdp": await self._answer(request)}
        except AccessDenied as exc:
            return {"ok": False, "error": "access_denied", "message": str(exc)}
        except (MediaError, ValueError, KeyError) as exc:
            return {"ok": False, "error": "media", "message": str(exc)}

    async def _answer(self, request: dict[str, Any]) -> Any:
        op = request.get("op")
        pid, table = str(request["participant_id"]), str(request["table_id"])
        verify_seat(
            self.key,
            str(request.get("token", "")),
            node_id=self.node_id,
            table_id=table,
            participant_id=pid,
            now=time.time(),
        )
        if op == "leave":  # the table may already have moved away: only the token counts
            await self.supervisor.leave(pid)
            return None
        if op == "begin_round":  # control: the table id is the round's id
            await self.supervisor.begin_round(table)
            return None
        if (await self.registry.assignments()).get(table) != self.node_id:
            raise AccessDenied(f"table_id: {table!r} is not assigned to this node")
        if op == "speaking":
            return await self.supervisor.speaking(table)
        if op == "assign":
            return await self.supervisor.assign(pid, table)
        if op == "visit":
            return await self.supervisor.visit(pid, None if request.get("end") else table)
        sdp = str(request["sdp"])
        if op == "publish":
            return await self.supervisor.publish(pid, table, sdp)
        if op == "subscribe":
            try:
                return await self.supervisor.subscribe(pid, sdp, table_id=table)
            except AccessDenied:
                await self.supervisor.assign(pid, table)
                return await self.supervisor.subscribe(pid, sdp, table_id=table)
        raise MediaValueError(f"op: unknown operation {op!r}")


async def node_call(address: str, request: Mapping[str, Any]) -> Any:
    """Send one request to the node at ``address``; its result (the SDP answer for
    ``publish``/``subscribe``), or ``AccessDenied``/``MediaError`` as the node answered,
    ``WorkerUnavailable`` if it cannot be reached."""
    host, port = split_address(address)
    try:
        async with asyncio.timeout(REQUEST_SECONDS):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(json.dumps(dict(request)).encode() + b"\n")
                await writer.drain()
                line = await reader.readline()
            finally:
                writer.close()
    except (OSError, TimeoutError) as exc:
        raise WorkerUnavailable(f"media node {address} did not answer") from exc
    if not line:
        raise WorkerUnavailable(f"media node {address} closed the connection")
    reply = json.loads(line)
    if reply.get("ok"):
        return reply.get("sdp")
    if reply.get("error") == "access_denied":
        raise AccessDenied(str(reply.get("message")))
    raise MediaError(str(reply.get("message")))


async def node_request(address: str, request: Mapping[str, Any]) -> str:
    """``node_call`` for ``publish``/``subscribe``: the SDP answer."""
    return str(await node_call(address, request))
