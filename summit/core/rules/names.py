"""First names shown together (a table's people): repeated names get a number (pure rules)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def distinct_names(names: Sequence[str]) -> list[str]:
    """The names in the same order; a name that occurs more than once is numbered in order of
    appearance ("Anna (1)", "Anna (2)") so the people at one table can be told apart. A numbered
    name never equals another name on the list."""
    counts = Counter(names)
    taken = set(names)
    seen: Counter[str] = Counter()
    out = []
    for name in names:
        if counts[name] == 1:
            out.append(name)
            continue
        seen[name] += 1
        number = seen[name]
        label = f"{name} ({number})"
        while label in taken:
            number += counts[name]
            label = f"{name} ({number})"
        taken.add(label)
        out.append(label)
    return out
