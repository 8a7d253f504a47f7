"""The Monitor's background job, started with the app: every few seconds (or when woken) it
records answers that became overdue, reminds partners of progress reports that are due and marks
missed ones overdue (:mod:`summit.monitor.reports`), fans changes out to the followers' outbox,
and sends the mail that is due. Each step is idempotent, so several app workers may run it side
by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select

from summit.config import Settings
from summit.core import i18n
from summit.core.db import Database
from summit.core.models import Summit, utcnow
from summit.monitor import mail, notify, reports, tracking

log = logging.getLogger("summit.monitor")
INTERVAL_SECONDS = 5.0


@dataclass(frozen=True)
class JobReport:
    overdue: int
    queued: int
    sent: int
    reminded: int = 0
    reports_overdue: int = 0


async def run_once(
    db: Database, settings: Settings, *, now: dt.datetime | None = None
) -> JobReport:
    """One pass of the job (tests call it with an injected clock)."""
    moment = now or utcnow()
    links = notify.Links(settings.base_url, settings.secret_key)
    overdue = queued = reminded = reports_overdue = 0
    async with db.session() as session:
        summits = list((await session.execute(select(Summit.id, Summit.default_language))).all())
    previous = i18n.current_language()
    try:
        for summit_id, language in summits:
            i18n.set_language(language)
            async with db.session() as session:
                overdue += await tracking.scan_overdue(session, summit_id, now=moment)
            async with db.session() as session:
                summit = await session.get(Summit, summit_id)
                if summit is not None:
                    scanned = await reports.scan(
                        session, summit, links, now=moment, mail_on=mail.enabled(settings.smtp_url)
                    )
                    reminded += scanned.reminded
                    reports_overdue += scanned.overdue
            async with db.session() as session:
                queued += await notify.fan_out(session, links)
    finally:
        i18n.set_language(previous)
    # the real clock is read again, so mail queued by this pass goes out in this pass
    sent = await mail.deliver_due(db, settings.smtp_url, now=now or utcnow())
    return JobReport(overdue, queued, sent, reminded, reports_overdue)


class Jobs:
    """The loop in the app's lifespan; ``wake()`` runs a pass now instead of at the next tick."""

    def __init__(
        self, db: Database, settings: Settings, interval: float = INTERVAL_SECONDS
    ) -> None:
        self.db, self.settings, self.interval = db, settings, interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="monitor-jobs")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            try:
                await run_once(self.db, self.settings)
            except Exception as exc:  # keep the loop alive; the next pass retries
                log.warning("monitor job failed", extra={"fields": {"error": type(exc).__name__}})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            self._wake.clear()
