"""The one CSV writer of the platform: every export goes through it.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run
as a formula by a spreadsheet (a register value ``=HYPERLINK(...)`` in a public report, an idea
title in a moderator's export). Such a cell is written with a leading apostrophe, which
spreadsheets show as text; numbers (``int``/``float``) are written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from starlette.responses import Response

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a CSV cell that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class SafeWriter:
    """``csv.writer`` whose rows pass through :func:`safe_cell`."""

    def __init__(self, out: TextIO, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: TextIO, **options: Any) -> SafeWriter:
    """Like ``csv.writer(out, **options)``, with formulas neutralised."""
    return SafeWriter(out, **options)


def csv_text(
    rows: Iterable[Iterable[Any]], *, header: Sequence[str] | None = None, **options: Any
) -> str:
    """Rows (after an optional header) as CSV text."""
    out = io.StringIO()
    safe = writer(out, **options)
    if header is not None:
        safe.writerow(header)
    safe.writerows(rows)
    return out.getvalue()


def csv_response(text: str, filename: str) -> Response:
    """A CSV download (UTF-8, as an attachment named ``filename``)."""
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
