"""Followers of the Monitor: the public change feed, e-mail subscriptions and their fan-out.

A change (status, assessment, partner response, an answer or a progress report becoming
overdue) is one row of ``monitor_changes`` with a unique key, written in the same transaction as
the change itself. The background job (:mod:`summit.monitor.jobs`) fans each change out to the
outbox once, one mail per active follower, with a dedupe key per (change, follower): a restart
neither loses nor repeats a mail.

Subscribing is double opt-in: a confirmation mail with a link; nothing else is sent before it is
opened. Every mail carries a one-click unsubscribe link and RFC 8058 List-Unsubscribe headers.
Links carry an HMAC of the subscription id under the installation secret, so they cannot be
guessed and need no stored token.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import i18n
from summit.core.errors import NotFound
from summit.core.models import Summit, utcnow
from summit.monitor import mail
from summit.monitor.models import MonitorChange, MonitorItem, MonitorSubscription
from summit.monitor.rules import MonitorInputError, _

_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
KINDS = ("status", "assessment", "response", "overdue", "report_overdue")


async def record(
    session: AsyncSession,
    summit_id: int,
    *,
    kind: str,
    key: str,
    item: MonitorItem | None,
    summary: dict[str, Any],
    now: dt.datetime | None = None,
) -> MonitorChange | None:
    """Record a public change once; a second change with the same key is ignored (None)."""
    existing = await session.scalar(select(MonitorChange.id).where(MonitorChange.key == key))
    if existing is not None:
        return None
    change = MonitorChange(
        summit_id=summit_id,
        item_id=item.id if item else None,
        kind=kind,
        key=key,
        summary={"title": item.title if item else "", **summary},
        created_at=now or utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(change)
            await session.flush()
    except IntegrityError:
        return None  # another worker recorded it first
    return change


async def changes(
    session: AsyncSession, summit_id: int, *, item_id: int | None = None, limit: int = 50
) -> list[MonitorChange]:
    query = select(MonitorChange).where(MonitorChange.summit_id == summit_id)
    if item_id is not None:
        query = query.where(MonitorChange.item_id == item_id)
    query = query.order_by(MonitorChange.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


def describe(change: MonitorChange) -> str:
    """One translated sentence about a change (for the feed, the mail and the page)."""
    s = change.summary
    if change.kind == "status":
        return i18n.gettext("Status: %(status)s, %(progress)s %% done.") % {
            "status": i18n.gettext(STATUS_LABELS.get(s.get("status", ""), "")),
            "progress": s.get("progress", 0),
        }
    if change.kind == "assessment":
        return i18n.gettext("The Monitor group's assessment: %(verdict)s.") % {
            "verdict": i18n.gettext(VERDICT_LABELS.get(s.get("verdict", ""), ""))
        }
    if change.kind == "response":
        return i18n.gettext("%(partner)s responded: %(answer)s.") % {
            "partner": s.get("partner", ""),
            "answer": i18n.gettext(ANSWER_LABELS.get(s.get("answer", ""), "")),
        }
    if change.kind == "report_overdue":
        return i18n.gettext("The progress report of %(partner)s is overdue (due %(due)s).") % {
            "partner": s.get("partner", ""),
            "due": s.get("due", ""),
        }
    return i18n.gettext("The response of %(partner)s is overdue (due %(due)s).") % {
        "partner": s.get("partner", ""),
        "due": s.get("due", ""),
    }


STATUS_LABELS = {
    "not_started": _("not started"),
    "in_progress": _("in progress"),
    "done": _("done"),
    "stopped": _("stopped"),
}
VERDICT_LABELS = {
    "on_track": _("on track"),
    "delayed": _("delayed"),
    "diverges": _("diverges from the decision"),
    "done": _("done"),
}
ANSWER_LABELS = {"will": _("will carry out"), "partly": _("partly"), "wont": _("will not")}
STATE_LABELS = {
    "done": _("done"),
    "on_track": _("on track"),
    "late": _("late"),
    "refused": _("refused"),
}


# --- subscriptions ------------------------------------------------------------------------------


def link_token(secret: str, purpose: str, subscription_id: int) -> str:
    message = f"monitor-{purpose}:{subscription_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:40]


def token_matches(secret: str, purpose: str, subscription_id: int, given: str) -> bool:
    return hmac.compare_digest(link_token(secret, purpose, subscription_id), given or "")


@dataclass(frozen=True)
class Links:
    """Where links in mails point: the public base address and the secret that signs them."""

    base_url: str
    secret: str

    def confirm(self, sub: MonitorSubscription) -> str:
        token = link_token(self.secret, "confirm", sub.id)
        return f"{self.base_url}/monitor/follow/{sub.id}/confirm/{token}"

    def unsubscribe(self, sub: MonitorSubscription) -> str:
        token = link_token(self.secret, "stop", sub.id)
        return f"{self.base_url}/monitor/follow/{sub.id}/stop/{token}"

    def item(self, item_id: int | None) -> str:
        return (
            f"{self.base_url}/monitor/proposals/{item_id}"
            if item_id
            else f"{self.base_url}/monitor"
        )


def check_email(value: str) -> str:
    email = (value or "").strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise MonitorInputError("email", _("enter an e-mail address like name@example.org"))
    return email


@contextlib.contextmanager
def written_in(language: str) -> Iterator[None]:
    """Translate in the follower's language for the duration of one mail."""
    previous = i18n.current_language()
    i18n.set_language(language)
    try:
        yield
    finally:
        i18n.set_language(previous)


