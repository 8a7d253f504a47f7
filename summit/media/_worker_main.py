"""Entry point of a media worker process: protocol v1 as JSON lines on stdin/stdout.

Run by ``MediaSupervisor`` as ``python -m summit.media._worker_main --config '{…}'``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any, Protocol

from .config import MediaConfig, MediaEvent
from .errors import AccessDenied, MediaValueError, ProtocolError, UnknownParticipant
from .protocol import VERSION, WorkerRequest, encode, parse_worker_request
from .worker import MediaWorker


class WorkerAPI(Protocol):
    """What ``serve`` needs of a worker (``MediaWorker``, or the benchmark's baseline)."""

    async def publish(self, participant_id: str, table_id: str, offer_sdp: str) -> str: ...

    async def subscribe(
        self, participant_id: str, offer_sdp: str, table_id: str | None = None
    ) -> str: ...

    async def assign(self, participant_id: str, table_id: str) -> None: ...

    async def leave(self, participant_id: str) -> None: ...

    def stats(self) -> dict[str, Any]: ...

    async def close(self) -> None: ...


async def _dispatch(worker: Any, request: WorkerRequest) -> Any:
    a = request.args
    op = request.op
    if op == "publish":
        return {"sdp": await worker.publish(a["participant_id"], a["table_id"], a["sdp"])}
    if op == "subscribe":
        return {"sdp": await worker.subscribe(a["participant_id"], a["sdp"], a.get("table_id"))}
    if op == "assign":
        await worker.assign(a["participant_id"], a["table_id"])
    elif op == "visit":
        await worker.visit(a["moderator_id"], a["table_id"])
    elif op == "leave":
        await worker.leave(a["participant_id"])
    elif op == "begin_round":
        await worker.begin_round(a["round_id"])
    elif op == "layout":
        return {"slots": worker.layout(a["participant_id"])}
    elif op == "speaking":
        return worker.speaking(a["table_id"], a.get("min_seconds")).as_dict()
    elif op == "stats":
        return worker.stats()
    elif op == "ping":
        return {"pid": os.getpid()}
    return None


def _error(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, ProtocolError):
        return {"code": "protocol", "message": str(exc), "field": exc.field}
    if isinstance(exc, MediaValueError):
        return {"code": "protocol", "message": str(exc)}
    if isinstance(exc, AccessDenied):
        return {"code": "access_denied", "message": str(exc)}
    if isinstance(exc, UnknownParticipant):
        return {"code": "unknown_participant", "message": str(exc)}
    return {"code": "internal", "message": f"{type(exc).__name__}: {exc}"}


async def serve(worker: Any, events: asyncio.Queue[MediaEvent] | None = None) -> None:
    """Answer requests from stdin on the protocol pipe until stdin closes."""
    loop = asyncio.get_running_loop()
    # Keep stdout for the protocol only: anything printed by libraries goes to stderr instead.
    proto = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    reader = asyncio.StreamReader(limit=4 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, proto)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    tasks: set[asyncio.Task[None]] = set()

    def send(message: dict[str, Any]) -> None:
        writer.write((encode(message) + "\n").encode())

    async def pump_events() -> None:
        assert events is not None
        while True:
            event = await events.get()
            send({"v": VERSION, "event": event.message, "to": list(event.to)})

    async def answer(line: bytes) -> None:
        request_id: Any = None
        try:
            raw = json.loads(line)
            request_id = raw.get("id") if isinstance(raw, dict) else None
            request = parse_worker_request(raw)
            result = await _dispatch(worker, request)
            send({"v": VERSION, "id": request.id, "ok": True, "result": result})
        except Exception as exc:
            send({"v": VERSION, "id": request_id, "ok": False, "error": _error(exc)})
        await writer.drain()

    pumper = loop.create_task(pump_events()) if events is not None else None
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            task = loop.create_task(answer(line))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    finally:
        if pumper is not None:
            pumper.cancel()
        await worker.close()


async def _main(config: MediaConfig) -> None:
    events: asyncio.Queue[MediaEvent] = asyncio.Queue()
    worker = MediaWorker(config, on_event=events.put_nowait)
    await serve(worker, events)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m summit.media._worker_main")
    parser.add_argument("--config", default="{}", help="MediaConfig as JSON")
    parser.add_argument("--index", type=int, default=0, help="worker number (for logs)")
    args = parser.parse_args(argv)
    asyncio.run(_main(MediaConfig.from_json(json.loads(args.config))))


if __name__ == "__main__":
    main()
