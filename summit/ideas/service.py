"""Ideas recorded at the tables (ideeën): capture, edits with history, paper-form import.

Every function works inside the caller's transaction, so an idea, its revision and its audit
entry commit together or not at all. An idea is always filed under the table and round where it
was recorded; a participant records only at their own table of the open round, and only when the
summit lets them (the host, or every table member: ``idea_settings.who_records``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core import service as repository
from summit.core.errors import InvalidInput, NotFound, PermissionDenied
from summit.core.events import EventBus
from summit.core.i18n import gettext as _
from summit.core.models import Participant, Round, Seat, Summit, SummitTable, utcnow
from summit.core.text import clean_text
from summit.ideas.models import Idea, IdeaRevision, IdeaSettings, ThemeBoardState

TITLE_MAX = 120
BODY_MAX = 2000
TAGS_MAX = 10
TAG_MAX = 32
KEY_MAX = 64
WHO_RECORDS = ("host", "table")
SOURCES = ("online", "tablet", "paper")
IMPORT_MAX_BYTES = 1_000_000
IMPORT_MAX_ROWS = 5000
_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class IdeaImportError(InvalidInput):
    """A paper-form CSV that cannot be imported; ``rows`` lists (row, field, message)."""

    def __init__(self, rows: list[tuple[int, str, str]], message: str | None = None) -> None:
        self.rows = rows
        summary = message or "; ".join(f"row {r}: {f}: {m}" for r, f, m in rows[:5])
        if len(rows) > 5:
            summary += f"; … {len(rows) - 5} more"
        super().__init__("file", summary)


class IdempotencyConflict(InvalidInput):
    """An idempotency key that was already used for a different idea."""


# --- Settings --------------------------------------------------------------------------------


async def who_records(session: AsyncSession, summit_id: int) -> str:
    """``host`` (default: the table host records) or ``table`` (every member of the table)."""
    row = await session.scalar(select(IdeaSettings).where(IdeaSettings.summit_id == summit_id))
    return row.who_records if row is not None else "host"


async def set_who_records(session: AsyncSession, summit_id: int, value: str, *, actor: str) -> None:
    if value not in WHO_RECORDS:
        raise InvalidInput("who_records", _("choose the host or the whole table"))
    row = await session.scalar(select(IdeaSettings).where(IdeaSettings.summit_id == summit_id))
    if row is None:
        row = IdeaSettings(summit_id=summit_id)
        session.add(row)
    row.who_records = value
    row.updated_at = utcnow()
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="ideas.settings",
        subject=f"summit:{summit_id}",
        summit_id=summit_id,
        payload={"who_records": value},
    )


# --- Where a participant records -------------------------------------------------------------


@dataclass(frozen=True)
class TableContext:
    """A participant's table in the open round and whether they may record its ideas."""

    summit_id: int
    participant_id: int
    round_id: int
    round_number: int
    round_title: str
    table_id: int
    table_number: int
    is_host: bool
    can_record: bool
    who_records: str


async def table_context(session: AsyncSession, participant: Participant) -> TableContext | None:
    """The participant's table in the open round, or None (no open round or not seated)."""
    rnd = await repository.open_round(session, participant.summit_id)
    if rnd is None:
        return None
    seat = await session.scalar(
        select(Seat).where(Seat.round_id == rnd.id, Seat.participant_id == participant.id)
    )
    if seat is None:
        return None
    table = await session.get(SummitTable, seat.table_id)
    assert table is not None
    mode = await who_records(session, participant.summit_id)
    return TableContext(
        summit_id=participant.summit_id,
        participant_id=participant.id,
        round_id=rnd.id,
        round_number=rnd.number,
        round_title=rnd.title,
        table_id=table.id,
        table_number=table.number,
        is_host=seat.is_host,
        can_record=seat.is_host or mode == "table",
        who_records=mode,
    )


async def table_members(session: AsyncSession, round_id: int, table_id: int) -> list[int]:
    """Participant ids seated at a table in a round (who sees its ideas live)."""
    rows = await session.execute(
        select(Seat.participant_id).where(Seat.round_id == round_id, Seat.table_id == table_id)
    )
    return sorted(int(pid) for pid in rows.scalars())


