"""File I/O for the stage 2 selection (``summit select``): read quotas and people CSVs, run the
selection, round it into a transparent lottery, draw the panel, write the results.

Two common formats are read:

* ``feature,value,min,max`` quotas with an id column in the people file (``sortition-algorithms``);
* ``category,feature,min,max`` quotas with one row per person and no id column: the row index
  (0 for the first person) is the id (the Flanigan et al. ``example_small_20`` layout).
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from summit.core import csvfile
from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _
from summit.lottery.rules.selection import (
    Distribution,
    Person,
    Quota,
    draw_panel,
    find_distribution,
    round_lottery,
)

ID_COLUMNS = ("id", "person_id", "nationbuilder_id")


class SelectionFileError(InvalidInput):
    """A bad quotas or people file; the message names the file, row and column."""

    def __init__(self, path: Path, message: str, row: int | None = None, column: str = "") -> None:
        where = str(path.name)
        if row is not None:
            where += f", row {row}"
        if column:
            where += f", column {column!r}"
        super().__init__(where, message)
        self.path = path
        self.row = row
        self.column = column


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SelectionFileError(
            path, _("cannot read: %(strerror)s") % {"strerror": exc.strerror}
        ) from exc
    except UnicodeDecodeError as exc:
        raise SelectionFileError(path, _("not UTF-8 text")) from exc
    if not text.strip():
        raise SelectionFileError(path, _("the file is empty"))
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header = [h.strip() for h in rows[0]]
    body = [[c.strip() for c in r] for r in rows[1:] if any(c.strip() for c in r)]
    return header, body


@dataclass(frozen=True)
class SelectionInput:
    quotas: list[Quota]
    people: list[Person]
    layout: str  # "feature-value" or "category-feature"
    columns: list[str]  # people file columns in order


def read_quotas(path: Path) -> tuple[list[Quota], str]:
    header, rows = _read_rows(path)
    lowered = [h.casefold() for h in header]
    if {"feature", "value", "min", "max"} <= set(lowered):
        layout, name_col, value_col = "feature-value", "feature", "value"
    elif {"category", "feature", "min", "max"} <= set(lowered):
        layout, name_col, value_col = "category-feature", "category", "feature"
    else:
        raise SelectionFileError(
            path, _("header must be feature,value,min,max or category,feature,min,max"), 1
        )
    col = {name: lowered.index(name) for name in (name_col, value_col, "min", "max")}
    quotas: list[Quota] = []
    seen: set[tuple[str, str]] = set()
    for number, row in enumerate(rows, start=2):
        if len(row) < len(header):
            raise SelectionFileError(
                path,
                _("%(n_row)s cells, need %(n_header)s")
                % {"n_row": len(row), "n_header": len(header)},
                number,
            )
        feature, value = row[col[name_col]], row[col[value_col]]
        for name, text in ((name_col, feature), (value_col, value)):
            if not text:
                raise SelectionFileError(path, _("missing value"), number, name)
        bounds = []
        for name in ("min", "max"):
            text = row[col[name]]
            try:
                bound = int(text)
            except ValueError:
                raise SelectionFileError(
                    path, _("not a whole number: %(text)r") % {"text": text}, number, name
                ) from None
            if bound < 0:
                raise SelectionFileError(
                    path, _("negative: %(bound)s") % {"bound": bound}, number, name
                )
            bounds.append(bound)
        if bounds[0] > bounds[1]:
            raise SelectionFileError(
                path,
                _("min %(bounds)s > max %(bounds2)s") % {"bounds": bounds[0], "bounds2": bounds[1]},
                number,
                "min",
            )
        if (feature, value) in seen:
            raise SelectionFileError(
                path,
                _("%(feature)s=%(value)s listed twice") % {"feature": feature, "value": value},
                number,
                value_col,
            )
        seen.add((feature, value))
        quotas.append(Quota(feature, value, bounds[0], bounds[1]))
    if not quotas:
        raise SelectionFileError(path, _("no quotas"))
    return quotas, layout


def read_people(
    path: Path, quotas: list[Quota], layout: str, id_column: str | None = None
) -> tuple[list[Person], list[str]]:
    header, rows = _read_rows(path)
    features = sorted({q.feature for q in quotas})
    values = {f: {q.value for q in quotas if q.feature == f} for f in features}
    lowered = {h.casefold(): i for i, h in enumerate(header)}
    id_index: int | None = None
    if id_column is not None:
        if id_column.casefold() not in lowered:
            raise SelectionFileError(
                path, _("id column %(id_column)r not in the header") % {"id_column": id_column}, 1
            )
        id_index = lowered[id_column.casefold()]
    elif layout == "feature-value":
        found = [lowered[c] for c in ID_COLUMNS if c in lowered]
        if not found:
            raise SelectionFileError(
                path,
                _("needs an id column (one of %(value)s)") % {"value": ", ".join(ID_COLUMNS)},
                1,
            )
        id_index = found[0]
    feature_index: dict[str, int] = {}
    for feature in features:
        if feature.casefold() not in lowered:
            raise SelectionFileError(path, _("quota feature missing from the header"), 1, feature)
        feature_index[feature] = lowered[feature.casefold()]
    people: list[Person] = []
    seen: dict[str, int] = {}
    for position, row in enumerate(rows):
        number = position + 2
        if len(row) < len(header):
            raise SelectionFileError(
                path,
                _("%(n_row)s cells, need %(n_header)s")
                % {"n_row": len(row), "n_header": len(header)},
                number,
            )
        pid = row[id_index] if id_index is not None else str(position)
        if not pid:
            raise SelectionFileError(path, _("missing id"), number, header[id_index or 0])
        if pid in seen:
            raise SelectionFileError(
                path,
                _("duplicate id %(pid)r (first in row %(seen)s)") % {"pid": pid, "seen": seen[pid]},
                number,
                header[id_index or 0],
            )
        seen[pid] = number
        person_features: dict[str, str] = {}
        for feature, i in feature_index.items():
            value = row[i]
            if not value:
                raise SelectionFileError(path, _("missing value"), number, header[i])
            match = next((v for v in values[feature] if v.casefold() == value.casefold()), None)
            if match is None:
                raise SelectionFileError(
                    path,
                    _("value %(value)r has no quota in the quotas file") % {"value": value},
                    number,
                    header[i],
                )
            person_features[feature] = match
        people.append(Person(pid, person_features))
    if not people:
        raise SelectionFileError(path, _("no people"))
    return people, header


def read_selection_input(
    features_csv: Path, people_csv: Path, id_column: str | None = None
) -> SelectionInput:
    quotas, layout = read_quotas(features_csv)
    people, columns = read_people(people_csv, quotas, layout, id_column)
    return SelectionInput(quotas, people, layout, columns)


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csvfile.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def run_selection_files(
    features_csv: Path,
    people_csv: Path,
    seats: int,
    algorithm: str = "leximin",
    seed: str | None = None,
    panels: int = 1000,
    *,
    out_dir: Path,
    progress: Callable[[float, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    id_column: str | None = None,
) -> dict[str, Any]:
    """Run ``summit select``: writes ``panel.csv``, ``probabilities.csv``, ``panels.json`` (the
    m equally likely panels, whose SHA-256 is the panels hash) and ``summary.json``; returns the
    summary. Without a seed a random one is made and recorded (not a public draw then)."""
    started = time.perf_counter()
    data = read_selection_input(Path(features_csv), Path(people_csv), id_column)
    seed_source = "given"
    if seed is None:
        seed, seed_source = secrets.token_hex(16), "generated"
    seed = seed.strip()
    if not seed:
        raise InvalidInput("seed", _("is empty"))
    distribution: Distribution = find_distribution(
        data.people, data.quotas, seats, algorithm=algorithm, progress=progress, cancel=cancel
    )
    lottery = round_lottery(distribution, panels)
    index, panel = draw_panel(lottery, seed)
    seconds = time.perf_counter() - started
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    features = sorted({q.feature for q in data.quotas})
    by_id = {p.id: p for p in data.people}
    _write_csv(
        out / "panel.csv",
        ["id", *features],
        [[pid, *(by_id[pid].features[f] for f in features)] for pid in panel],
    )
    chosen = set(panel)
    _write_csv(
        out / "probabilities.csv",
        ["id", *features, "probability", "lottery_share", "selected"],
        [
            [
                p.id,
                *(p.features[f] for f in features),
                f"{distribution.probabilities[p.id]:.9f}",
                f"{lottery.marginals[p.id]:.6f}",
                int(p.id in chosen),
            ]
            for p in data.people
        ],
    )
    (out / "panels.json").write_bytes(lottery.canonical())
    summary: dict[str, Any] = {
        "algorithm": algorithm,
        "seats": seats,
        "pool_size": len(data.people),
        "min_probability": distribution.min_probability,
        "max_probability": max(distribution.probabilities.values()),
        "seconds": round(seconds, 3),
        "solver_seconds": round(distribution.seconds, 3),
        "panels": panels,
        "panels_hash": lottery.hash,
        "lottery_max_deviation": lottery.max_deviation,
        "drawn_index": index,
        "seed": seed,
        "seed_source": seed_source,
        "distinct_panels": len(distribution.panels),
        "types": len(distribution.type_members),
        "input_layout": data.layout,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary
