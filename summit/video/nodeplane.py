"""The media plane on media nodes (``summit media-node run``), for more than one host.

The app keeps the browser's WebSocket and protocol v1; ``NodePlane`` forwards each publish,
subscribe, assign, visit, speaking and leave to the node that hosts the participant's table,
with a seat token signed for that participant, table and node (``SUMMIT_MEDIA_NODE_KEY``). The
browser never learns how many nodes there are, their addresses or a token.

* A table goes to the least loaded live node the first time someone signals for it
  (``NodeRegistry.node_for``); the whole table stays there.
* Every ``CHECK_SECONDS`` the plane runs ``failover`` (tables of dead nodes go elsewhere) and
  compares the registry's assignments with the node each of its tables was signalled to: when a
  table has moved, its participants here get ``reconnect`` (``worker_restarted`` when the node
  died, ``moved`` otherwise) and their browsers publish and subscribe again, at the same seat,
  on the new node. A dead node is declared within ``DEAD_AFTER`` + 1 s of its last heartbeat.
* ``replan`` at a round change moves the tables of draining nodes.
* The nodes' worker events (``layout``, ``visitor``) come back through Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from summit.media import (
    MediaError,
    MediaEvent,
    NodeInfo,
    NodeRegistry,
    SeatClaim,
    WorkerUnavailable,
    node_call,
    server_message,
    sign_seat,
)

log = logging.getLogger("summit.video")

CHECK_SECONDS = 0.25
TOKEN_SECONDS = 3600
CONTROL = "control"
"""The participant id in the tokens of control requests (``begin_round``)."""

OnPlaced = Callable[[str, str, str], None]
"""``(media table, node id, reason)``: a table was placed (``placed``), moved off a dead node
(``failover``) or off a draining one at a round change (``drain``)."""


class NodePlane:
    """The same calls as ``MediaPlane``, sent to media nodes."""

    def __init__(
        self,
        url: str,
        key: bytes,
        on_event: Callable[[MediaEvent], None],
        on_placed: OnPlaced | None = None,
    ) -> None:
        self.url = url
        self.key = key
        self.on_event = on_event
        self.on_placed = on_placed
        self.registry: NodeRegistry | None = None
        self.joined: dict[str, tuple[str, str]] = {}  # participant -> (table, node) signalled
        self.used: dict[str, str] = {}  # table -> node its participants here were sent to
        self.visiting: dict[str, str] = {}  # moderator -> table
        self.reconnects: list[tuple[str, str, float]] = []  # (table, reason, time), recent
        self._tasks: list[asyncio.Task[None]] = []
        self._placing = asyncio.Lock()

    async def start(self) -> None:
        self.registry = NodeRegistry(self.url)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._events()), loop.create_task(self._check_loop())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.registry is not None:
            await self.registry.close()

    def _registry(self) -> NodeRegistry:
        if self.registry is None:
            raise WorkerUnavailable("media nodes: the plane is not started")
        return self.registry

    # -- requests to nodes ---------------------------------------------------------------------

    def token(self, participant_id: str, table_id: str, node_id: str) -> str:
        expires = int(time.time()) + TOKEN_SECONDS
        return sign_seat(self.key, SeatClaim(participant_id, table_id, node_id, expires))

    async def _address(self, node_id: str) -> str | None:
        for node in await self._registry().nodes():
            if node.node_id == node_id:
                return node.address
        return None

    async def _node_of(self, table_id: str) -> tuple[str, str]:
        registry = self._registry()
        async with self._placing:  # one placement at a time: each sees the previous one's load
            node_id = await registry.node_for(table_id)
        address = await self._address(node_id) if node_id is not None else None
        if node_id is None or address is None:
            raise WorkerUnavailable("media nodes: no live media node takes tables")
        if self.used.get(table_id) != node_id:
            self.used[table_id] = node_id
            if self.on_placed is not None:
                self.on_placed(table_id, node_id, "placed")
        return node_id, address

    async def _send(
        self, node_id: str, address: str, op: str, pid: str, table_id: str, **extra: Any
    ) -> Any:
        request = {
            "op": op,
            "participant_id": pid,
            "table_id": table_id,
            "token": self.token(pid, table_id, node_id),
            **extra,
        }
        return await node_call(address, request)

    async def _call(self, op: str, pid: str, table_id: str, **extra: Any) -> Any:
        node_id, address = await self._node_of(table_id)
        result = await self._send(node_id, address, op, pid, table_id, **extra)
        if op in {"publish", "subscribe", "assign", "visit"}:
            self.joined[pid] = (table_id, node_id)
        return result

    async def _leave_at(self, pid: str, table_id: str, node_id: str) -> None:
        address = await self._address(node_id)
        if address is None:
            return
        with contextlib.suppress(MediaError, OSError, ValueError):
            await self._send(node_id, address, "leave", pid, table_id)

    # -- the plane's calls ---------------------------------------------------------------------

    async def publish(self, participant_id: str, table_id: str, sdp: str) -> str:
        return str(await self._call("publish", participant_id, table_id, sdp=sdp))

    async def subscribe(self, participant_id: str, sdp: str, table_id: str) -> str:
        return str(await self._call("subscribe", participant_id, table_id, sdp=sdp))

    async def assign(self, participant_id: str, table_id: str) -> bool:
        """Seat at ``table_id``; True (and a ``reconnect``) when the table is on another node
        than the one the participant is connected to."""
        previous = self.joined.get(participant_id)
        if previous is None or previous[0] == table_id:
            return False
        node_id, _address = await self._node_of(table_id)
        if node_id == previous[1]:
            await self._call("assign", participant_id, table_id)
            return False
        del self.joined[participant_id]
        await self._leave_at(participant_id, *previous)
        self.on_event(MediaEvent((participant_id,), server_message("reconnect", reason="moved")))
        return True

    async def visit(self, moderator_id: str, table_id: str | None) -> bool:
        previous = self.visiting.pop(moderator_id, None)
        if previous is not None and previous != table_id:
            joined = self.joined.pop(moderator_id, None)
            if joined is not None:
                await self._leave_at(moderator_id, *joined)
        if table_id is None:
            return False
        self.visiting[moderator_id] = table_id
        await self._call("visit", moderator_id, table_id)
        return False

    async def leave(self, participant_id: str) -> None:
        self.visiting.pop(participant_id, None)
        joined = self.joined.pop(participant_id, None)
        if joined is not None:
            await self._leave_at(participant_id, *joined)

    async def begin_round(self, round_id: str) -> None:
        registry = self._registry()
        now = await registry.now()
        for node in await registry.nodes():
            if node.alive(now):
                with contextlib.suppress(MediaError, OSError, ValueError):
                    await self._send(node.node_id, node.address, "begin_round", CONTROL, round_id)

    async def speaking(self, table_id: str) -> dict[str, Any]:
        node_id = self.used.get(table_id)
        address = await self._address(node_id) if node_id is not None else None
        if node_id is None or address is None:
            raise WorkerUnavailable(f"table_id: {table_id!r} is on no media node")
        result = await self._send(node_id, address, "speaking", CONTROL, table_id)
        return dict(result) if isinstance(result, dict) else {}

    # -- nodes that die or drain ---------------------------------------------------------------

    async def replan(self) -> None:
        """At a round change: the tables of draining (and dead) nodes move, then their
        participants are told to reconnect."""
        await self._registry().replan()
        await self.check()

    async def check(self) -> None:
        """Fail over the tables of dead nodes, and send ``reconnect`` to the participants of
        every table that is no longer where they were sent."""
        registry = self._registry()
        await registry.failover()
        assignments = await registry.assignments()
        if not self.used:
            return
        nodes = {n.node_id: n for n in await registry.nodes()}
        now = await registry.now()
        for table_id, node_id in list(self.used.items()):
            new = assignments.get(table_id)
            if new is None or new == node_id:
                continue
            info: NodeInfo | None = nodes.get(node_id)
            dead = info is None or not info.alive(now)
            reason = "worker_restarted" if dead else "moved"
            self.used[table_id] = new
            members = [p for p, (t, n) in self.joined.items() if t == table_id and n == node_id]
            for pid in members:
                del self.joined[pid]
                if not dead:
                    await self._leave_at(pid, table_id, node_id)
            self.reconnects = [*self.reconnects[-199:], (table_id, reason, time.monotonic())]
            log.info(
                "media table moved",
                extra={"fields": {"table": table_id, "from": node_id, "to": new}},
            )
            if self.on_placed is not None:
                self.on_placed(table_id, new, "failover" if dead else "drain")
            if members:
                self.on_event(
                    MediaEvent(tuple(members), server_message("reconnect", reason=reason))
                )

    async def _check_loop(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:
                log.exception("media nodes: checking the nodes failed")
            await asyncio.sleep(CHECK_SECONDS)

    async def _events(self) -> None:
        while True:
            try:
                async for item in self._registry().events():
                    to = tuple(str(p) for p in item.get("to", ()))
                    message = item.get("message")
                    if to and isinstance(message, dict):
                        self.on_event(MediaEvent(to, message))
            except Exception:
                log.exception("media nodes: the event channel failed")
            await asyncio.sleep(1.0)
