"""Pages and API of the seating part: the organiser's seating view, round control, the day's
moves, printable table cards, the tables as JSON/CSV, and the participant's tables per round."""

from __future__ import annotations

import contextlib
import io
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from summit.core import csvfile
from summit.core import service as repository
from summit.core.errors import InvalidInput, NotFound
from summit.core.forms import form_int, form_optional_int, form_text
from summit.core.i18n import current_language
from summit.core.i18n import gettext as _
from summit.core.labels import feature_labels
from summit.core.models import Participant
from summit.core.routing import ORGANISER, PARTICIPANT, STAFF, page
from summit.core.templating import render
from summit.core.web import bus, db, identity, summit_or_404
from summit.seating import service as uc
from summit.seating import settings as seating_settings
from summit.seating import topic_rounds
from summit.seating import verify as seating_verify
from summit.seating.changes import (
    MoveRefused,
    check_manual_move,
    load_seating,
    move_participant,
    rebalance_round,
)
from summit.seating.rules import evaluate

# --- form parsing -------------------------------------------------------------------------------


def _pseudonyms(text: str) -> list[str]:
    return [p for p in text.replace(",", " ").split() if p]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _areas(text: str) -> list[dict[str, Any]]:
    areas = []
    for line in _lines(text):
        label, _sep, count = line.rpartition(":")
        try:
            areas.append({"label": label.strip(), "tables": int(count)})
        except ValueError:
            raise InvalidInput(
                "venue_areas", _("%(line)r: write 'Hall A: 10'") % {"line": line}
            ) from None
    return areas


def _fixed(text: str) -> dict[str, int]:
    fixed = {}
    for line in _lines(text):
        parts = line.replace("=", " ").replace(":", " ").split()
        if len(parts) != 2 or not parts[1].isdigit():
            raise InvalidInput(
                "fixed_tables", _("%(line)r: write 'P-1A2B3C4D 12'") % {"line": line}
            )
        fixed[parts[0]] = int(parts[1])
    return fixed


def _done(anchor: str = "") -> Response:
    if anchor.startswith("#round-"):  # show that round's tables (one round's grid per page)
        return RedirectResponse(f"/seating?round={anchor[7:]}{anchor}", status_code=303)
    return RedirectResponse(f"/seating{anchor}", status_code=303)


TABLES_PER_PAGE = 40  # table cards per page of the seating view


def _shown_round(request: Request, rounds: list[Any], current: Any) -> Any:
    """The round whose tables the page shows: ``?round=N``, else the current round, else the first.

    At 1,000 people six rounds of table cards are megabytes of HTML; the other rounds are a link.
    """
    wanted = request.query_params.get("round", "")
    by_number = {rnd.number: rnd for rnd in rounds}
    if wanted.isdigit() and int(wanted) in by_number:
        return by_number[int(wanted)]
    if current is not None and current.number in by_number:
        return by_number[current.number]
    return rounds[0] if rounds else None


# --- the organiser's seating view ---------------------------------------------------------------