async def table_ideas(
    session: AsyncSession, round_id: int, table_id: int, *, include_withdrawn: bool = False
) -> list[Idea]:
    query = select(Idea).where(Idea.round_id == round_id, Idea.table_id == table_id)
    if not include_withdrawn:
        query = query.where(Idea.status != "withdrawn")
    return list((await session.execute(query.order_by(Idea.id))).scalars())


# --- Validation ------------------------------------------------------------------------------


def clean_tags(raw: Any, field_name: str = "tags") -> list[str]:
    """Tags from a list or a comma-separated string: trimmed, unique, at most 10 of 32 chars."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        items: list[Any] = raw.split(",")
    elif isinstance(raw, list):
        items = raw
    else:
        raise InvalidInput(field_name, _("must be a list of words or a comma-separated text"))
    tags: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidInput(field_name, _("every tag must be text"))
        tag = " ".join(item.split())
        if not tag:
            continue
        if len(tag) > TAG_MAX:
            raise InvalidInput(
                field_name, _("a tag has at most %(TAG_MAX)s characters") % {"TAG_MAX": TAG_MAX}
            )
        if tag.lower() not in {t.lower() for t in tags}:
            tags.append(tag)
    if len(tags) > TAGS_MAX:
        raise InvalidInput(field_name, _("at most %(TAGS_MAX)s tags") % {"TAGS_MAX": TAGS_MAX})
    return tags


def clean_idea(title: Any, body: Any, tags: Any) -> tuple[str, str, list[str]]:
    """Validated (title, body, tags); raises InvalidInput naming the field."""
    if isinstance(title, str):
        title = " ".join(clean_text(title).split())  # no bidi or zero-width tricks on the plenary
    if not isinstance(title, str) or not title:
        raise InvalidInput("title", _("is required"))
    if body is None:
        body = ""
    if not isinstance(body, str):
        raise InvalidInput("body", _("must be text"))
    body = clean_text(body).strip().replace("\r\n", "\n")
    if len(title) > TITLE_MAX:
        raise InvalidInput(
            "title",
            _("has at most %(TITLE_MAX)s characters (got %(n)s)")
            % {"TITLE_MAX": TITLE_MAX, "n": len(title)},
        )
    if len(body) > BODY_MAX:
        raise InvalidInput(
            "body",
            _("has at most %(BODY_MAX)s characters (got %(n)s)")
            % {"BODY_MAX": BODY_MAX, "n": len(body)},
        )
    if "\x00" in title or "\x00" in body:
        raise InvalidInput("body", _("contains a NUL character"))
    return title, body, clean_tags(tags)


def clean_key(raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not _KEY_PATTERN.match(raw):
        raise InvalidInput(
            "idempotency_key", _("use 1–64 letters, digits or the characters _ . : -")
        )
    return raw


def idea_text(title: str, body: str) -> str:
    """The text that is embedded for clustering: the title, then the explanation."""
    return f"{title}. {body}" if body else title


def idea_json(idea: Idea, table_number: int | None = None) -> dict[str, Any]:
    return {
        "id": idea.id,
        "title": idea.title,
        "body": idea.body,
        "tags": list(idea.tags or []),
        "status": idea.status,
        "round_id": idea.round_id,
        "table_id": idea.table_id,
        "table": table_number,
        "source": idea.source,
        "theme_id": idea.theme_id,
        "idempotency_key": idea.idempotency_key,
        "created_at": idea.created_at.isoformat(),
        "updated_at": idea.updated_at.isoformat(),
    }


async def _bump_board(session: AsyncSession, summit_id: int) -> None:
    """Tell every app worker's theme board that the ideas changed (text or withdrawal)."""
    await session.execute(
        update(ThemeBoardState)
        .where(ThemeBoardState.summit_id == summit_id)
        .values(generation=ThemeBoardState.generation + 1, updated_at=utcnow())
    )


# --- Capture ---------------------------------------------------------------------------------


