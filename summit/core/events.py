"""Live updates: one event-bus interface, an in-process default and a Redis implementation.

Events are small JSON objects published on a channel (``summit:<id>``, ``table:<id>``...). The
in-process bus serves the embedded single-process default; with several app workers the Redis bus
(redis-py's asyncio pub/sub) fans every event out to all of them.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger("summit.events")


class _Queues:
    """A subscriber's queue; slow consumers lose their oldest events, never block publishers."""

    def __init__(self, maxsize: int = 1000) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize)

    def put(self, event: dict[str, Any]) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
        self.queue.put_nowait(event)

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            yield await self.queue.get()


class EventBus(abc.ABC):
    """The interface: publish small JSON events on a channel; subscribers get them in order."""

    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def stop(self) -> None: ...

    @abc.abstractmethod
    async def publish(self, channel: str, event: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    def subscribe(
        self, *channels: str
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...


class MemoryBus(EventBus):
    """In-process fan-out (the embedded default, one process)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[_Queues]] = defaultdict(set)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self._subscribers.clear()

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        message = {"channel": channel, **event}
        for sub in list(self._subscribers.get(channel, ())):
            sub.put(message)

    def _local(self, channel: str, message: dict[str, Any]) -> None:
        for sub in list(self._subscribers.get(channel, ())):
            sub.put(message)

    @asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        sub = _Queues()
        for channel in channels:
            self._subscribers[channel].add(sub)
        try:
            yield sub.__aiter__()
        finally:
            for channel in channels:
                self._subscribers[channel].discard(sub)
                if not self._subscribers[channel]:
                    del self._subscribers[channel]


class RedisBus(MemoryBus):
    """Fan-out across processes through Redis pub/sub (one connection per worker)."""

    def __init__(self, url: str, prefix: str = "summit:") -> None:
        super().__init__()
        self.url = url
        self.prefix = prefix
        self._client: Any = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        import redis.asyncio as redis

        self._client = redis.from_url(self.url)
        try:
            await self._client.ping()
        except Exception as exc:
            await self._client.aclose()
            raise ConnectionError(f"SUMMIT_EVENT_BUS_URL: cannot reach Redis: {exc}") from None
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.psubscribe(self.prefix + "*")
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._pubsub is not None
        lost = False
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                if not lost:
                    log.exception("event bus: Redis read failed; retrying")
                lost = True
                await asyncio.sleep(1.0)
                continue
            if lost:  # back (re-subscribed); what was published meanwhile is gone: re-read
                lost = False
                log.warning("event bus: Redis is back; asking open pages to re-read")
                for channel in list(self._subscribers):
                    self._local(channel, {"channel": channel, "type": "resync"})
            if message is None or message.get("type") != "pmessage":
                continue
            channel = message["channel"].decode()[len(self.prefix) :]
            try:
                event = json.loads(message["data"])
            except ValueError:
                log.warning("event bus: dropped a malformed message on %s", channel)
                continue
            self._local(channel, event)

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._client is not None:
            await self._client.aclose()
        await super().stop()

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        assert self._client is not None, "RedisBus.start() was not awaited"
        message = {"channel": channel, **event}
        try:
            await self._client.publish(self.prefix + channel, json.dumps(message))
        except Exception as exc:  # Redis away: the change is stored; this worker's pages see it
            log.warning("event bus: Redis publish failed (%s)", type(exc).__name__)
            self._local(channel, message)


def make_bus(url: str) -> EventBus:
    if url.startswith("memory:"):
        return MemoryBus()
    return RedisBus(url)
