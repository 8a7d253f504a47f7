"""Server-rendered SVG pictures (pure, no JS): progress bars, a timeline, the decision's state.

Each picture is an ``<svg role="img">`` with a ``<title>`` that says in words what it shows, so a
screen reader gets the same facts; labels come in already translated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

COLOURS = {"done": "#1b7a3a", "on_track": "#2a5db0", "late": "#a15c00", "refused": "#b3261e"}
KIND_COLOURS = {"milestone": "#2a5db0", "done": "#1b7a3a", "late": "#a15c00", "event": "#555555"}


def _svg(width: int, height: int, title: str, body: Sequence[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="chart"><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def progress_bar(percent: int, label: str, *, width: int = 200) -> str:
    """A horizontal bar filled to ``percent`` (0-100)."""
    share = max(0, min(100, percent))
    filled = round(width * share / 100)
    return _svg(
        width,
        14,
        f"{label}: {share} %",
        [
            f'<rect x="0" y="0" width="{width}" height="14" rx="3" fill="#e4e4e4"/>',
            f'<rect x="0" y="0" width="{filled}" height="14" rx="3" fill="{COLOURS["done"]}"/>',
        ],
    )


def _x(day: dt.date, first: dt.date, last: dt.date, left: int, span: int) -> float:
    total = max(1, (last - first).days)
    return left + span * (day - first).days / total


def timeline(
    marks: Sequence[tuple[dt.date, str, str]], today: dt.date, title: str, *, width: int = 640
) -> str:
    """Dated marks (day, label, kind) on a line, with today marked; kind picks the colour."""
    days = [d for d, _l, _k in marks] + [today]
    first, last = min(days), max(days)
    if first == last:
        first, last = first - dt.timedelta(days=1), last + dt.timedelta(days=1)
    left, span, height = 20, width - 40, 40 + 18 * len(marks)
    body = [
        f'<line x1="{left}" y1="30" x2="{left + span}" y2="30" stroke="#444" stroke-width="2"/>'
    ]
    now = _x(today, first, last, left, span)
    body.append(f'<line x1="{now:.1f}" y1="14" x2="{now:.1f}" y2="46" stroke="#b3261e"/>')
    body.append(f'<text x="{now:.1f}" y="11" font-size="10" text-anchor="middle">{today}</text>')
    for row, (day, label, kind) in enumerate(sorted(marks)):
        x = _x(day, first, last, left, span)
        colour = KIND_COLOURS.get(kind, KIND_COLOURS["event"])
        body.append(f'<circle cx="{x:.1f}" cy="30" r="5" fill="{colour}"/>')
        anchor = "start" if x < width / 2 else "end"
        body.append(
            f'<text x="{x:.1f}" y="{60 + 18 * row}" font-size="11" text-anchor="{anchor}" '
            f'fill="#111">{escape(f"{day} · {label}")}</text>'
        )
    return _svg(width, height, title, body)


def state_chart(
    series: Sequence[tuple[dt.date, Mapping[str, int]]],
    labels: Mapping[str, str],
    title: str,
    *,
    width: int = 640,
    height: int = 220,
) -> str:
    """Stacked columns: how many adopted proposals were in each state on each day."""
    top = max((sum(counts.values()) for _d, counts in series), default=0) or 1
    plot_h, left, bottom = height - 70, 30, height - 50
    column = (width - left - 10) / max(1, len(series))
    body = [f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="#444"/>']
    for i, (day, counts) in enumerate(series):
        x, y = left + i * column + 2, float(bottom)
        for state in COLOURS:
            h = plot_h * counts.get(state, 0) / top
            if h:
                y -= h
                body.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{column - 4:.1f}" height="{h:.1f}" '
                    f'fill="{COLOURS[state]}"><title>{escape(labels.get(state, state))}: '
                    f"{counts.get(state, 0)}</title></rect>"
                )
        if i in {0, len(series) - 1} or len(series) <= 6:
            body.append(
                f'<text x="{x + column / 2:.1f}" y="{bottom + 14}" font-size="10" '
                f'text-anchor="middle">{day.strftime("%d-%m")}</text>'
            )
    for j, state in enumerate(COLOURS):
        lx = left + j * (width - left) / len(COLOURS)
        body.append(
            f'<rect x="{lx:.1f}" y="{height - 20}" width="12" height="12" fill="{COLOURS[state]}"/>'
        )
        body.append(
            f'<text x="{lx + 16:.1f}" y="{height - 10}" font-size="11">'
            f"{escape(labels.get(state, state))}</text>"
        )
    words = (
        "; ".join(f"{labels.get(s, s)} {series[-1][1].get(s, 0)}" for s in COLOURS)
        if series
        else ""
    )
    return _svg(width, height, f"{title}. {words}", body)
