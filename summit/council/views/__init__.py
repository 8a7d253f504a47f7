"""Pages and API of the council part, one module per concept: the overview and the
participant's page, prioritisation, proposals, the Burgerraad ballot and the Burgerbesluit.
(The plenary screen and its display links are in ``summit.plenary.views``.)"""

from __future__ import annotations

from summit.council.views import ballot, decision, overview, priority, proposals

routes = [
    *overview.routes,
    *priority.routes,
    *proposals.routes,
    *ballot.routes,
    *decision.routes,
]
