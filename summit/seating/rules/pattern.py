"""Table patterns from the mix: how many seats of each seat type every table gets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from summit.core.i18n import gettext as _
from summit.seating.rules.model import DEFAULT_SEAT_TYPES, ROLES, SeatingError, SeatType


def check_seat_types(seat_types: Sequence[SeatType]) -> dict[str, int]:
    """Role → seat type index; seat types must not share a role."""
    if not seat_types:
        raise SeatingError("seat_types: " + _("at least one seat type is needed"))
    role_type: dict[str, int] = {}
    names: set[str] = set()
    for k, st in enumerate(seat_types):
        if st.name in names:
            raise SeatingError(
                "seat_types: " + (_("name %(name)r is used twice") % {"name": st.name})
            )
        names.add(st.name)
        if not st.roles:
            raise SeatingError(
                "seat_types: " + (_("seat type %(name)r accepts no role") % {"name": st.name})
            )
        for role in sorted(st.roles):
            if role not in ROLES:
                raise SeatingError(
                    "seat_types: "
                    + (
                        _("seat type %(name)r names unknown role %(role)r")
                        % {"name": st.name, "role": role}
                    )
                )
            if role in role_type:
                raise SeatingError(
                    "seat_types: "
                    + (
                        _("role %(role)r is in both %(name)r and %(name2)r")
                        % {"role": role, "name": seat_types[role_type[role]].name, "name2": st.name}
                    )
                )
            role_type[role] = k
    return role_type


def table_count(people: int, table_size: int) -> int:
    """Fewest tables of at most ``table_size`` people."""
    return -(-people // table_size)


def spread(type_counts: Sequence[int], tables: int) -> np.ndarray:
    """Tables x seat types matrix: every type as even as possible over the tables.

    Each type gets floor or ceil of count/tables per table, so no table lacks a type it could have
    had; the leftovers are laid end to end around the tables, so table sizes differ by at most one.
    """
    counts = np.asarray(type_counts, dtype=np.int64)
    k = len(counts)
    if tables <= 0:
        return np.zeros((0, k), dtype=np.int64)
    base = counts // tables
    extra = counts - base * tables
    out = np.tile(base, (tables, 1))
    pos = 0
    for j in range(k):
        rows = (pos + np.arange(extra[j])) % tables
        out[rows, j] += 1
        pos += int(extra[j])
    return out


def derive_pattern(
    role_counts: Mapping[str, int],
    table_size: int = 8,
    seat_types: Sequence[SeatType] = DEFAULT_SEAT_TYPES,
    tables: int | None = None,
) -> tuple[dict[str, int], ...]:
    """Per-table seat-type pattern for participants counted per role.

    With 625 residents and 125 each of employers, public servants + politicians and free thinkers
    this is 125 tables of {resident: 5, employer: 1, public: 1, free_thinker: 1}.
    """
    if table_size < 1:
        raise SeatingError("table_size: " + _("must be at least 1"))
    role_type = check_seat_types(seat_types)
    type_counts = [0] * len(seat_types)
    for role, n in sorted(role_counts.items()):
        if role not in ROLES:
            raise SeatingError("role_counts: " + (_("unknown role %(role)r") % {"role": role}))
        if n < 0:
            raise SeatingError(
                "role_counts: " + (_("count for %(role)r is negative") % {"role": role})
            )
        if n and role not in role_type:
            raise SeatingError(
                "role_counts: " + (_("no seat type accepts role %(role)r") % {"role": role})
            )
        if n:
            type_counts[role_type[role]] += n
    total = sum(type_counts)
    if total < table_size:
        raise SeatingError(
            "role_counts: "
            + (
                _("%(total)s people is fewer than one table of %(table_size)s")
                % {"total": total, "table_size": table_size}
            )
        )
    t = table_count(total, table_size) if tables is None else tables
    if t < 1 or -(-total // t) > table_size:
        raise SeatingError(
            "tables: "
            + (
                _("%(t)s tables of %(table_size)s cannot seat %(total)s people")
                % {"t": t, "table_size": table_size, "total": total}
            )
        )
    matrix = spread(type_counts, t)
    return tuple({st.name: int(matrix[i, j]) for j, st in enumerate(seat_types)} for i in range(t))