async def add_idea(
    session: AsyncSession,
    ctx: TableContext,
    *,
    title: Any,
    body: Any = "",
    tags: Any = None,
    idempotency_key: Any = None,
    source: str = "online",
    actor: str,
    expect_round: int | None = None,
    expect_table: int | None = None,
) -> tuple[Idea, bool]:
    """Record an idea at the caller's table; returns (idea, created).

    A repeated key returns the idea first stored under it (created False), never a second idea.
    ``expect_round``/``expect_table`` are what the client believes (an idea queued offline):
    a table that is not the caller's is refused, a round that has ended too.
    """
    key = clean_key(idempotency_key)
    title, body, tag_list = clean_idea(title, body, tags)
    if source not in SOURCES:
        raise InvalidInput("source", _("must be one of %(value)s") % {"value": ", ".join(SOURCES)})
    if key is not None:
        existing = await session.scalar(
            select(Idea).where(Idea.summit_id == ctx.summit_id, Idea.idempotency_key == key)
        )
        if existing is not None:
            # A key is the caller's table's own: another table's idea is never returned.
            same_place = (existing.table_id, existing.round_id) == (ctx.table_id, ctx.round_id)
            if not same_place or existing.title != title or existing.body != body:
                raise IdempotencyConflict(
                    "idempotency_key", _("was already used for a different idea")
                )
            return existing, False
    if expect_table is not None and expect_table != ctx.table_id:
        raise PermissionDenied("table: " + _("you can only add ideas to your own table"))
    if expect_round is not None and expect_round != ctx.round_id:
        raise InvalidInput("round", _("that round has ended; the idea was not saved"))
    if not ctx.can_record:
        raise PermissionDenied("role: " + _("only the table host records ideas at this summit"))
    now = utcnow()
    idea = Idea(
        summit_id=ctx.summit_id,
        round_id=ctx.round_id,
        table_id=ctx.table_id,
        author_id=ctx.participant_id,
        title=title,
        body=body,
        tags=tag_list,
        status="active",
        idempotency_key=key,
        source=source,
        created_at=now,
        updated_at=now,
    )
    session.add(idea)
    await session.flush()
    session.add(
        IdeaRevision(idea_id=idea.id, title=title, body=body, status="active", editor=actor[:16])
    )
    await audit.append(
        session,
        actor=actor,
        action="idea.add",
        subject=f"idea:{idea.id}",
        summit_id=ctx.summit_id,
        payload={"round": ctx.round_number, "table": ctx.table_number, "source": source},
    )
    return idea, True


async def get_idea(session: AsyncSession, summit_id: int, idea_id: int) -> Idea:
    idea = await session.get(Idea, idea_id)
    if idea is None or idea.summit_id != summit_id:
        raise NotFound(_("idea %(idea_id)s does not exist") % {"idea_id": idea_id})
    return idea


async def may_edit(session: AsyncSession, participant: Participant, idea: Idea) -> bool:
    """A participant edits ideas of their own table in the open round, if they may record there."""
    ctx = await table_context(session, participant)
    return (
        ctx is not None
        and ctx.can_record
        and idea.round_id == ctx.round_id
        and idea.table_id == ctx.table_id
    )


async def edit_idea(
    session: AsyncSession, idea: Idea, *, title: Any, body: Any, tags: Any, actor: str
) -> Idea:
    """Change an idea's text; the earlier version stays in ``idea_revisions``."""
    if idea.status == "withdrawn":
        raise InvalidInput("status", _("a withdrawn idea cannot be edited"))
    title, body, tag_list = clean_idea(title, body, tags)
    if (title, body, tag_list) == (idea.title, idea.body, list(idea.tags or [])):
        return idea
    idea.title, idea.body, idea.tags = title, body, tag_list
    idea.updated_at = utcnow()
    session.add(
        IdeaRevision(idea_id=idea.id, title=title, body=body, status=idea.status, editor=actor[:16])
    )
    await _bump_board(session, idea.summit_id)
    await audit.append(
        session,
        actor=actor,
        action="idea.edit",
        subject=f"idea:{idea.id}",
        summit_id=idea.summit_id,
        payload={"revision": await _revision_count(session, idea.id)},
    )
    return idea


async def withdraw_idea(session: AsyncSession, idea: Idea, *, actor: str) -> Idea:
    """Take an idea back: it leaves its theme; its history stays."""
    if idea.status == "withdrawn":
        return idea
    idea.status = "withdrawn"
    idea.theme_id = None
    idea.duplicate_of_id = None
    idea.updated_at = utcnow()
    session.add(
        IdeaRevision(
            idea_id=idea.id, title=idea.title, body=idea.body, status="withdrawn", editor=actor[:16]
        )
    )
    # Ideas that were marked as repeating this one stand on their own again.
    await session.execute(
        update(Idea)
        .where(Idea.duplicate_of_id == idea.id)
        .values(duplicate_of_id=None, status="active")
    )
    await _bump_board(session, idea.summit_id)
    await audit.append(
        session,
        actor=actor,
        action="idea.withdraw",
        subject=f"idea:{idea.id}",
        summit_id=idea.summit_id,
    )
    return idea


