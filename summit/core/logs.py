"""Structured JSON logs that carry ids and route names, never personal data or link tokens."""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import sys
import threading
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


#: Log lines waiting for the writer thread; beyond this many they are dropped (and counted).
QUEUE_LINES = 10_000


class _QueueHandler(logging.handlers.QueueHandler):
    """Formats on the caller's thread and hands the line to the writer thread without waiting:
    a slow or stuck reader of the log stream (a full pipe) never stalls the event loop. When the
    queue is full the line is dropped and counted; the writer says how many were."""

    def __init__(self, lines: queue.Queue[logging.LogRecord | None]) -> None:
        super().__init__(lines)
        self.dropped = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1


class _Writer(threading.Thread):
    """Writes the queued lines to the stream, and a line saying how many were dropped once it
    has caught up; ``stop`` lets it write what is queued (waiting at most ``timeout`` seconds
    for a reader that has stopped reading) and ends it."""

    def __init__(self, source: _QueueHandler, stream: Any) -> None:
        super().__init__(name="summit-logs", daemon=True)
        self.source = source
        self.lines: queue.Queue[logging.LogRecord | None] = source.queue  # type: ignore[assignment]
        self.handler = logging.StreamHandler(stream)
        self.handler.setFormatter(logging.Formatter("%(message)s"))

    def run(self) -> None:
        while (record := self.lines.get()) is not None:
            self.handler.handle(record)
            if self.source.dropped and self.lines.empty():
                self._report_dropped()
        self._report_dropped()

    def _report_dropped(self) -> None:
        dropped = self.source.dropped
        if not dropped:
            return
        self.source.dropped -= dropped  # lines dropped meanwhile are reported next time
        entry = {"level": "warning", "logger": "summit.logs", "message": "log lines dropped"}
        note = logging.makeLogRecord({"msg": json.dumps({**entry, "dropped": dropped})})
        self.handler.handle(note)

    def stop(self, timeout: float = 5.0) -> None:
        try:
            self.lines.put(None, timeout=timeout)
        except queue.Full:
            return
        self.join(timeout)


_writer: _Writer | None = None


def configure(level: str = "info") -> None:
    """JSON lines on stderr, written by a thread of their own (see ``_QueueHandler``)."""
    global _writer
    if _writer is not None:
        _writer.stop()
    handler = _QueueHandler(queue.Queue(QUEUE_LINES))
    handler.setFormatter(JsonFormatter())
    _writer = _Writer(handler, sys.stderr)
    _writer.start()
    atexit.register(_writer.stop)  # the lines still queued are written before the exit
    root = logging.getLogger("summit")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


class RequestLog:
    """Logs one line per request with the route *template* (``/p/{token}``), never the raw path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger("summit.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            identity = scope.get("state", {}).get("identity")
            self.log.info(
                "request",
                extra={
                    "fields": {
                        "method": scope["method"],
                        "route": getattr(route, "path", "(unmatched)"),
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                        "actor": getattr(identity, "actor", "public"),
                    }
                },
            )
