"""Use cases of the two-stage lottery (loting): register import, the committed invitation draw,
invitations with registration codes, registration and withdrawal.

Every function works inside the caller's transaction and writes its audit entry there; audit
payloads hold pseudonyms, counts and hashes only. Registration codes are never stored: a drawn
resident's code is derived with a keyed hash (HMAC-SHA-256 of the summit's secret key) from the
pseudonym, so the organiser can print letters again, while the database holds only
``code_hash(secret_key, code)``, a keyed hash (a copy of the database alone cannot be searched
for codes). Codes of named invitations are random and shown once.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from summit import __version__
from summit.core import audit, csvfile
from summit.core import service as repository
from summit.core.errors import InvalidInput, NotFound
from summit.core.i18n import gettext
from summit.core.i18n import gettext as _
from summit.core.models import Participant, Person, Summit, utcnow
from summit.core.rules.draw import (
    Commitment,
    DrawEntry,
    SeedSpec,
    Verification,
    extract_digest,
    make_commitment,
    normalise_seed,
    run_committed_draw,
    sha256_hex,
    verify_draw,
)
from summit.core.rules.roles import Phase, Role
from summit.core.security import (
    CODE_ALPHABET,
    code_hash,
    new_code,
    new_token,
    normalise_code,
    token_hash,
)
from summit.lottery.models import (
    Invitation,
    LotteryDraw,
    RegisterEntry,
    RegisterImport,
    Registration,
    WithdrawalLink,
)
from summit.lottery.rules.register import ColumnMapping, Register, parse_register

CODE_LENGTH = 10
MAPPING_FIELDS = (
    "id",
    "gender",
    "birth_date",
    "age",
    "district",
    "postcode",
    "household",
    "address",
    "origin",
    "education",
)
#: Roles that may register themselves without a code (ambtenaren en vrijdenkers).
SELF_ROLES = ("civil_servant", "free_thinker")
ATTENDANCE = ("venue", "online")


def register_key(secret_key: str) -> bytes:
    """The pseudonymisation key of register ids, derived from the platform's secret key."""
    return hmac.new(secret_key.encode("utf-8"), b"register-pseudonyms", hashlib.sha256).digest()


def parse_mapping(text: str) -> ColumnMapping:
    """``id=BSN,gender=Geslacht,birth_date=Geboortedatum`` → :class:`ColumnMapping`."""
    values: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, column = part.partition("=")
        name = name.strip()
        if not sep or not column.strip():
            raise InvalidInput("map", _("%(value)r is not field=COLUMN") % {"value": part.strip()})
        if name not in MAPPING_FIELDS:
            raise InvalidInput(
                "map",
                _("unknown field %(name)r; use %(value)s")
                % {"name": name, "value": ", ".join(MAPPING_FIELDS)},
            )
        values[name] = column.strip()
    return mapping_from(values)


def mapping_from(values: Mapping[str, str]) -> ColumnMapping:
    """A column mapping from field → header name (empty values are left out)."""
    clean = {k: v.strip() for k, v in values.items() if k in MAPPING_FIELDS and v.strip()}
    for required in ("id", "gender"):
        if required not in clean:
            raise InvalidInput(f"map_{required}", _("name the column that holds this field"))
    return ColumnMapping(**clean)


# --- Register import ---------------------------------------------------------------------------


async def _has_draw(session: AsyncSession, summit_id: int, kind: str, status: str) -> bool:
    found = await session.scalar(
        select(func.count())
        .select_from(LotteryDraw)
        .where(
            LotteryDraw.summit_id == summit_id,
            LotteryDraw.kind == kind,
            LotteryDraw.status == status,
        )
    )
    return bool(found)


