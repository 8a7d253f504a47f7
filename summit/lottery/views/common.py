"""What the lottery part's pages share: the app's secret and base address, the pages' paths,
downloads that carry the audit entry of the draw they publish, and the summit's languages."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from summit.core import audit, i18n
from summit.core.models import Summit

log = logging.getLogger("summit.lottery")
LOTTERY = "/organiser/lottery"
SELECTION = "/organiser/selection"


def secret(request: Request) -> str:
    return str(request.app.state.settings.secret_key)


def base(request: Request) -> str:
    return str(request.app.state.settings.base_url).rstrip("/")


def anchored(response: Response, entry: audit.Anchor | None) -> Response:
    """A draw's published file carries the audit entry that recorded the draw (its place in
    the chain: `summit audit verify --head` later shows nothing before it changed)."""
    if entry is not None:
        response.headers["x-audit-entry"] = str(entry)
    return response


def download(body: str, media: str, name: str) -> Response:
    return Response(
        body,
        media_type=f"{media}; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def languages(summit: Summit) -> list[str]:
    return [str(x) for x in (summit.languages or [])] or i18n.available()
