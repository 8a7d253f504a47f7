"""Pages and API of the lottery part, one module per concept: the organiser's lottery and the
public invitation draw (stage 1), registration, and the stage-2 selection."""

from __future__ import annotations

from summit.lottery.views import draw, registration, selection

routes = [*draw.routes, *registration.routes, *selection.routes]
