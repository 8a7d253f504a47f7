"""One media worker process per core, and the control plane's single handle on all of them.

``MediaSupervisor`` starts the worker processes (``python -m summit.media._worker_main``),
assigns each table to a worker (the least loaded one), forwards the control plane's calls to the
right worker over a JSON-lines pipe (protocol v1), and watches the workers: a worker that exits
or misses its heartbeats is replaced, its seating restored, and every participant it hosted gets a
``reconnect`` event (their browsers offer again; their seats are kept).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import MediaConfig, MediaEvent, _check_id
from .errors import (
    AccessDenied,
    MediaError,
    MediaValueError,
    ProtocolError,
    UnknownParticipant,
    WorkerUnavailable,
)
from .protocol import encode, server_message, worker_request


@dataclass
class _Handle:
    index: int
    process: asyncio.subprocess.Process
    pending: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    reader: asyncio.Task[None] | None = None
    alive: bool = True


@dataclass(frozen=True)
class _Seat:
    table_id: str | None
    visitor: bool


class MediaSupervisor:
    """Starts ``workers`` media worker processes (default: one per core) and routes calls."""

    def __init__(
        self,
        workers: int | None = None,
        config: MediaConfig | None = None,
        *,
        on_event: Callable[[MediaEvent], None] | None = None,
        on_restart: Callable[[int, list[str]], None] | None = None,
        heartbeat: float = 1.0,
        request_timeout: float = 20.0,
        command: Sequence[str] | None = None,
    ) -> None:
        count = workers if workers is not None else (os.cpu_count() or 1)
        if count < 1:
            raise MediaValueError(f"workers: need at least 1, got {count}")
        self.config = config or MediaConfig()
        self.workers = count
        self.restarts = 0
        self._on_event = on_event
        self._on_restart = on_restart
        self._heartbeat = heartbeat
        self._timeout = request_timeout
        self._command = list(command) if command is not None else None
        self._handles: dict[int, _Handle] = {}
        self._next_id = 0
        self._tables: dict[str, int] = {}
        self._seats: dict[str, _Seat] = {}
        self._closing = False
        self._watchdog: asyncio.Task[None] | None = None
        self._restarting: dict[int, asyncio.Task[None]] = {}

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        for index in range(self.workers):
            self._handles[index] = await self._spawn(index)
        self._watchdog = asyncio.get_running_loop().create_task(self._watch())

    async def __aenter__(self) -> MediaSupervisor:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._closing = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        for task in self._restarting.values():
            task.cancel()
        for handle in self._handles.values():
            await self._stop(handle)

    def worker_pids(self) -> list[int]:
        return [self._handles[i].process.pid for i in sorted(self._handles)]

    async def _spawn(self, index: int) -> _Handle:
        command = self._command or [
            sys.executable,
            "-m",
            "summit.media._worker_main",
            "--config",
            json.dumps(self.config.to_json()),
        ]
        process = await asyncio.create_subprocess_exec(
            *command,
            "--index",
            str(index),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=4 * 1024 * 1024,
        )
        handle = _Handle(index=index, process=process)
        handle.reader = asyncio.get_running_loop().create_task(self._read(handle))
        await self._request(handle, "ping")
        return handle

    async def _stop(self, handle: _Handle) -> None:
        handle.alive = False
        process = handle.process
        if process.returncode is None:
            assert process.stdin is not None
            process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()
        if handle.reader is not None:
            handle.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await handle.reader

    async def _read(self, handle: _Handle) -> None:
        assert handle.process.stdout is not None
        stream = handle.process.stdout
        while True:
            line = await stream.readline()
            if not line:
                break
            try:
                message = json.loads(line)
            except ValueError:
                continue  # not a protocol line; the worker keeps stdout for the protocol only
            if not isinstance(message, dict):
                continue
            if "event" in message:
                if self._on_event is not None:
                    self._on_event(MediaEvent(to=tuple(message["to"]), message=message["event"]))
                continue
            request_id = message.get("id")
            future = handle.pending.pop(request_id, None) if isinstance(request_id, int) else None
            if future is not None and not future.done():
                future.set_result(message)
        await handle.process.wait()
        self._died(handle)

    def _died(self, handle: _Handle) -> None:
        if not handle.alive or self._closing:
            return
        handle.alive = False
        for future in handle.pending.values():
            if not future.done():
                future.set_exception(WorkerUnavailable(f"media worker {handle.index} died"))
        handle.pending.clear()
        if handle.index not in self._restarting:
            self._restarting[handle.index] = asyncio.get_running_loop().create_task(
                self._restart(handle.index)
            )

    async def _restart(self, index: int) -> None:
        try:
            self.restarts += 1
            self._handles[index] = handle = await self._spawn(index)
            moved: list[str] = []
            for pid, seat in list(self._seats.items()):
                if seat.table_id is None or self._tables.get(seat.table_id) != index:
                    continue
                if seat.visitor:
                    await self._request(handle, "visit", moderator_id=pid, table_id=seat.table_id)
                else:
                    await self._request(
                        handle, "assign", participant_id=pid, table_id=seat.table_id
                    )
                moved.append(pid)
            for pid in moved:
                self._emit((pid,), server_message("reconnect", reason="worker_restarted"))
            if self._on_restart is not None:
                self._on_restart(index, moved)
        finally:
            self._restarting.pop(index, None)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            for handle in list(self._handles.values()):
                if not handle.alive:
                    continue
                try:
                    async with asyncio.timeout(3 * self._heartbeat):
                        await self._request(handle, "ping")
                except (WorkerUnavailable, TimeoutError):
                    if handle.alive and handle.process.returncode is None:
                        handle.process.kill()  # hung: the reader sees it exit and restarts it

    async def wait_ready(self) -> None:
        """Wait until no worker is being restarted."""
        while self._restarting:
            await asyncio.gather(*self._restarting.values(), return_exceptions=True)

    # -- requests ------------------------------------------------------------------------------

    async def _request(self, handle: _Handle, op: str, **args: Any) -> Any:
        if not handle.alive:
            raise WorkerUnavailable(f"media worker {handle.index} is restarting")
        self._next_id += 1
        request_id = self._next_id
        line = encode(worker_request(op, request_id, **args)) + "\n"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        handle.pending[request_id] = future
        assert handle.process.stdin is not None
        try:
            handle.process.stdin.write(line.encode())
            await handle.process.stdin.drain()
            reply = await asyncio.wait_for(future, self._timeout)
        except (ConnectionError, TimeoutError) as exc:
            raise WorkerUnavailable(f"media worker {handle.index} did not answer {op}") from exc
        finally:
            handle.pending.pop(request_id, None)
        if reply.get("ok"):
            return reply.get("result")
        error = reply.get("error") or {}
        code, text = error.get("code"), str(error.get("message", "worker error"))
        if code == "access_denied":
            raise AccessDenied(text)
        if code == "unknown_participant":
            raise UnknownParticipant(text)
        if code == "protocol":
            raise ProtocolError(str(error.get("field", "")), text)
        raise MediaError(text)

    def _handle(self, index: int) -> _Handle:
        return self._handles[index]

    def worker_of(self, table_id: str) -> int:
        """The worker hosting ``table_id``; a new table goes to the worker with fewest tables."""
        if table_id not in self._tables:
            load = dict.fromkeys(range(self.workers), 0)
            for index in self._tables.values():
                load[index] += 1
            self._tables[table_id] = min(load, key=lambda i: (load[i], i))
        return self._tables[table_id]

    def tables(self) -> list[str]:
        """The tables this supervisor hosts now."""
        return sorted(self._tables)

    def _release_table(self, table_id: str | None) -> None:
        if table_id is not None and all(s.table_id != table_id for s in self._seats.values()):
            self._tables.pop(table_id, None)

    def _emit(self, to: tuple[str, ...], message: dict[str, Any]) -> None:
        if self._on_event is not None:
            self._on_event(MediaEvent(to=to, message=message))

    async def _move(self, participant_id: str, table_id: str | None, visitor: bool) -> bool:
        _check_id("participant_id", participant_id)
        if table_id is not None:
            _check_id("table_id", table_id)
        old = self._seats.get(participant_id)
        old_worker = self._tables.get(old.table_id) if old and old.table_id else None
        new_worker = self.worker_of(table_id) if table_id is not None else None
        moved = old_worker is not None and new_worker is not None and old_worker != new_worker
        if old_worker is not None and old_worker != new_worker:
            await self._request(self._handle(old_worker), "leave", participant_id=participant_id)
        self._seats[participant_id] = _Seat(table_id, visitor)
        if old is not None:
            self._release_table(old.table_id)
        if new_worker is not None:
            handle = self._handle(new_worker)
            if visitor:
                await self._request(handle, "visit", moderator_id=participant_id, table_id=table_id)
            else:
                await self._request(
                    handle, "assign", participant_id=participant_id, table_id=table_id
                )
        elif old_worker is not None and visitor:
            await self._request(
                self._handle(old_worker), "visit", moderator_id=participant_id, table_id=None
            )
        if moved:
            self._emit((participant_id,), server_message("reconnect", reason="moved"))
        return moved

    # -- the control plane's API ---------------------------------------------------------------

    async def assign(self, participant_id: str, table_id: str) -> bool:
        """Seat ``participant_id`` at ``table_id``. True when the table lives on another worker:
        the participant was sent a ``reconnect`` event and must publish and subscribe again."""
        return await self._move(participant_id, table_id, visitor=False)

    async def visit(self, moderator_id: str, table_id: str | None) -> bool:
        return await self._move(moderator_id, table_id, visitor=table_id is not None)

    async def leave(self, participant_id: str) -> None:
        seat = self._seats.pop(participant_id, None)
        if seat is None or seat.table_id is None:
            return
        index = self._tables.get(seat.table_id)
        self._release_table(seat.table_id)
        if index is not None:
            with contextlib.suppress(WorkerUnavailable):
                await self._request(self._handle(index), "leave", participant_id=participant_id)

    def _seat_worker(self, participant_id: str) -> _Handle:
        seat = self._seats.get(participant_id)
        if seat is None or seat.table_id is None:
            raise AccessDenied(f"participant_id: {participant_id!r} is not seated at any table")
        return self._handle(self.worker_of(seat.table_id))

    async def publish(self, participant_id: str, table_id: str, offer_sdp: str) -> str:
        if participant_id not in self._seats:
            await self.assign(participant_id, table_id)
        seat = self._seats[participant_id]
        if seat.table_id != table_id:
            raise AccessDenied(
                f"table_id: participant {participant_id!r} is seated at table "
                f"{seat.table_id!r}, not {table_id!r}"
            )
        result = await self._request(
            self._seat_worker(participant_id),
            "publish",
            participant_id=participant_id,
            table_id=table_id,
            sdp=offer_sdp,
        )
        return str(result["sdp"])

    async def subscribe(
        self, participant_id: str, offer_sdp: str, table_id: str | None = None
    ) -> str:
        seat = self._seats.get(participant_id)
        if table_id is not None and (seat is None or seat.table_id != table_id):
            raise AccessDenied(
                f"table_id: participant {participant_id!r} is not seated at table {table_id!r}"
            )
        result = await self._request(
            self._seat_worker(participant_id),
            "subscribe",
            participant_id=participant_id,
            sdp=offer_sdp,
        )
        return str(result["sdp"])

    async def begin_round(self, round_id: str) -> None:
        for handle in self._handles.values():
            await self._request(handle, "begin_round", round_id=round_id)

    async def speaking(self, table_id: str, min_seconds: float | None = None) -> dict[str, Any]:
        args: dict[str, Any] = {"table_id": table_id}
        if min_seconds is not None:
            args["min_seconds"] = min_seconds
        result: dict[str, Any] = await self._request(
            self._handle(self.worker_of(table_id)), "speaking", **args
        )
        return result

    async def stats(self) -> list[dict[str, Any]]:
        """``stats()`` of every worker, with its process id and number."""
        out = []
        for index in sorted(self._handles):
            handle = self._handles[index]
            result = await self._request(handle, "stats")
            result.update(worker=index, pid=handle.process.pid)
            out.append(result)
        return out
