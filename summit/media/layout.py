"""Which publisher each fixed download slot shows."""

from __future__ import annotations

from collections.abc import Sequence


def assign_slots(
    previous: Sequence[str | None], candidates: Sequence[str], slots: int
) -> list[str | None]:
    """Fill ``slots`` slots with ``candidates`` (the other people at the owner's table, in seating
    order). A candidate already in a slot keeps it, so tiles do not jump when someone joins or
    leaves; newcomers take the free slots in order; candidates that do not fit are left out.
    Nobody but a candidate is ever returned: that is the access rule of the media plane.
    """
    if slots < 0:
        raise ValueError(f"slots: must be >= 0, got {slots}")
    wanted = list(dict.fromkeys(candidates))
    wanted_set = set(wanted)
    result: list[str | None] = [None] * slots
    placed: set[str] = set()
    for i, who in enumerate(list(previous)[:slots]):
        if who is not None and who in wanted_set and who not in placed:
            result[i] = who
            placed.add(who)
    queue = [w for w in wanted if w not in placed]
    for i in range(slots):
        if result[i] is None and queue:
            result[i] = queue.pop(0)
    return result