async def _revision_count(session: AsyncSession, idea_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(IdeaRevision).where(IdeaRevision.idea_id == idea_id)
        )
        or 0
    )


async def revisions(session: AsyncSession, idea_id: int) -> list[IdeaRevision]:
    return list(
        (
            await session.execute(
                select(IdeaRevision)
                .where(IdeaRevision.idea_id == idea_id)
                .order_by(IdeaRevision.id)
            )
        ).scalars()
    )


async def publish_idea(
    bus: EventBus,
    idea: Idea,
    action: str,
    members: list[int],
    table_number: int | None,
) -> None:
    """Show the change live to every member of the idea's table and to the staff."""
    event = {"type": "idea", "action": action, "idea": idea_json(idea, table_number)}
    for pid in members:
        await bus.publish(f"participant:{pid}", event)
    if idea.table_id is not None:
        await bus.publish(f"table:{idea.table_id}", event)
    await bus.publish(
        f"staff:{idea.summit_id}",
        {"type": "idea", "action": action, "idea_id": idea.id, "table": table_number},
    )


# --- Paper forms -----------------------------------------------------------------------------

_COLUMNS = {
    "table": ("table", "tafel", "table number", "tafelnummer", "nr", "number"),
    "title": ("title", "titel", "idea", "idee"),
    "text": ("text", "tekst", "body", "toelichting", "description", "omschrijving"),
    "tags": ("tags", "labels", "trefwoorden"),
}


@dataclass
class ImportReport:
    """What an import did: ideas added, rows that were already imported, per table."""

    added: int = 0
    already: int = 0
    round_number: int = 0
    tables: dict[int, int] = field(default_factory=dict)
    idea_ids: list[int] = field(default_factory=list)