async def import_register(
    session: AsyncSession,
    summit: Summit,
    text: str,
    mapping: ColumnMapping,
    *,
    actor: str,
    key: bytes,
    min_age: int = 16,
    encoding: str = "UTF-8",
) -> tuple[Register, RegisterImport]:
    """Replace the summit's register extract with a validated one, all or nothing.

    Raises :class:`summit.lottery.rules.register.RegisterError` (every bad row) before anything is
    written, and refuses once an invitation draw has been committed to the current extract.
    """
    day = summit.date or dt.date.today()
    register = parse_register(text, mapping, summit_date=day, key=key, min_age=min_age)
    if await _has_draw(summit_id=summit.id, session=session, kind="invitation", status="committed"):
        raise InvalidInput("register", _("a draw is committed to the current extract"))
    if await _has_draw(summit_id=summit.id, session=session, kind="invitation", status="drawn"):
        raise InvalidInput("register", _("the invitation draw has been made; the extract is final"))
    await session.execute(delete(RegisterEntry).where(RegisterEntry.summit_id == summit.id))
    session.add_all(
        RegisterEntry(
            summit_id=summit.id,
            pseudonym=r.pseudonym,
            household=r.household or "",
            features=r.features(),
            eligible=True,
        )
        for r in register.residents
    )
    extract = register.published()
    record = RegisterImport(
        summit_id=summit.id,
        rows_read=register.rows_read,
        eligible=len(register.residents),
        excluded_under_age=register.excluded_under_age,
        extract_hash=extract_digest(extract),
        shares=register.shares,
        counts=register.counts,
        households=register.households,
        encoding=encoding,
    )
    session.add(record)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="register.import",
        subject=f"summit:{summit.id}",
        summit_id=summit.id,
        payload={
            "rows": register.rows_read,
            "eligible": len(register.residents),
            "excluded_under_age": register.excluded_under_age,
            "households": register.households,
            "encoding": encoding,
            "extract_hash": record.extract_hash,
        },
    )
    return register, record


async def latest_import(session: AsyncSession, summit_id: int) -> RegisterImport | None:
    return await session.scalar(
        select(RegisterImport)
        .where(RegisterImport.summit_id == summit_id)
        .order_by(RegisterImport.id.desc())
        .limit(1)
    )


async def extract(session: AsyncSession, summit_id: int) -> list[DrawEntry]:
    """The pseudonymised extract as published (sorted by pseudonym)."""
    rows = await session.execute(
        select(RegisterEntry.pseudonym, RegisterEntry.household)
        .where(RegisterEntry.summit_id == summit_id, RegisterEntry.eligible.is_(True))
        .order_by(RegisterEntry.pseudonym)
    )
    return [DrawEntry(p, h or None) for p, h in rows.all()]


def extract_csv(entries: Sequence[DrawEntry]) -> str:
    out = io.StringIO()
    writer = csvfile.writer(out, lineterminator="\n")
    writer.writerow(["pseudonym", "household"])
    for e in entries:
        writer.writerow([e.pseudonym, e.household or ""])
    return out.getvalue()