async def _page_data(request: Request, **extra: Any) -> dict[str, Any]:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        config = await seating_settings.get_settings(session, summit)
        rounds = await uc.rounds_of(session, summit.id)
        current = await repository.current_round(session, summit.id)
        shown = _shown_round(request, rounds, current)
        shown_tables = await uc.round_tables(session, shown) if shown is not None else []
        pages = max(1, -(-len(shown_tables) // TABLES_PER_PAGE))
        wanted_page = request.query_params.get("page", "")
        table_page = min(int(wanted_page), pages) if wanted_page.isdigit() else 1
        table_page = max(1, table_page)
        start = (table_page - 1) * TABLES_PER_PAGE
        paged = shown_tables[start : start + TABLES_PER_PAGE]
        grid = [(rnd, paged if rnd is shown else None) for rnd in rounds]
        current_tables = shown_tables
        if current is not None and (shown is None or current.id != shown.id):
            current_tables = await uc.round_tables(session, current)
        report = None
        run = None
        try:
            loaded = await load_seating(session, summit)
            run = loaded.run
            report = evaluate(loaded.seating)
        except NotFound:
            pass
        topic_runs = {}
        for rnd in rounds:
            if rnd.kind == "topic":
                with contextlib.suppress(NotFound):
                    topic_runs[rnd.number] = await uc.run_of_round(session, summit.id, rnd.number)
        people = await seating_settings.selected_participants(session, summit.id)
    seated_now = set()
    if current is not None:
        seated_now = {p.pseudonym for t in current_tables for p in t.people}
    return {
        "config": config,
        "grid": grid,
        "shown": shown,
        "shown_tables": shown_tables,
        "table_page": table_page,
        "table_pages": pages,
        "report": report,
        "run": run,
        "topic_runs": topic_runs,
        "people": people,
        "current": current,
        "seated_now": seated_now,
        "feature_names": seating_settings.feature_names(summit),
        "feature_labels": feature_labels(summit.features or [], current_language()),
        "move_error": None,
        "form": {},
        **extra,
    }


@page("/seating", allow=ORGANISER)
async def seating_view(request: Request) -> Response:
    """One grid per round, the seating report, and the forms to seat and to change it."""
    return render(request, "seating/organiser.html", await _page_data(request))


@page("/seating/settings", allow=ORGANISER, methods=("POST",), form_page="/seating")
async def save_settings(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    values: dict[str, Any] = {
        "rounds": form_int(form, "rounds"),
        "table_size": form_int(form, "table_size"),
        "hybrid_tables": form_optional_int(form, "hybrid_tables") or 0,
        "remote_seats_per_hybrid_table": form_optional_int(form, "remote_seats_per_hybrid_table")
        or 0,
        "features": [f for f in form.getlist("features") if isinstance(f, str)],
        "hosts_stay": form.get("hosts_stay") == "on",
        "venue_areas": _areas(form_text(form, "venue_areas")),
        "keep_together": [_pseudonyms(line) for line in _lines(form_text(form, "keep_together"))],
        "keep_apart": [_pseudonyms(line) for line in _lines(form_text(form, "keep_apart"))],
        "fixed_tables": _fixed(form_text(form, "fixed_tables")),
        "topics": _lines(form_text(form, "topics")),
    }
    async with db(request).session() as session:
        fresh = await repository.get_summit(session, summit.id)
        await seating_settings.save_settings(
            session, fresh, actor=identity(request).actor, **values
        )
    return _done("#settings-title")


async def _seat_with(request: Request, seat_use_case: Any, **round_field: str) -> Any:
    """Run a seating use case with the form's public seed (and round), then publish."""
    summit = summit_or_404(request)
    form = await request.form()
    ((keyword, field_name),) = round_field.items()
    async with db(request).session() as session:
        fresh = await repository.get_summit(session, summit.id)
        outcome = await seat_use_case(
            session,
            fresh,
            actor=identity(request).actor,
            seed=form_text(form, "seed"),
            **{keyword: form_optional_int(form, field_name)},
        )
    await uc.publish(bus(request), outcome.events)
    return outcome


@page("/seating/seat", allow=ORGANISER, methods=("POST",), form_page="/seating")
async def seat(request: Request) -> Response:
    """Seat (or reseat, while no round has started) every round with a public seed."""
    await _seat_with(request, uc.seat_summit, rounds="rounds")
    return _done("#report-title")


@page("/seating/topics", allow=ORGANISER, methods=("POST",), form_page="/seating")
async def seat_topics(request: Request) -> Response:
    """Form topic tables from the participants' first and second choices."""
    outcome = await _seat_with(request, topic_rounds.seat_topic_round, round_number="round")
    return _done(f"#round-{outcome.round.number}")


@page("/seating/topics/from-agenda", allow=ORGANISER, methods=("POST",), form_page="/seating")
async def topics_from_agenda(request: Request) -> Response:
    """Use the agenda shortlist's themes as the topics participants choose from."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        fresh = await repository.get_summit(session, summit.id)
        await topic_rounds.topics_from_agenda(session, fresh, actor=identity(request).actor)
    return _done("#topic-title")


@page("/seating/rounds/{n:int}/open", allow=STAFF, methods=("POST",), form_page="/seating")
async def open_round(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    async with db(request).session() as session:
        fresh = await repository.get_summit(session, summit.id)
        _rnd, events = await uc.open_round(
            session,
            fresh,
            actor=identity(request).actor,
            number=request.path_params["n"],
            minutes=form_optional_int(form, "minutes"),
        )
    await uc.publish(bus(request), events)
    return RedirectResponse(_back(form), status_code=303)


@page("/seating/rounds/{n:int}/close", allow=STAFF, methods=("POST",), form_page="/seating")
async def close_round(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    async with db(request).session() as session:
        fresh = await repository.get_summit(session, summit.id)
        _rnd, events = await uc.close_round(
            session, fresh, actor=identity(request).actor, number=request.path_params["n"]
        )
    await uc.publish(bus(request), events)
    return RedirectResponse(_back(form), status_code=303)


def _back(form: FormData) -> str:
    target = form_text(form, "back")
    return target if target in {"/seating", "/moderator"} else "/seating"


@page("/seating/rebalance", allow=ORGANISER, methods=("POST",), form_page="/seating")
async def rebalance(request: Request) -> Response:
    """Mark people absent (no-show, left) or arrived; the current round is repaired."""
    summit = summit_or_404(request)
    form = await request.form()
    absent = [p for p in form.getlist("absent") if isinstance(p, str) and p]
    arrived = [p for p in form.getlist("arrived") if isinstance(p, str) and p]
    if not absent and not arrived:
        raise InvalidInput("absent", _("mark at least one person absent or arrived"))
    async with db(request).session() as session:
        fresh = await repository.get_summit(session, summit.id)
        outcome = await rebalance_round(
            session, fresh, actor=identity(request).actor, absent=absent, arrived=arrived
        )
    await uc.publish(bus(request), outcome.events)
    return _done("#rebalance-title")


@page("/seating/move", allow=ORGANISER, methods=("POST",), form_page="/seating")
async def move(request: Request) -> Response:
    """Move one person by hand; refused with the broken rules unless the organiser overrides."""
    summit = summit_or_404(request)
    form = await request.form()
    round_number = form_int(form, "round")
    to_table = form_int(form, "table")
    assert round_number is not None and to_table is not None
    pseudonym = form_text(form, "participant")
    try:
        async with db(request).session() as session:
            fresh = await repository.get_summit(session, summit.id)
            outcome = await move_participant(
                session,
                fresh,
                actor=identity(request).actor,
                round_number=round_number,
                pseudonym=pseudonym,
                to_table=to_table,
                override=form.get("override") == "on",
            )
    except MoveRefused as refused:
        data = await _page_data(
            request,
            move_error=refused.violations,
            form={"round": round_number, "participant": pseudonym, "table": to_table},
        )
        return render(request, "seating/organiser.html", data, status_code=400)
    await uc.publish(bus(request), outcome.events)
    return _done(f"#round-{round_number}")


@page("/seating/check.json", allow=ORGANISER)
async def check_json(request: Request) -> Response:
    """The rules a proposed manual move would break (for the live check in the move form)."""
    summit = summit_or_404(request)
    query = dict(request.query_params)
    round_number = form_int(query, "round")
    to_table = form_int(query, "table")
    assert round_number is not None and to_table is not None
    async with db(request).session() as session:
        violations = await check_manual_move(
            session,
            summit,
            round_number=round_number,
            pseudonym=query.get("participant", ""),
            to_table=to_table,
        )
    return JSONResponse(
        {
            "ok": not violations,
            "violations": [{"rule": v.rule, "message": v.message} for v in violations],
        }
    )


# --- the tables as data -------------------------------------------------------------------------


async def _round_data(request: Request) -> tuple[Any, list[uc.TableSeats]]:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        rnd = await uc.get_round(session, summit.id, request.path_params["n"])
        return rnd, await uc.round_tables(session, rnd)


@page("/seating/rounds/{n:int}.json", allow=STAFF)
async def round_json(request: Request) -> Response:
    rnd, tables = await _round_data(request)
    return JSONResponse(
        {
            "round": rnd.number,
            "kind": rnd.kind,
            "status": rnd.status,
            "tables": [
                {
                    "number": t.number,
                    "kind": t.kind,
                    "area": t.area,
                    "topic": t.topic,
                    "host": t.host.pseudonym if t.host else None,
                    "members": [{"pseudonym": p.pseudonym, "role": p.role} for p in t.members],
                }
                for t in tables
            ],
        }
    )


@page("/seating/rounds/{n:int}.csv", allow=STAFF)
async def round_csv(request: Request) -> Response:
    rnd, tables = await _round_data(request)
    out = io.StringIO()
    writer = csvfile.writer(out)
    writer.writerow(["round", "table", "kind", "area", "topic", "pseudonym", "role", "host"])
    for t in tables:
        for p in t.people:
            writer.writerow(
                [rnd.number, t.number, t.kind, t.area, t.topic, p.pseudonym, p.role, int(p.is_host)]
            )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="round-{rnd.number}.csv"'},
    )


@page("/seating/rounds/{n:int}/verify.json", allow=STAFF)
async def verify_json(request: Request) -> Response:
    """Re-run the round from its logged inputs and seed: MATCH or the first difference."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        result = await seating_verify.verify_round(session, summit, request.path_params["n"])
    return JSONResponse(
        {
            "round": result.round,
            "match": result.ok,
            "message": result.message,
            "seed": result.seed,
            "inputs_hash": result.inputs_hash,
        }
    )


@page("/seating/print", allow=STAFF)
async def print_cards(request: Request) -> Response:
    """Printable table cards and name lists for the venue tables (print to PDF)."""
    summit = summit_or_404(request)
    wanted = form_optional_int(dict(request.query_params), "round")
    async with db(request).session() as session:
        rounds = await uc.rounds_of(session, summit.id)
        if wanted is not None:
            rounds = [r for r in rounds if r.number == wanted]
            if not rounds:
                raise NotFound(_("round %(wanted)s does not exist") % {"wanted": wanted})
        cards = []
        for rnd in rounds:
            tables = [t for t in await uc.round_tables(session, rnd) if t.kind != "online"]
            names = sorted(
                (p.display_name or "—", t.number, t.area) for t in tables for p in t.people
            )
            cards.append((rnd, tables, names))
    return render(request, "seating/print.html", {"cards": cards})


# --- the participant ----------------------------------------------------------------------------


async def _my_tables(request: Request) -> tuple[Participant, list[uc.MyTable]]:
    ident = identity(request)
    async with db(request).session() as session:
        participant = await session.get(Participant, ident.participant_id)
        if participant is None:
            raise NotFound("participant: " + _("not found"))
        return participant, await uc.participant_tables(session, participant)


@page("/me/tables", allow=PARTICIPANT)
async def my_tables(request: Request) -> Response:
    """Your table in every round (first names only)."""
    participant, tables = await _my_tables(request)
    return render(request, "seating/me.html", {"participant": participant, "tables": tables})


@page("/me/tables.json", allow=PARTICIPANT)
async def my_tables_json(request: Request) -> Response:
    """The same as data, for live updates; ``current`` is the table of the current round."""
    participant, tables = await _my_tables(request)
    async with db(request).session() as session:
        current = await repository.current_round(session, participant.summit_id)
    rows = [
        {
            "round": t.round_number,
            "status": t.round_status,
            "table": t.table_number,
            "kind": t.table_kind,
            "area": t.table_area,
            "topic": t.topic,
            "host": t.is_host,
            "companions": t.companions,
            "label": _("Round %(number)s: table %(table)s")
            % {"number": t.round_number, "table": t.table_number},
            "where": _("online video table") if t.table_kind == "online" else t.table_area,
        }
        for t in tables
    ]
    now = next((r for r in rows if current is not None and r["round"] == current.number), None)
    return JSONResponse({"rounds": rows, "current": now})


@page("/me/topics", allow=PARTICIPANT, methods=("GET", "POST"))
async def my_topics(request: Request) -> Response:
    """Choose a first and a second topic for the topic round."""
    ident = identity(request)
    saved = False
    async with db(request).session() as session:
        participant = await session.get(Participant, ident.participant_id)
        if participant is None:
            raise NotFound("participant: " + _("not found"))
        summit = await repository.get_summit(session, participant.summit_id)
        if request.method == "POST":
            form = await request.form()
            await topic_rounds.set_topic_choice(
                session,
                summit,
                participant,
                first=form_text(form, "first"),
                second=form_text(form, "second"),
            )
            saved = True
        config = await seating_settings.get_settings(session, summit)
        choices = await topic_rounds.topic_choices(session, summit.id)
    mine = choices.get(participant.pseudonym, ())
    return render(
        request,
        "seating/topics.html",
        {
            "topics": config.topics,
            "first": mine[0] if mine else "",
            "second": mine[1] if len(mine) > 1 else "",
            "saved": saved,
        },
    )


routes = [
    seating_view,
    save_settings,
    seat,
    seat_topics,
    topics_from_agenda,
    open_round,
    close_round,
    rebalance,
    move,
    check_json,
    round_json,
    round_csv,
    verify_json,
    print_cards,
    my_tables,
    my_tables_json,
    my_topics,
]
