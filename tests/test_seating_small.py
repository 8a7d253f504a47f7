"""Small summits: the annealing on repeated pairs, and the Turan lower bound against brute force."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from summit.core.rules.roles import DEFAULT_MIX, seats_per_role
from summit.seating.rules import (
    ONLINE,
    Constraints,
    Host,
    Participant,
    SeatingSettings,
    evaluate,
    seat_rounds,
)
from summit.seating.rules.anneal import Anneal, Heat, Schedule, anneal_rounds
from summit.seating.rules.plan import make_plan, rng_for, to_seating
from summit.seating.rules.report import (
    count_repeats,
    degree_bound,
    repeat_bound,
    turan_bound,
    two_table_bound,
)
from summit.seating.rules.rounds import best_start, pin_round

FEATURES = ("age", "gender", "district")
PROPERTY = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def summit_people(n: int, online_share: float = 0.3, seed: int = 1) -> list[Participant]:
    """The 60/10/10/10/10 mix, three features; with ``online_share`` a random share of them
    (at least a table of 8) online."""
    rng = random.Random(seed)
    roles = [role for role, count in seats_per_role(DEFAULT_MIX, n).items() for _ in range(count)]
    online = set(rng.sample(range(n), max(8, round(n * online_share)))) if online_share else set()
    return [
        Participant(
            f"{role}{i:03d}",
            role,
            {
                "age": rng.choice("abcde"),
                "gender": rng.choice("mf"),
                "district": rng.choice("123456"),
            },
            ONLINE if i in online else "venue",
        )
        for i, role in enumerate(roles)
    ]


def with_hosts(group: list[Participant]) -> tuple[Host, ...]:
    venue = sum(p.mode == "venue" for p in group)
    online = len(group) - venue
    return tuple(Host(f"hv{i}") for i in range(-(-venue // 8))) + tuple(
        Host(f"ho{i}", ONLINE) for i in range(-(-online // 8))
    )


# -- the annealing --------------------------------------------------------------------------------


@PROPERTY
@given(
    n=st.integers(24, 72),
    rounds=st.integers(2, 5),
    online=st.sampled_from([0.0, 0.3]),
    seed=st.integers(0, 10_000),
    data=st.data(),
)
def test_annealing_keeps_every_rule_and_never_adds_repeats(
    n: int, rounds: int, online: float, seed: int, data: st.DataObject
) -> None:
    group = summit_people(n, online, seed)
    residents = [p.id for p in group if p.role == "resident" and p.mode == "venue"]
    picked = data.draw(st.permutations(residents))
    cons = Constraints(
        keep_together=(frozenset(picked[0:2]),),
        keep_apart=(frozenset(picked[2:5]),),
        fixed_tables={picked[5]: 1},
    )
    plan = make_plan(group, SeatingSettings(rounds=rounds, features=FEATURES, constraints=cons))
    rng = rng_for(str(seed), "test")
    used: list[set[int]] = [set() for _ in plan.groups]
    pins = [pin_round(plan, rng, used) for _ in range(rounds)]
    start = best_start(plan, pins, rng)
    movables = [p < 0 for p in pins]
    before = evaluate(to_seating(plan, start, "s"))
    schedule = Schedule(Heat(20_000, 0.5, 0.2), Heat(5_000, 10.0, 0.5), 5_000)
    tabs = anneal_rounds(plan.problem, start, movables, rng, schedule)
    after = evaluate(to_seating(plan, tabs, "s"))
    assert after.pattern_compliance == 1.0
    assert after.repeated_pairs <= before.repeated_pairs
    assert after.keep_apart_violations <= before.keep_apart_violations
    assert after.keep_together_violations == after.fixed_seat_violations == 0
    for tab, pin in zip(tabs, pins, strict=True):
        assert (tab[pin >= 0] == pin[pin >= 0]).all()
    # the same seats of every class at every table, round by round
    for tab, old in zip(tabs, start, strict=True):
        assert Counter(zip(tab.tolist(), plan.problem.cls.tolist(), strict=True)) == Counter(
            zip(old.tolist(), plan.problem.cls.tolist(), strict=True)
        )


@PROPERTY
@given(n=st.integers(24, 60), rounds=st.integers(3, 5), seed=st.integers(0, 10_000))
def test_trading_whole_schedules_for_diversity_adds_no_repeats(
    n: int, rounds: int, seed: int
) -> None:
    group = summit_people(n, 0.3, seed)
    plan = make_plan(group, SeatingSettings(rounds=rounds, features=FEATURES))
    rng = rng_for(str(seed), "test")
    pins = [pin_round(plan, rng, []) for _ in range(rounds)]
    start = best_start(plan, pins, rng)
    state = Anneal(plan.problem, start, [p < 0 for p in pins])
    repeats = state.repeats
    state.run(rng, Heat(20_000, 10.0, 0.5), diversity=True)
    assert repeats == count_repeats(plan, start)[0]
    assert count_repeats(plan, state.tabs())[0] == state.repeats
    # repeats first, then the diversity cost (relative to the start)
    assert (state.repeats, state.spread) <= (repeats, 0.0)


def test_the_annealing_is_a_pure_function_of_inputs_and_seed() -> None:
    group = summit_people(48)
    s = SeatingSettings(rounds=4, features=FEATURES, hosts=with_hosts(group))
    shuffled = group[:]
    random.Random(3).shuffle(shuffled)
    a = seat_rounds(group, s, "dice 4-2")
    assert a == seat_rounds(shuffled, s, "dice 4-2")
    assert a.rounds != seat_rounds(group, s, "dice 4-3").rounds


@pytest.mark.parametrize(("n", "rounds", "slack"), [(48, 4, 5), (100, 4, 10)])
def test_small_summits_come_near_the_lower_bound(n: int, rounds: int, slack: int) -> None:
    group = summit_people(n)
    seating = seat_rounds(
        group, SeatingSettings(rounds=rounds, features=FEATURES, hosts=with_hosts(group)), "x"
    )
    report = evaluate(seating)
    # the round-by-round search alone leaves 103 (bound 51) and 77 (bound 14) repeated pairs
    # here, with diversity 0.814 and 0.775
    assert report.repeated_pairs <= report.repeated_pairs_lower_bound + slack
    assert report.pattern_compliance == 1.0
    assert report.diversity_score > 0.84


# -- the lower bound ------------------------------------------------------------------------------


def brute_force(sizes: tuple[int, ...], rounds: int) -> int:
    """Fewest repeated pairs over every seating of ``sum(sizes)`` people at tables of these
    sizes for ``rounds`` rounds (states: how often each pair met so far)."""
    n = sum(sizes)
    labels = [t for t, s in enumerate(sizes) for _ in range(s)]
    upper = np.triu_indices(n, 1)
    same = np.array(
        [
            (np.array(a)[:, None] == np.array(a)[None, :])[upper]
            for a in sorted(set(itertools.permutations(labels)))
        ],
        dtype=np.int8,
    )
    states = same[:1].astype(np.int16)  # round 1 is any seating: fix it
    for _ in range(rounds - 1):
        states = np.unique(
            (states[:, None, :] + same[None, :, :]).reshape(-1, same.shape[1]), axis=0
        )
    return int((states > 1).sum(axis=1).min())


@pytest.mark.parametrize(
    ("people", "table_size", "rounds"),
    [
        (n, size, r)
        for n, size in [(4, 2), (5, 3), (6, 3), (7, 4), (8, 4), (5, 2), (6, 2)]
        for r in (2, 3, 4, 5)
        if not (n == 8 and r == 5)
    ],
)
def test_the_lower_bound_holds_and_is_tight_for_two_tables(
    people: int, table_size: int, rounds: int
) -> None:
    group = [Participant(f"x{i}", "resident") for i in range(people)]
    plan = make_plan(group, SeatingSettings(rounds=rounds, table_size=table_size))
    sizes = tuple(int(s) for s in plan.cap.sum(axis=1))
    best = brute_force(sizes, rounds)
    bound = repeat_bound(plan, rounds)
    assert bound <= best
    if len(sizes) == 2 and rounds >= 4:
        # no three people can all part: exactly as many pairs repeat as when nobody moves
        assert bound == best == sum(s * (s - 1) // 2 for s in sizes)


def brute_force_two_tables(counts: tuple[int, ...], rounds: int) -> int:
    """Fewest repeated pairs over every seating of people of classes with ``counts`` at two
    tables for ``rounds`` rounds, each round following the pattern (every class split
    floor/ceil between the tables, sizes within one); round 1 up to the order within a class."""
    cls = [c for c, k in enumerate(counts) for _ in range(k)]
    n = len(cls)

    def valid(first: tuple[int, ...]) -> bool:
        at = Counter(cls[i] for i in first)
        return n // 2 <= len(first) <= -(-n // 2) and all(
            k // 2 <= at[c] <= -(-k // 2) for c, k in enumerate(counts)
        )

    rounds_ = [
        f for size in range(n + 1) for f in itertools.combinations(range(n), size) if valid(f)
    ]
    upper = np.triu_indices(n, 1)
    same = np.array(
        [
            (np.isin(np.arange(n), f)[:, None] == np.isin(np.arange(n), f)[None, :])[upper]
            for f in rounds_
        ],
        dtype=np.int8,
    )
    # round 1: the first people of each class at the first table
    firsts = {tuple(sorted(Counter(cls[i] for i in f).items())) for f in rounds_}
    best = n * n
    for split in firsts:
        take = dict(split)
        f = tuple(
            i
            for c, k in enumerate(counts)
            for i in range(sum(counts[:c]), sum(counts[:c]) + take.get(c, 0))
        )
        states = same[rounds_.index(f)][None, :].astype(np.int16)
        for _ in range(rounds - 1):
            states = np.unique(
                (states[:, None, :] + same[None, :, :]).reshape(-1, same.shape[1]), axis=0
            )
        best = min(best, int((states > 1).sum(axis=1).min()))
    return best


@pytest.mark.parametrize(
    "counts",
    [(2, 2), (3, 1), (3, 2), (4, 2), (2, 2, 2), (3, 3), (4, 1, 1), (5, 3), (3, 2, 1), (2, 1, 1)],
)
@pytest.mark.parametrize("rounds", [2, 3])
def test_the_two_table_bound_is_the_fewest_repeats(counts: tuple[int, ...], rounds: int) -> None:
    assert two_table_bound(counts, rounds) == brute_force_two_tables(counts, rounds)


def test_two_table_bound_values() -> None:
    # the online pool of 48 in the hosted shape (12 people at two tables, 3 rounds): the pattern
    # forces 22 repeated pairs; without it, 4 groups of 3 reach the counting bound, 12
    assert two_table_bound((7, 3, 2), 3) == 22
    assert two_table_bound((12,), 3) == 12
    assert two_table_bound((40, 40), 3) is None


def test_turan_bound_values() -> None:
    # two tables, four rounds or more: every pair within a half meets twice
    assert [turan_bound(n, 2, 4) for n in (4, 7, 12, 13)] == [2, 9, 30, 36]
    assert turan_bound(12, 2, 3) == 12  # no five people can all part in three rounds
    assert turan_bound(12, 2, 2) == 0
    # three tables: four people can all part in up to six rounds
    assert turan_bound(9, 3, 4) == 0
    # ... but in six rounds no five people can: the Turan graph with four parts
    assert turan_bound(9, 3, 6) == 36 - 30
    assert turan_bound(9, 3, 7) == 36 - 27
    assert turan_bound(1000, 125, 6) == 0


@pytest.mark.parametrize(("rounds", "expected"), [(5, 0), (6, 3), (7, 3)])
def test_the_per_person_bound_holds_and_is_tight_for_pairs(rounds: int, expected: int) -> None:
    # six people at three tables of two: five rounds can part everyone (a 1-factorisation of
    # K6); from the sixth round on, everyone meets someone again, so at least three pairs repeat
    group = [Participant(f"x{i}", "resident") for i in range(6)]
    plan = make_plan(group, SeatingSettings(rounds=rounds, table_size=2))
    sizes = tuple(int(s) for s in plan.cap.sum(axis=1))
    assert sizes == (2, 2, 2)
    assert degree_bound(sizes, rounds, 6) == expected
    assert repeat_bound(plan, rounds) == brute_force(sizes, rounds) == expected


def test_per_person_bound_values() -> None:
    # 48 people, 4 rounds or more of the hosted shape: 36 at the venue at tables of 8,7,7,7,7
    assert degree_bound([8, 7, 7, 7, 7], 5, 36) == 0
    assert degree_bound([8, 7, 7, 7, 7], 6, 36) == 18  # 36 meetings, 35 others: one each
    # 34 at tables of 7,7,7,7,6 for 6 rounds: only 12 can sit at the table of 6 three times
    assert degree_bound([7, 7, 7, 7, 6], 6, 34) == 11
    assert degree_bound([7, 7, 7, 7, 6], 6, 0) == 0  # everyone has a forced partner
    assert degree_bound([8] * 125, 6, 1000) == 0


@PROPERTY
@given(
    n=st.integers(6, 40),
    size=st.integers(2, 8),
    rounds=st.integers(2, 9),
    online=st.sampled_from([0.0, 0.3]),
    seed=st.integers(0, 1000),
)
def test_the_lower_bound_never_exceeds_a_seating_found(
    n: int, size: int, rounds: int, online: float, seed: int
) -> None:
    n = max(n, 2 * size)  # at least two tables
    group = summit_people(n, online, seed) if online and n >= 16 else summit_people(n, 0, seed)
    seating = seat_rounds(
        group, SeatingSettings(rounds=rounds, table_size=size, effort=0.2), str(seed)
    )
    report = evaluate(seating)
    assert report.repeated_pairs_lower_bound <= report.repeated_pairs