def read_extract_csv(text: str) -> list[DrawEntry]:
    """Parse a published extract; raises :class:`InvalidInput` naming the bad row."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    rows = list(reader)
    if not rows or [c.strip() for c in rows[0][:2]] != ["pseudonym", "household"]:
        raise InvalidInput("extract", _("row 1: the header must be pseudonym,household"))
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 2 or not row[0].strip():
            raise InvalidInput(
                "extract", _("row %(number)s: expected pseudonym,household") % {"number": number}
            )
        out.append(DrawEntry(row[0].strip(), row[1].strip() or None))
    return out


# --- The invitation draw (stage 1) -----------------------------------------------------------


async def invitation_draw(session: AsyncSession, summit_id: int) -> LotteryDraw | None:
    return await session.scalar(
        select(LotteryDraw)
        .where(LotteryDraw.summit_id == summit_id, LotteryDraw.kind == "invitation")
        .order_by(LotteryDraw.id.desc())
        .limit(1)
    )


async def commit_draw(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    sample_size: int,
    one_per_household: bool = True,
    dice_digits: int = 20,
) -> LotteryDraw:
    """Publish the commitment of the invitation draw before the public seed exists."""
    current = await invitation_draw(session, summit.id)
    if current is not None and current.status == "drawn":
        raise InvalidInput("draw", _("the invitation draw has already been made"))
    if not 6 <= dice_digits <= 64:
        raise InvalidInput("dice_digits", _("use between 6 and 64 dice digits"))
    entries = await extract(session, summit.id)
    if not entries:
        raise InvalidInput("register", _("import the register extract first"))
    commitment = make_commitment(
        entries,
        sample_size,
        one_per_household=one_per_household,
        software_version=__version__,
        seed=SeedSpec("dice", dice_digits),
        settings={"summit": summit.slug},
    )
    if current is not None:
        await session.delete(current)
        await session.flush()
    draw = LotteryDraw(
        summit_id=summit.id,
        kind="invitation",
        role=Role.RESIDENT.value,
        status="committed",
        commitment=commitment.as_dict(),
        commitment_hash=commitment.hash,
        result={},
    )
    session.add(draw)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="draw.commit",
        subject=f"draw:{draw.id}",
        summit_id=summit.id,
        payload={
            "commitment_hash": commitment.hash,
            "extract_hash": commitment.extract_hash,
            "pool_size": commitment.pool_size,
            "sample_size": sample_size,
            "one_per_household": one_per_household,
        },
    )
    return draw


def commitment_json(draw: LotteryDraw) -> bytes:
    """The commitment file as published (canonical JSON; its SHA-256 is the commitment hash)."""
    return Commitment.from_dict(draw.commitment).canonical()


def result_csv(pseudonyms: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csvfile.writer(out, lineterminator="\n")
    writer.writerow(["position", "pseudonym"])
    for i, p in enumerate(pseudonyms):
        writer.writerow([i, p])
    return out.getvalue()


def read_result_csv(text: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    if not rows or [c.strip() for c in rows[0]] != ["position", "pseudonym"]:
        raise InvalidInput("result", _("row 1: the header must be position,pseudonym"))
    out: list[str] = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 2 or row[0].strip() != str(len(out)):
            raise InvalidInput(
                "result",
                _("row %(number)s: expected position %(n)s,pseudonym")
                % {"number": number, "n": len(out)},
            )
        out.append(row[1].strip())
    return out


def invitation_code(secret_key: str, summit_id: int, pseudonym: str) -> str:
    """The registration code of a drawn resident: reproducible only with the secret key."""
    digest = hmac.new(
        secret_key.encode("utf-8"), f"code\x1f{summit_id}\x1f{pseudonym}".encode(), hashlib.sha256
    ).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _step in range(CODE_LENGTH):
        number, rest = divmod(number, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[rest])
    return "".join(chars)


async def run_draw(
    session: AsyncSession, summit: Summit, *, actor: str, seed: str, secret_key: str
) -> LotteryDraw:
    """Draw the invitations from the public seed: the committed extract must be unchanged."""
    draw = await invitation_draw(session, summit.id)
    if draw is None or draw.status != "committed":
        raise InvalidInput("draw", _("publish a commitment first"))
    commitment = Commitment.from_dict(draw.commitment)
    normalised = normalise_seed(seed, commitment.seed)
    entries = await extract(session, summit.id)
    drawn = run_committed_draw(entries, commitment, normalised)
    ids = dict(
        (
            await session.execute(
                select(RegisterEntry.pseudonym, RegisterEntry.id).where(
                    RegisterEntry.summit_id == summit.id
                )
            )
        ).all()
    )
    session.add_all(
        Invitation(
            summit_id=summit.id,
            kind="drawn",
            role=Role.RESIDENT.value,
            register_entry_id=ids[p],
            code_hash=code_hash(secret_key, invitation_code(secret_key, summit.id, p)),
            status="sent",
        )
        for p in drawn
    )
    draw.status = "drawn"
    draw.seed = normalised
    draw.result = {"pseudonyms": drawn}
    draw.result_hash = sha256_hex(result_csv(drawn).encode("utf-8"))
    draw.drawn_at = utcnow()
    summit.public_seed = normalised
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="draw.run",
        subject=f"draw:{draw.id}",
        summit_id=summit.id,
        payload={
            "commitment_hash": draw.commitment_hash,
            "seed": normalised,
            "invited": len(drawn),
            "result_hash": draw.result_hash,
        },
    )
    return draw


def verify_files(
    commitment_text: str, extract_text: str, seed: str, result_text: str
) -> Verification:
    """Re-run a published invitation draw from its published files; MATCH or the difference."""
    try:
        data = json.loads(commitment_text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            "commitment",
            _("not JSON: %(msg)s at line %(lineno)s") % {"msg": exc.msg, "lineno": exc.lineno},
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput("commitment", _("must be a JSON object"))
    commitment = Commitment.from_dict(data)
    return verify_draw(
        read_extract_csv(extract_text), commitment, seed, read_result_csv(result_text)
    )


@dataclass(frozen=True)
class Letter:
    pseudonym: str
    code: str
    link: str


async def letters(
    session: AsyncSession, summit: Summit, *, secret_key: str, base_url: str
) -> list[Letter]:
    """The drawn residents' codes and links, in draw order (for the organiser only)."""
    draw = await invitation_draw(session, summit.id)
    if draw is None or draw.status != "drawn":
        return []
    out: list[Letter] = []
    for p in draw.result.get("pseudonyms", []):
        code = invitation_code(secret_key, summit.id, p)
        out.append(Letter(p, code, f"{base_url}/register?code={code}"))
    return out


