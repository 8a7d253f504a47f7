"""Video bots' shared pieces: tiny per-person clips (told apart by frame width and audio level),
a signalling socket that keeps every message, and waiting for a condition."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from websockets.asyncio.client import ClientConnection

from summit.media import parse_server_message
from summit.media.bots import Clip, make_clip


@cache
def clip(i: int) -> Clip:
    # tiny 10 fps video and 60 ms audio packets: a whole table fits a shared 2-core machine
    return make_clip(
        64 + 16 * i, 48, fps=10, seconds=2.0, bitrate=50_000, seed=i, audio_frame_ms=60
    )


def width(i: int) -> int:
    return 64 + 16 * i


def level(i: int) -> int:
    return 10 + i


class Signal:
    """One video socket (``/ws/video`` or a workshop meeting's): requests with ids, and everything
    else kept."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.next_id = 0
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.messages: list[dict[str, Any]] = []
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                message = parse_server_message(raw)  # every message is valid protocol v1
                self.messages.append(message)
                future = self.waiting.pop(message.get("re", -1), None)
                if future is not None and not future.done():
                    future.set_result(message)

    async def request(self, kind: str, **fields: Any) -> dict[str, Any]:
        self.next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[self.next_id] = future
        await self.ws.send(json.dumps({"v": 1, "type": kind, "id": self.next_id, **fields}))
        return await asyncio.wait_for(future, 20)

    def offer(self, kind: str) -> Callable[[str], Any]:
        async def signal(sdp: str) -> str:
            reply = await self.request(kind, sdp=sdp)
            if reply["type"] == "error":
                raise PermissionError(f"{reply['code']}: {reply['message']}")
            return str(reply["sdp"])

        return signal

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader


async def wait_until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()
