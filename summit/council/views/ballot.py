"""The Burgerraad's pages: setting up, opening and closing a vote (organiser), the member's
ballot page, the member's voting key, the anonymous ballot box, and the public result.

A member's browser asks for its voting key with the member's session (``…/key``) and casts
ballots without any session (``…/ballot``): the ballot request carries the key, never a name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from summit.core.db import with_retries
from summit.core.errors import InvalidInput, PermissionDenied
from summit.core.forms import form_ids, form_text, json_object, path_int
from summit.core.groupcommit import GroupCommit
from summit.core.i18n import gettext as _
from summit.core.models import Summit
from summit.core.routing import ORGANISER, PARTICIPANT, PUBLIC, STAFF, page
from summit.core.rules.roles import Principal, Role, council_threshold
from summit.core.templating import render
from summit.core.times import from_wall_clock, summit_time_zone
from summit.core.web import current_participant, db, identity, publish, summit_or_404
from summit.council import ballot as box
from summit.council import credentials, vote
from summit.council import decision as decisions
from summit.council.models import CouncilVote, Decision
from summit.council.rules.voting import (
    Membership,
    VotingClosed,
    normalise_receipt,
    parse_membership,
    receipt_key,
)
from summit.forum import consensus_for

#: A ballot or key request is a small JSON object.
BODY_LIMIT = 16_000


@contextlib.contextmanager
def refusals() -> Iterator[None]:
    """Refusals a person should understand: 409 outside the voting window (or a second voting
    key), 403 for non-members and keys this vote did not sign."""
    try:
        yield
    except (VotingClosed, credentials.KeyTaken) as exc:
        raise HTTPException(409, str(exc)) from None
    except PermissionDenied as exc:
        raise HTTPException(403, str(exc)) from None


def _key(request: Request) -> bytes:
    return receipt_key(request.app.state.settings.secret_key)


def _renderer(request: Request, summit: Summit) -> decisions.DocumentRenderer:
    env = request.app.state.templates

    def render_document(context: dict[str, Any]) -> str:
        return decisions.render_in_language(
            env, "council/decision_document.html", context, summit.default_language
        )

    return render_document


def _deadline(form: FormData, zone: str) -> dt.datetime | None:
    """The deadline as typed, on the summit's clock (``zone``), in UTC."""
    text = form_text(form, "closes_at")
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("closes_at", _("use a date and time like 2026-12-20T18:00")) from None
    return from_wall_clock(value, zone)


def _membership(form: FormData) -> Membership:
    listed = re.split(r"[\s,;]+", form_text(form, "member_list"))
    return parse_membership(
        form_text(form, "membership") or "all",
        [str(r) for r in form.getlist("member_roles")],
        listed,
        [role.value for role in Role],
    )