def mail_merge_csv(rows: Sequence[Letter]) -> str:
    out = io.StringIO()
    writer = csvfile.writer(out, lineterminator="\n")
    writer.writerow(["pseudonym", "code", "link"])
    for letter in rows:
        writer.writerow([letter.pseudonym, format_code(letter.code), letter.link])
    return out.getvalue()


def mail_merge_with_ids(register: Register, rows: Sequence[Letter]) -> str:
    """The mail-merge file with the register's own ids, made from the organiser's copy of the
    register file (the platform never stores those ids): ``id,pseudonym,code,link``."""
    source = {r.pseudonym: r.source_id for r in register.residents}
    out = io.StringIO()
    writer = csvfile.writer(out, lineterminator="\n")
    writer.writerow(["id", "pseudonym", "code", "link"])
    for letter in rows:
        if letter.pseudonym not in source:
            raise InvalidInput("register", _("this file is not the extract the draw was made from"))
        writer.writerow(
            [source[letter.pseudonym], letter.pseudonym, format_code(letter.code), letter.link]
        )
    return out.getvalue()


def format_code(code: str) -> str:
    """``ABCDE23456`` → ``ABCDE-23456`` (easier to read off paper)."""
    return f"{code[:5]}-{code[5:]}" if len(code) == 10 else code


# --- Named invitations -----------------------------------------------------------------------


async def invite_named(
    session: AsyncSession, summit: Summit, *, actor: str, role: str, secret_key: str
) -> tuple[Invitation, str]:
    """A personal invitation for an employer, politician or civil servant; returns the code."""
    if role not in {r.value for r in Role} or role == Role.RESIDENT.value:
        raise InvalidInput("role", _("choose one of the listed roles"))
    code = new_code(CODE_LENGTH)
    invitation = Invitation(
        summit_id=summit.id,
        kind="named",
        role=role,
        code_hash=code_hash(secret_key, code),
        status="sent",
    )
    session.add(invitation)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="invitation.named",
        subject=f"invitation:{invitation.id}",
        summit_id=summit.id,
        payload={"role": role},
    )
    return invitation, code


# --- Registration ------------------------------------------------------------------------------


class CodeRejected(InvalidInput):
    """A registration code that is unknown, already used or withdrawn (``reason``)."""

    def __init__(self, reason: str) -> None:
        messages = {
            "unknown": "this code is not known; check the letter and try again",
            "used": "this code has already been used to register",
            "withdrawn": "this invitation was withdrawn",
        }
        super().__init__("code", messages[reason])
        self.reason = reason


async def find_invitation(
    session: AsyncSession, summit: Summit, code: str, *, secret_key: str
) -> Invitation:
    clean = normalise_code(code or "")
    if not 6 <= len(clean) <= 32:
        raise CodeRejected("unknown")
    invitation = await session.scalar(
        select(Invitation).where(
            Invitation.summit_id == summit.id,
            Invitation.code_hash == code_hash(secret_key, clean),
        )
    )
    if invitation is None:
        raise CodeRejected("unknown")
    if invitation.status == "registered":
        raise CodeRejected("used")
    if invitation.status == "withdrawn":
        raise CodeRejected("withdrawn")
    return invitation


