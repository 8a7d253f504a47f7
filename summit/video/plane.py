"""The media plane of one app process, in process (``MediaWorker``) or in worker processes
(``MediaSupervisor``), behind one interface."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from summit.media import MediaEvent, MediaSupervisor
from summit.video.config import VideoSettings

if TYPE_CHECKING:
    from summit.media.worker import MediaWorker


class MediaPlane:
    """One interface over ``MediaWorker`` (in process) and ``MediaSupervisor`` (processes)."""

    def __init__(self, settings: VideoSettings, on_event: Callable[[MediaEvent], None]) -> None:
        config = settings.media_config()
        self.worker: MediaWorker | None = None
        self.supervisor: MediaSupervisor | None = None
        if settings.workers == 0:
            from summit.media.worker import MediaWorker  # aiortc, loaded only when used

            self.worker = MediaWorker(config, on_event=on_event)
        else:
            self.supervisor = MediaSupervisor(settings.workers, config, on_event=on_event)

    async def start(self) -> None:
        if self.supervisor is not None:
            await self.supervisor.start()

    async def close(self) -> None:
        if self.worker is not None:
            await self.worker.close()
        if self.supervisor is not None:
            await self.supervisor.close()

    async def publish(self, participant_id: str, table_id: str, sdp: str) -> str:
        if self.worker is not None:
            return await self.worker.publish(participant_id, table_id, sdp)
        assert self.supervisor is not None
        return await self.supervisor.publish(participant_id, table_id, sdp)

    async def subscribe(self, participant_id: str, sdp: str, table_id: str) -> str:
        if self.worker is not None:
            return await self.worker.subscribe(participant_id, sdp, table_id=table_id)
        assert self.supervisor is not None
        return await self.supervisor.subscribe(participant_id, sdp, table_id=table_id)

    async def assign(self, participant_id: str, table_id: str) -> bool:
        if self.worker is not None:
            await self.worker.assign(participant_id, table_id)
            return False
        assert self.supervisor is not None
        return await self.supervisor.assign(participant_id, table_id)

    async def visit(self, moderator_id: str, table_id: str | None) -> bool:
        if self.worker is not None:
            await self.worker.visit(moderator_id, table_id)
            return False
        assert self.supervisor is not None
        return await self.supervisor.visit(moderator_id, table_id)

    async def leave(self, participant_id: str) -> None:
        if self.worker is not None:
            await self.worker.leave(participant_id)
        elif self.supervisor is not None:
            await self.supervisor.leave(participant_id)

    async def begin_round(self, round_id: str) -> None:
        if self.worker is not None:
            await self.worker.begin_round(round_id)
        elif self.supervisor is not None:
            await self.supervisor.begin_round(round_id)

    async def speaking(self, table_id: str) -> dict[str, Any]:
        if self.worker is not None:
            return dict(self.worker.speaking(table_id).as_dict())
        assert self.supervisor is not None
        return await self.supervisor.speaking(table_id)
