"""The participant's home: your summit, your table, your next step."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from summit.core import service as repository
from summit.core.i18n import gettext as _
from summit.core.models import Participant
from summit.core.routing import PARTICIPANT, page
from summit.core.rules.roles import Phase
from summit.core.templating import render
from summit.core.web import db, identity


def next_step(phase: str, has_table: bool) -> str:
    steps = {
        Phase.COALITION: _("The partners are preparing the summit. You will hear from us."),
        Phase.INVITATIONS: _("Invitations are being sent. You will hear from us."),
        Phase.REGISTRATION: _("Registration is open. We will tell you when the selection is made."),
        Phase.SELECTION: _("The selection is being made. We will tell you the result."),
        Phase.SUMMIT: _("Go to your table. Your host will start the conversation.")
        if has_table
        else _("Your table for the next round will appear here."),
        Phase.FORUM: _("The proposals are on the forum. Read them and react."),
        Phase.COUNCIL: _("The Burgerraad is voting. Cast your vote on each proposal."),
        Phase.MONITOR: _("Follow how the adopted proposals are carried out."),
        Phase.CLOSED: _("This summit is closed. Thank you for taking part."),
    }
    return steps.get(Phase(phase), "")


@page("/me", allow=PARTICIPANT)
async def me(request: Request) -> Response:
    ident = identity(request)
    async with db(request).session() as session:
        participant = await session.get(Participant, ident.participant_id)
        assert participant is not None
        summit = await repository.get_summit(session, participant.summit_id)
        table = await repository.table_for(session, participant)
        # The parts' calls to action (a vote open, a Burgerbesluit to sign), wired in by the app.
        actions = [
            action
            for source in getattr(request.app.state, "participant_actions", ())
            for action in await source(session, participant)
        ]
    return render(
        request,
        "participant/home.html",
        {
            "participant": participant,
            "summit": summit,
            "table": table,
            "next_step": next_step(summit.phase, table is not None),
            "actions": actions,
        },
    )


routes = [me]