@dataclass(frozen=True)
class RegistrationForm:
    """What an invitee fills in. ``features`` answers the summit's demographic questions."""

    first_name: str
    last_name: str
    email: str
    phone: str
    attendance: str
    language: str
    features: dict[str, str]
    accessibility_needs: str
    consent: bool


def feature_questions(
    summit: Summit, imported: RegisterImport | None
) -> list[tuple[str, list[str]]]:
    """The summit's demographic questions with their answer options: the values found in the
    register extract (what the quotas count), else the values the summit names, else free text
    (no options). :mod:`summit.lottery.labels` gives them their labels."""
    from summit.lottery.labels import questions

    return [(q.name, q.values) for q in questions(summit, imported)]


def parse_registration_form(
    values: Mapping[str, str],
    summit: Summit,
    *,
    languages: Sequence[str],
    questions: Sequence[tuple[str, Sequence[str]]] | None = None,
) -> RegistrationForm:
    """Validate the registration form; raises :class:`InvalidInput` naming the first bad field."""
    if values.get("consent") not in {"yes", "on", "1", "true"}:
        raise InvalidInput("consent", _("please agree so that we may store your answers"))
    first = values.get("first_name", "").strip()
    if not first:
        raise InvalidInput("first_name", _("is required"))
    if len(first) > 120 or len(values.get("last_name", "")) > 120:
        raise InvalidInput("first_name", _("at most 120 characters"))
    email = values.get("email", "").strip()
    phone = values.get("phone", "").strip()
    if not email and not phone:
        raise InvalidInput("email", _("give an e-mail address or a phone number"))
    if email and ("@" not in email or len(email) > 254 or " " in email):
        raise InvalidInput("email", _("is not an e-mail address"))
    if len(phone) > 40:
        raise InvalidInput("phone", _("at most 40 characters"))
    attendance = values.get("attendance", "venue")
    if attendance not in ATTENDANCE:
        raise InvalidInput("attendance", _("choose the venue or online"))
    language = values.get("language") or summit.default_language
    if language not in languages:
        raise InvalidInput("language", _("choose one of the listed languages"))
    features: dict[str, str] = {}
    if questions is None:
        questions = feature_questions(summit, None)
    for name, options in questions:
        answer = values.get(f"feature_{name}", "").strip()
        if not answer:
            raise InvalidInput(f"feature_{name}", _("please answer this question"))
        if options and answer not in options:
            raise InvalidInput(f"feature_{name}", _("choose one of the listed answers"))
        features[name] = answer
    return RegistrationForm(
        first_name=first,
        last_name=values.get("last_name", "").strip(),
        email=email,
        phone=phone,
        attendance=attendance,
        language=language,
        features=features,
        accessibility_needs=values.get("accessibility_needs", "").strip()[:2000],
        consent=True,
    )


async def _store_registration(
    session: AsyncSession,
    summit: Summit,
    invitation: Invitation,
    form: RegistrationForm,
    *,
    actor: str,
) -> tuple[Registration, str]:
    person = Person(
        summit_id=summit.id,
        first_name=form.first_name,
        last_name=form.last_name,
        email=form.email,
        phone=form.phone,
        accessibility_needs=form.accessibility_needs,
    )
    session.add(person)
    await session.flush()
    now = utcnow()
    registration = Registration(
        summit_id=summit.id,
        invitation_id=invitation.id,
        person_id=person.id,
        role=invitation.role,
        attendance=form.attendance,
        language=form.language,
        features=form.features,
        consent_at=now,
        status="registered",
    )
    session.add(registration)
    invitation.status = "registered"
    if invitation.register_entry_id is not None:
        entry = await session.get(RegisterEntry, invitation.register_entry_id)
        if entry is not None:
            entry.person_id = person.id
    await session.flush()
    token = new_token()
    session.add(WithdrawalLink(registration_id=registration.id, token_hash=token_hash(token)))
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="registration.create",
        subject=f"registration:{registration.id}",
        summit_id=summit.id,
        payload={
            "invitation": invitation.id,
            "kind": invitation.kind,
            "role": invitation.role,
            "attendance": form.attendance,
        },
    )
    return registration, token


