"""The public face of a G1000: its lifecycle as seven steps, and which one is current (pure).

coalition → invitations → Burgertop → Burgerforum → Burgerraad → Burgerbesluit → Monitor. The
summit's phase decides the current step; in the council phase the step is the Burgerbesluit once
a decision has been published.
"""

from __future__ import annotations

from dataclasses import dataclass

STEPS = (
    "coalition",
    "invitations",
    "burgertop",
    "burgerforum",
    "burgerraad",
    "burgerbesluit",
    "monitor",
)

_BY_PHASE = {
    "coalition": "coalition",
    "invitations": "invitations",
    "registration": "invitations",
    "selection": "invitations",
    "summit": "burgertop",
    "forum": "burgerforum",
    "council": "burgerraad",
    "monitor": "monitor",
    "closed": "monitor",
}


@dataclass(frozen=True)
class Step:
    key: str
    state: str  # done | current | upcoming


def current_step(phase: str, has_decision: bool) -> str:
    step = _BY_PHASE.get(phase, "coalition")
    if step == "burgerraad" and has_decision:
        return "burgerbesluit"
    return step


def steps(phase: str, has_decision: bool) -> list[Step]:
    current = STEPS.index(current_step(phase, has_decision))
    finished = phase == "closed"
    return [
        Step(
            key,
            "done"
            if i < current or (finished and i == current)
            else ("current" if i == current else "upcoming"),
        )
        for i, key in enumerate(STEPS)
    ]
