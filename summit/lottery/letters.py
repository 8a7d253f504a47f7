"""What the invitation letter says besides the code: the summit's day, venue, reply deadline,
sender and contact, from the summit's settings, in the reader's language and on the summit's
clock. The letters page and the preview on the settings page render it with one template
(``lottery/_letter.html``), so the preview is the letter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import qrcode
import qrcode.image.svg
from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import i18n
from summit.core.models import Summit, utcnow
from summit.core.rules.summit_spec import LETTER_FIELDS
from summit.core.times import summit_time_zone
from summit.lottery.service import format_code
from summit.programme.models import ProgrammeItem

#: The settings a letter needs; the form's field names (``summit.core.labels.field_label``).
NEEDED = ("date", "venue", "reply_by", "sender_name", "sender_function", "contact_email")
#: The resident the preview shows (a code no letter carries: the alphabet has no 0, 1, I, L or O).
SAMPLE_CODE = "VOORBEELD0"


@dataclass(frozen=True)
class LetterDetails:
    written_on: str  # the day the letters are printed, on the summit's clock
    day: str  # "zaterdag 13 maart 2027", or ""
    starts: str  # "10:00" when the programme has items, or ""
    venue: str
    reply_by: str
    sender_name: str
    sender_function: str
    contact_email: str
    contact_phone: str
    missing: tuple[str, ...]  # the needed settings not given, by form field name


def long_date(day: dt.date) -> str:
    """``zaterdag 13 maart 2027`` (Dutch) or ``Saturday 13 March 2027``: the weekday and month
    written out, as a letter says them."""
    locale = "nl" if i18n.current_language() == "nl" else "en_GB"
    return format_date(day, "EEEE d MMMM y", locale=locale)


def details(
    summit: Summit, *, first_minute: int | None = None, now: dt.datetime | None = None
) -> LetterDetails:
    """The letter's details from ``summit``'s settings; ``first_minute`` is the programme's
    first item (minutes after midnight on the summit's clock), if there is one."""
    settings = summit.settings or {}
    text = {name: str(settings.get(key) or "").strip() for name, key in LETTER_FIELDS.items()}
    reply_by = dt.date.fromisoformat(text["reply_by"]) if text["reply_by"] else None
    moment = now or utcnow()
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    today = moment.astimezone(ZoneInfo(summit_time_zone(summit))).date()  # the summit's day
    venue = (summit.venue or "").strip()
    given: dict[str, object] = {**text, "date": summit.date, "venue": venue}
    return LetterDetails(
        written_on=long_date(today),
        day=long_date(summit.date) if summit.date else "",
        starts=(
            f"{first_minute // 60:02d}:{first_minute % 60:02d}"
            if summit.date and first_minute is not None
            else ""
        ),
        venue=venue,
        reply_by=long_date(reply_by) if reply_by else "",
        sender_name=text["sender_name"],
        sender_function=text["sender_function"],
        contact_email=text["contact_email"],
        contact_phone=text["contact_phone"],
        missing=tuple(name for name in NEEDED if not given[name]),
    )


async def letter_details(session: AsyncSession, summit: Summit) -> LetterDetails:
    """:func:`details` with the start of the day's programme, if it has items."""
    first = await session.scalar(
        select(ProgrammeItem.start_minute)
        .where(ProgrammeItem.summit_id == summit.id)
        .order_by(ProgrammeItem.position)
        .limit(1)
    )
    return details(summit, first_minute=first)


def qr_svg(text: str) -> str:
    """A QR code as inline SVG markup (no external image, prints sharply)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    svg = image.to_string(encoding="unicode")
    return str(svg).replace("<svg ", '<svg role="img" aria-hidden="true" ', 1)


@dataclass(frozen=True)
class LetterPreview:
    """One letter for a sample resident, rendered by ``lottery/_letter.html`` like the rest."""

    details: LetterDetails
    code: str
    base: str
    link: str
    svg: str


async def letter_preview(session: AsyncSession, summit: Summit, base_url: str) -> LetterPreview:
    base = base_url.rstrip("/")
    link = f"{base}/register?code={SAMPLE_CODE}"
    return LetterPreview(
        await letter_details(session, summit), format_code(SAMPLE_CODE), base, link, qr_svg(link)
    )