def _decode(data: bytes) -> str:
    if not data.strip():
        raise IdeaImportError([(0, "file", _("is empty"))])
    if len(data) > IMPORT_MAX_BYTES:
        raise IdeaImportError(
            [(0, "file", _("is larger than %(n)s MB") % {"n": IMPORT_MAX_BYTES // 1_000_000})]
        )
    if b"\x00" in data:
        raise IdeaImportError([(0, "file", _("is not a text (CSV) file"))])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves CSV as Windows-1252 unless told otherwise.
        return data.decode("cp1252", errors="replace")


@dataclass(frozen=True)
class PaperRow:
    """One row of a paper-form CSV, not yet checked (``extra``: more cells than columns)."""

    number: int
    table: str
    title: str
    text: str
    tags: str
    extra: bool = False


def parse_paper_csv(data: bytes) -> list[PaperRow]:
    """The rows of a paper-form CSV, still unchecked.

    Columns: table number, title, text[, tags]; a header row is optional (Dutch or English
    names); the separator (comma, semicolon, tab) is detected.
    """
    text = _decode(data)
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise IdeaImportError([(0, "file", _("has no rows"))])
    order = ["table", "title", "text", "tags"]
    first = [c.strip().lower() for c in rows[0]]
    start = 1
    known = {name for names in _COLUMNS.values() for name in names}
    if any(cell in known for cell in first):
        found: list[str] = []
        for name in first:
            column = next((k for k, names in _COLUMNS.items() if name in names), None)
            if column is None:
                raise IdeaImportError(
                    [(1, "header", _("unknown column %(name)r") % {"name": name})]
                )
            found.append(column)
        missing = [c for c in ("table", "title", "text") if c not in found]
        if missing:
            raise IdeaImportError(
                [(1, "header", _("missing column %(value)r") % {"value": missing[0]})]
            )
        order = found
    else:
        start = 0
    if len(rows) - start > IMPORT_MAX_ROWS:
        raise IdeaImportError(
            [
                (
                    0,
                    "file",
                    _("has more than %(IMPORT_MAX_ROWS)s rows")
                    % {"IMPORT_MAX_ROWS": IMPORT_MAX_ROWS},
                )
            ]
        )
    parsed = []
    for number, row in enumerate(rows[start:], start=start + 1):
        if not any(cell.strip() for cell in row):
            continue
        values = dict(zip(order, row, strict=False))
        parsed.append(
            PaperRow(
                number,
                values.get("table", ""),
                values.get("title", ""),
                values.get("text", ""),
                values.get("tags", ""),
                extra=len(row) > len(order) and any(c.strip() for c in row[len(order) :]),
            )
        )
    if not parsed:
        raise IdeaImportError([(0, "file", _("has no ideas"))])
    return parsed


async def _import_round(session: AsyncSession, summit: Summit, round_number: int | None) -> Round:
    """The round paper forms go into: the one named, else the open one, else the last closed."""
    if round_number is not None:
        rnd = await session.scalar(
            select(Round).where(Round.summit_id == summit.id, Round.number == round_number)
        )
        if rnd is None:
            raise InvalidInput(
                "round", _("round %(round_number)s does not exist") % {"round_number": round_number}
            )
        return rnd
    rnd = await repository.open_round(session, summit.id)
    if rnd is None:
        rnd = await session.scalar(
            select(Round)
            .where(Round.summit_id == summit.id, Round.status == "closed")
            .order_by(Round.number.desc())
            .limit(1)
        )
    if rnd is None:
        raise InvalidInput("round", _("no round is open or closed; name the round"))
    return rnd


async def import_paper(
    session: AsyncSession,
    summit: Summit,
    data: bytes,
    *,
    actor: str,
    round_number: int | None = None,
) -> ImportReport:
    """Import paper forms, all or nothing; a bad row raises IdeaImportError listing every row.

    Each row's idempotency key comes from the file's hash and the row number, so importing the
    same file twice adds nothing the second time.
    """
    rows = parse_paper_csv(data)
    rnd = await _import_round(session, summit, round_number)
    tables = {
        t.number: t
        for t in (
            await session.execute(select(SummitTable).where(SummitTable.summit_id == summit.id))
        ).scalars()
    }
    errors: list[tuple[int, str, str]] = []
    good: list[tuple[int, SummitTable, str, str, list[str]]] = []
    for row in rows:
        number = row.number
        if row.extra:
            errors.append((number, "row", _("has more columns than table, title, text, tags")))
            continue
        try:
            table_number = int(row.table.strip())
        except ValueError:
            message = _("%(value)r is not a table number")
            errors.append((number, "table", message % {"value": row.table.strip()}))
            continue
        table = tables.get(table_number)
        if table is None:
            message = _("table %(number)s does not exist")
            errors.append((number, "table", message % {"number": table_number}))
            continue
        try:
            clean_title, clean_body, tags = clean_idea(row.title, row.text, row.tags)
        except InvalidInput as exc:
            errors.append((number, exc.field, exc.detail))
            continue
        good.append((number, table, clean_title, clean_body, tags))
    if errors:
        raise IdeaImportError(errors)
    digest = hashlib.sha256(data).hexdigest()[:24]
    report = ImportReport(round_number=rnd.number)
    keys = [f"paper:{digest}:{number}" for number, *_rest in good]
    seen = set(
        (
            await session.execute(
                select(Idea.idempotency_key).where(
                    Idea.summit_id == summit.id, Idea.idempotency_key.in_(keys)
                )
            )
        ).scalars()
    )
    now = utcnow()
    for key, (_number, table, title, body, tags) in zip(keys, good, strict=True):
        if key in seen:
            report.already += 1
            continue
        idea = Idea(
            summit_id=summit.id,
            round_id=rnd.id,
            table_id=table.id,
            author_id=None,
            title=title,
            body=body,
            tags=tags,
            status="active",
            idempotency_key=key,
            source="paper",
            created_at=now,
            updated_at=now,
        )
        session.add(idea)
        await session.flush()
        session.add(
            IdeaRevision(idea_id=idea.id, title=title, body=body, status="active", editor=actor)
        )
        report.added += 1
        report.idea_ids.append(idea.id)
        report.tables[table.number] = report.tables.get(table.number, 0) + 1
    await audit.append(
        session,
        actor=actor,
        action="ideas.import",
        subject=f"round:{rnd.id}",
        summit_id=summit.id,
        payload={
            "round": rnd.number,
            "added": report.added,
            "already": report.already,
            "file_sha256": hashlib.sha256(data).hexdigest(),
            "tables": {str(k): v for k, v in sorted(report.tables.items())},
        },
    )
    return report