@page("/council/votes", allow=ORGANISER, methods=("POST",), form_page="/council")
async def create_vote(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    async with db(request).session() as session:
        created = await vote.create_council_vote(
            session,
            summit,
            actor=identity(request).actor,
            title=form_text(form, "title"),
            proposal_ids=form_ids(form, "proposals"),
            closes_at=_deadline(form, summit_time_zone(summit)),
            membership=_membership(form),
            key=_key(request),
        )
    return RedirectResponse(f"/council/votes/{created.id}/manage", status_code=303)


@page("/council/votes/{vid:int}/manage", allow=STAFF)
async def vote_manage(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        found = await vote.get_council_vote(session, summit.id, path_int(request, "vid"))
        items = await box.vote_items(session, found.id)
        signed, waiting = await credentials.keys_issued(session, found.id)
        context = {
            "vote": found,
            "items": items,
            "latest": await vote.versions_on_vote(session, items),
            "voted": await box.voters(session, found.id),
            "keys_signed": signed,
            "keys_waiting": waiting,
            "membership": await vote.vote_membership(session, found.id),
            "threshold": council_threshold(found.members) if found.members else None,
            "decision": await decisions.decision_of_vote(session, found.id),
        }
    return render(request, "council/vote_manage.html", context)


@page("/council/votes/{vid:int}/open", allow=ORGANISER, methods=("POST",))
async def vote_open(request: Request) -> Response:
    summit = summit_or_404(request)
    vote_id = path_int(request, "vid")
    async with db(request).session() as session:
        _vote, events = await vote.open_council_vote(
            session, summit.id, vote_id, actor=identity(request).actor, key=_key(request)
        )
    await publish(request, events)
    return RedirectResponse(f"/council/votes/{vote_id}/manage", status_code=303)


@page("/council/votes/{vid:int}/close", allow=ORGANISER, methods=("POST",))
async def vote_close(request: Request) -> Response:
    summit = summit_or_404(request)
    vote_id = path_int(request, "vid")
    async with db(request).session() as session:
        _outcome, _decision, events = await decisions.close_council_vote(
            session,
            summit.id,
            vote_id,
            actor=identity(request).actor,
            render_document=_renderer(request, summit),
        )
    await publish(request, events)
    return RedirectResponse(f"/council/votes/{vote_id}/result", status_code=303)


async def _ballot_context(
    request: Request, session: AsyncSession, summit: Summit, vote_id: int
) -> dict[str, Any]:
    participant = await current_participant(request, session)
    found = await vote.get_council_vote(session, summit.id, vote_id)
    items = await box.vote_items(session, found.id)
    key = None
    if found.status != "closed":
        key = await vote.ensure_ballot_key(session, found, _key(request))
    return {
        "vote": found,
        "items": items,
        "versions": await vote.versions_on_vote(session, items),
        # the opinion map's common ground on each proposal, as on /forum/council
        "consensus": await consensus_for(
            request.app, session, summit, [item.proposal_id for item in items]
        ),
        "member": await credentials.may_ask(session, found, participant),
        "key_state": await credentials.key_state(session, found.id, participant.id),
        "ballot_key": key,
        "slot": f"summit-ballot:{found.id}:{participant.pseudonym}",
        "threshold": council_threshold(found.members) if found.members else None,
        "decision": await decisions.decision_of_vote(session, found.id),
        "now": dt.datetime.now(dt.UTC),
    }


@page("/council/votes/{vid:int}", allow=PARTICIPANT)
async def ballot(request: Request) -> Response:
    """The member's ballot page. The server does not know, and so never shows, how the member
    voted: their browser keeps the choices and receipts of its voting key."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        context = await _ballot_context(request, session, summit, path_int(request, "vid"))
    return render(request, "council/ballot.html", context)


@page("/council/votes/{vid:int}/key", allow=PARTICIPANT, methods=("POST",))
async def voting_key(request: Request) -> Response:
    """A member asks for their voting key with a blinded value (JSON ``{"blinded": hex}``); the
    answer is ``pending`` (signed with the next batch: ask again) or ``signed``."""
    summit = summit_or_404(request)
    vote_id = path_int(request, "vid")
    body = await json_object(request, limit=BODY_LIMIT)
    blinded = body.get("blinded")
    if not isinstance(blinded, str):
        raise InvalidInput("blinded", _("is required"))
    key = _key(request)

    async def work(session: AsyncSession) -> credentials.KeyState:
        participant = await current_participant(request, session)
        if participant.summit_id != summit.id:
            raise PermissionDenied("member: " + _("you are not a member of this Burgerraad vote"))
        return await credentials.request_key(session, vote_id, participant, blinded, key=key)

    with refusals():
        state = await with_retries(db(request), work, field="credential")
    return JSONResponse(state.as_json())


def _choices(raw: object) -> dict[int, str]:
    if not isinstance(raw, Mapping):
        raise InvalidInput("choices", _("must map proposals to for, against or abstain"))
    choices: dict[int, str] = {}
    for name, value in raw.items():
        try:
            proposal = int(str(name))
        except ValueError:
            raise InvalidInput(
                "choices", _("%(value)r names no proposal") % {"value": f"{str(name)[:20]}"}
            ) from None
        if not isinstance(value, str):
            raise InvalidInput(
                f"choice[{proposal}]",
                _("must be for, against or abstain"),
            )
        choices[proposal] = value
    return choices


def _text_field(body: Mapping[str, object], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise InvalidInput(name, _("is required"))
    return value


@page("/council/votes/{vid:int}/ballot", allow=PUBLIC, methods=("POST",), csrf=False, context=False)
async def cast(request: Request) -> Response:
    """The ballot box: JSON ``{"secret", "signature", "choices": {proposal: choice}}``, sent
    without a session (a request that carries one is refused, so no ballot is ever tied to a
    login, not even in the request log). Only the latest ballot per proposal counts.

    No CSRF token: the request carries no ambient authority, only the key in its body."""
    if identity(request).principals != {Principal.PUBLIC}:
        raise InvalidInput(
            "session", _("a ballot is sent without your session; use the ballot page")
        )
    summit = summit_or_404(request)
    vote_id = path_int(request, "vid")
    body = await json_object(request, limit=BODY_LIMIT)
    secret, signature = _text_field(body, "secret"), _text_field(body, "signature")
    choices = _choices(body.get("choices"))

    work = box.BallotRequest(summit.id, vote_id, secret, signature, choices)
    with refusals():
        done = await _ballot_box(request).run(work)
    await publish(request, done.events)
    return JSONResponse(
        {
            "ok": True,
            "receipts": {str(c.proposal): c.receipt for c in done.ballots},
            "choices": {str(c.proposal): c.choice for c in done.ballots},
            "versions": {str(c.proposal): c.version for c in done.ballots},
        }
    )


def _ballot_box(request: Request) -> GroupCommit[box.Cast]:
    """This process's ballot box: ballots arriving together are committed together."""
    state = request.app.state
    found: GroupCommit[box.Cast] | None = getattr(state, "ballot_box", None)
    if found is None:
        found = state.ballot_box = box.group_commit(db(request))
    return found


async def _outcome(
    request: Request,
) -> tuple[CouncilVote, vote.CouncilOutcome | None, Decision | None]:
    """The vote, its published outcome (None until it closes: results stay hidden), decision."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        found = await vote.get_council_vote(session, summit.id, path_int(request, "vid"))
        if found.status != "closed":
            return found, None, None
        decision = await decisions.decision_of_vote(session, found.id)
        return found, await vote.council_outcome(session, found), decision


@page("/council/votes/{vid:int}/result", allow=PUBLIC)
async def vote_result(request: Request) -> Response:
    """Counts, threshold, adopted/rejected and the receipts of the counted ballots (after close)."""
    found_vote, outcome, decision = await _outcome(request)
    check = request.query_params.get("receipt", "").strip()
    found: dict[str, Any] | None = None
    if check and outcome is not None:
        code = normalise_receipt(check)
        rows = [r for r in outcome.receipts if r[0] == code]
        found = {"receipt": code, "counted": bool(rows), "rows": rows}
    titles = {r.item.proposal_id: r.title for r in outcome.rows} if outcome else {}
    return render(
        request,
        "council/result.html",
        {
            "vote": found_vote,
            "outcome": outcome,
            "decision": decision,
            "found": found,
            "titles": titles,
            "membership": Membership.from_json(outcome.meta.membership) if outcome else None,
        },
    )


@page("/council/votes/{vid:int}/result.json", allow=PUBLIC)
async def vote_result_json(request: Request) -> Response:
    """The published result: counts, receipts, and every ballot and voting key (a recount)."""
    _vote, outcome, decision = await _outcome(request)
    if outcome is None:
        raise HTTPException(409, "vote: " + _("results are hidden until the vote closes"))
    data = outcome.as_json()
    data["decision"] = decision.id if decision else None
    data["membership"] = Membership.from_json(outcome.meta.membership).to_json()
    return JSONResponse(data)


routes = [
    create_vote,
    vote_manage,
    vote_open,
    vote_close,
    ballot,
    voting_key,
    cast,
    vote_result,
    vote_result_json,
]