def mail_language(wanted: str | None) -> str:
    """The follower's choice if the platform speaks it, else the language in use now."""
    return wanted if wanted in i18n.available() else i18n.current_language()


async def subscribe(
    session: AsyncSession,
    summit: Summit,
    *,
    email: str,
    item: MonitorItem | None,
    links: Links,
    language: str | None = None,
) -> MonitorSubscription:
    """Start a subscription and queue its confirmation mail (double opt-in). The follower's mails
    are written in ``language`` (by default the language of the page they followed from)."""
    address = check_email(email)
    sub = MonitorSubscription(
        summit_id=summit.id,
        item_id=item.id if item else None,
        email=address,
        status="pending",
        language=mail_language(language),
    )
    session.add(sub)
    await session.flush()
    with written_in(sub.language):
        await _queue_confirmation(session, summit, sub, item, links)
    return sub


async def _queue_confirmation(
    session: AsyncSession,
    summit: Summit,
    sub: MonitorSubscription,
    item: MonitorItem | None,
    links: Links,
) -> None:
    what = item.title if item else i18n.gettext("the whole Burgerbesluit")
    body = i18n.gettext(
        "Someone asked to follow %(what)s of %(summit)s by e-mail with this address.\n\n"
        "To confirm, open this link:\n%(link)s\n\n"
        "If this was not you, ignore this mail: nothing more will be sent."
    ) % {"what": what, "summit": summit.name, "link": links.confirm(sub)}
    await mail.enqueue(
        session,
        to=sub.email,
        subject=i18n.gettext("Confirm that you follow %(what)s") % {"what": what},
        body=body,
        dedupe_key=f"monitor-confirm:{sub.id}",
    )


async def get_subscription(session: AsyncSession, sub_id: int) -> MonitorSubscription:
    sub = await session.get(MonitorSubscription, sub_id)
    if sub is None:
        raise NotFound(i18n.gettext("Subscription %(id)s does not exist.") % {"id": sub_id})
    return sub


async def confirm(session: AsyncSession, sub: MonitorSubscription) -> None:
    if sub.status == "pending":
        sub.status = "active"
        sub.confirmed_at = utcnow()


async def unsubscribe(session: AsyncSession, sub: MonitorSubscription) -> None:
    """End a subscription; the address is erased (only the fact that it ended stays)."""
    sub.status = "unsubscribed"
    sub.ended_at = utcnow()
    sub.email = ""


async def fan_out(session: AsyncSession, links: Links, *, limit: int = 200) -> int:
    """Queue one mail per active follower for every change not fanned out yet."""
    pending = list(
        (
            await session.execute(
                select(MonitorChange)
                .where(MonitorChange.fanned_out.is_(False))
                .order_by(MonitorChange.id)
                .limit(limit)
            )
        ).scalars()
    )
    queued = 0
    for change in pending:
        for sub in await _followers(session, change):
            with written_in(sub.language):
                subject = f"{change.summary.get('title') or 'Monitor'}: " + i18n.gettext(
                    KIND_SUBJECTS[change.kind]
                )
                text = _change_body(change, sub, links)
            await mail.enqueue(
                session,
                to=sub.email,
                subject=subject,
                body=text,
                dedupe_key=f"monitor-change:{change.id}:{sub.id}",
                unsubscribe_url=links.unsubscribe(sub),
            )
            queued += 1
        change.fanned_out = True
    return queued


KIND_SUBJECTS = {
    "status": _("new status"),
    "assessment": _("new assessment by the Monitor group"),
    "response": _("a partner responded"),
    "overdue": _("a response is overdue"),
    "report_overdue": _("a progress report is overdue"),
}


async def _followers(session: AsyncSession, change: MonitorChange) -> list[MonitorSubscription]:
    scope: ColumnElement[bool] = MonitorSubscription.item_id.is_(None)
    if change.item_id is not None:
        scope = or_(scope, MonitorSubscription.item_id == change.item_id)
    query = select(MonitorSubscription).where(
        MonitorSubscription.summit_id == change.summit_id,
        MonitorSubscription.status == "active",
        scope,
    )
    return list((await session.execute(query.order_by(MonitorSubscription.id))).scalars())


def _change_body(change: MonitorChange, sub: MonitorSubscription, links: Links) -> str:
    return i18n.gettext(
        "%(title)s\n\n%(change)s\n\nMore: %(link)s\n\n"
        "You receive this because you follow it. Stop with one click: %(stop)s"
    ) % {
        "title": change.summary.get("title", ""),
        "change": describe(change),
        "link": links.item(change.item_id),
        "stop": links.unsubscribe(sub),
    }