async def register_with_code(
    session: AsyncSession,
    summit: Summit,
    code: str,
    form: RegistrationForm,
    *,
    actor: str,
    secret_key: str,
) -> tuple[Registration, str]:
    """Register with an invitation code; returns the registration and its withdrawal token."""
    invitation = await find_invitation(session, summit, code, secret_key=secret_key)
    return await _store_registration(session, summit, invitation, form, actor=actor)


async def check_self_registration(
    session: AsyncSession, summit: Summit, form: RegistrationForm
) -> None:
    """Self-registration (no code) is open only while the summit is in its registration phase,
    and once per person: an e-mail address or phone number that already has a registration
    (not withdrawn) in this summit is refused."""
    if summit.phase != Phase.REGISTRATION.value:
        message = gettext("Self-registration is only open during the registration phase.")
        raise InvalidInput("role", message)
    same: list[Any] = []
    if form.email:
        same.append(func.lower(Person.email) == form.email.lower())
    if form.phone:
        digits = "".join(ch for ch in form.phone if ch.isdigit() or ch == "+")
        same.append(Person.phone.in_({form.phone, digits}))
    found = await session.scalar(
        select(func.count())
        .select_from(Registration)
        .join(Person, Person.id == Registration.person_id)
        .where(
            Registration.summit_id == summit.id,
            Registration.status != "withdrawn",
            or_(*same),
        )
    )
    if found:
        raise InvalidInput(
            "email",
            gettext("Someone with this e-mail address or phone number is already registered."),
        )


async def register_self(
    session: AsyncSession, summit: Summit, role: str, form: RegistrationForm, *, actor: str
) -> tuple[Registration, str]:
    """Self-registration of a civil servant or free thinker (no code needed). The web form
    calls :func:`check_self_registration` first (phase and one registration per person)."""
    if role not in SELF_ROLES:
        raise InvalidInput("role", _("self-registration is not open to this role"))
    invitation = Invitation(
        summit_id=summit.id,
        kind="self",
        role=role,
        code_hash=token_hash(new_token()),
        status="sent",
    )
    session.add(invitation)
    await session.flush()
    return await _store_registration(session, summit, invitation, form, actor=actor)


async def withdraw(session: AsyncSession, token: str, *, actor: str) -> Registration:
    """Withdraw a registration by its confirmation link (at any time)."""
    link = await session.scalar(
        select(WithdrawalLink).where(WithdrawalLink.token_hash == token_hash(token or ""))
    )
    if link is None:
        raise NotFound(_("withdrawal link: unknown"))
    registration = await session.get(Registration, link.registration_id)
    if registration is None:
        raise NotFound(_("withdrawal link: unknown"))
    if registration.status == "withdrawn":
        return registration
    registration.status = "withdrawn"
    registration.withdrawn_at = utcnow()
    participant = await session.scalar(
        select(Participant).where(Participant.registration_id == registration.id)
    )
    if participant is not None and participant.status != "withdrawn":
        # A selected member who withdraws loses their seat and their personal link at once.
        participant.status = "withdrawn"
        await repository.revoke_links(session, participant, actor=actor)
    await audit.append(
        session,
        actor=actor,
        action="registration.withdraw",
        subject=f"registration:{registration.id}",
        summit_id=registration.summit_id,
        payload={"role": registration.role},
    )
    return registration


async def registration_counts(session: AsyncSession, summit_id: int) -> dict[str, Any]:
    rows = await session.execute(
        select(Registration.role, Registration.status, func.count())
        .where(Registration.summit_id == summit_id)
        .group_by(Registration.role, Registration.status)
    )
    out: dict[str, dict[str, int]] = {}
    for role, status, n in rows.all():
        out.setdefault(role, {})[status] = int(n)
    return out


def result_hash_of(pseudonyms: Sequence[str]) -> str:
    return sha256_hex(result_csv(pseudonyms).encode("utf-8"))
