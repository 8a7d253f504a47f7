"""Robust reserves and the seeded dropout simulation; real solvers and simulation, no mocks."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from summit.lottery.rules.reserves import (
    DropoutModel,
    fixed_order_reserves,
    quota_survival,
    replace_jointly,
    robust_reserves,
)
from summit.lottery.rules.selection import (
    NoReplacement,
    Person,
    Quota,
    check_panel,
    draw_panel,
    find_distribution,
    replace,
    reserve_order,
    round_lottery,
)

SLOW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def pools(draw: st.DrawFn) -> tuple[list[Person], list[Quota], int]:
    n = draw(st.integers(8, 16))
    seats = draw(st.integers(2, n // 2))
    people = [
        Person(f"p{i}", {"age": draw(st.sampled_from(["young", "old"])),
                         "edu": draw(st.sampled_from(["low", "high"]))})
        for i in range(n)
    ]
    witness = draw(st.permutations(range(n)))[:seats]
    quotas = []
    for feature, values in (("age", ("young", "old")), ("edu", ("low", "high"))):
        for value in values:
            having = sum(1 for i in witness if people[i].features[feature] == value)
            quotas.append(Quota(feature, value, max(0, having - draw(st.integers(0, 1))),
                                having + draw(st.integers(0, 1))))
    return people, quotas, seats


def test_dropout_chance_combines_independent_causes() -> None:
    model = DropoutModel({("age", "young"): 0.2, ("edu", "low"): 0.5}, default=0.0)
    person = Person("x", {"age": "young", "edu": "low"})
    assert model.chance(person, ["age", "edu"]) == pytest.approx(1 - 0.8 * 0.5)
    assert model.chance(Person("y", {"age": "old", "edu": "high"}), ["age", "edu"]) == 0.0


@SLOW
@given(pools(), st.floats(0.05, 0.6), st.integers(1, 4))
def test_robust_reserves_keep_quotas_at_least_as_often_as_the_fixed_order(
    case: tuple[list[Person], list[Quota], int], young_rate: float, count: int
) -> None:
    people, quotas, seats = case
    lottery = round_lottery(find_distribution(people, quotas, seats, algorithm="maximin"), 50)
    _, panel = draw_panel(lottery, "1234567890")
    model = DropoutModel({("age", "young"): young_rate, ("edu", "low"): young_rate / 2})
    ours = robust_reserves(people, panel, quotas, model, count, seed="42", check_trials=200)
    fixed = fixed_order_reserves(people, panel, quotas, "42", count)
    assert len(ours) == len(fixed) == min(count, len(people) - seats)
    assert not set(ours) & set(panel) and len(set(ours)) == len(ours)
    mine = quota_survival(people, panel, quotas, ours, model, trials=200, seed=1)
    theirs = quota_survival(people, panel, quotas, fixed, model, trials=200, seed=1)
    assert mine.probability >= theirs.probability
    # today's procedure: the fixed order, one withdrawal at a time
    today = quota_survival(people, panel, quotas, fixed, model, trials=200, seed=1,
                           rule="sequential")
    assert mine.probability >= today.probability
    # on fresh scenarios too, up to sampling error
    fresh = quota_survival(people, panel, quotas, ours, model, trials=300, seed=99)
    old = quota_survival(people, panel, quotas, fixed, model, trials=300, seed=99)
    assert fresh.probability >= old.probability - 4 * max(fresh.stderr, old.stderr, 0.02)


def test_reserves_matching_the_dropouts_win_clearly() -> None:
    # 8 seats, exactly 4 young and 4 old; the young drop out often
    people = [Person(f"y{i}", {"age": "young"}) for i in range(10)]
    people += [Person(f"o{i}", {"age": "old"}) for i in range(30)]
    quotas = [Quota("age", "young", 4, 4), Quota("age", "old", 4, 4)]
    panel = ["y0", "y1", "y2", "y3", "o0", "o1", "o2", "o3"]
    assert check_panel(panel, people, quotas, 8) == []
    model = DropoutModel({("age", "young"): 0.4, ("age", "old"): 0.02})
    ours = robust_reserves(people, panel, quotas, model, 4, seed="7")
    assert sum(1 for r in ours if r.startswith("y")) >= 3
    mine = quota_survival(people, panel, quotas, ours, model, trials=2000, seed=3)
    fixed = fixed_order_reserves(people, panel, quotas, "7", 4)
    theirs = quota_survival(people, panel, quotas, fixed, model, trials=2000, seed=3)
    assert mine.probability > theirs.probability + 0.05


def test_survival_is_seeded_and_certain_without_dropouts() -> None:
    people = [Person(f"p{i}", {"g": "f" if i % 2 else "m"}) for i in range(12)]
    quotas = [Quota("g", "f", 3, 3), Quota("g", "m", 3, 3)]
    panel = ["p0", "p1", "p2", "p3", "p4", "p5"]
    none = DropoutModel()
    assert quota_survival(people, panel, quotas, [], none, trials=50).probability == 1.0
    some = DropoutModel(default=0.3)
    reserves = fixed_order_reserves(people, panel, quotas, "5", 4)
    first = quota_survival(people, panel, quotas, reserves, some, trials=300, seed=11)
    assert first == quota_survival(people, panel, quotas, reserves, some, trials=300, seed=11)
    assert 0.0 < first.probability < 1.0 and first.successes <= first.trials


def test_joint_replacement_repairs_what_one_at_a_time_cannot() -> None:
    # exact quotas on two features; two members drop out whose swaps only work together
    people = [
        Person("a", {"age": "young", "edu": "low"}),
        Person("b", {"age": "old", "edu": "high"}),
        Person("c", {"age": "young", "edu": "high"}),
        Person("d", {"age": "old", "edu": "low"}),
        Person("r1", {"age": "young", "edu": "high"}),
        Person("r2", {"age": "old", "edu": "low"}),
    ]
    quotas = [Quota("age", "young", 2, 2), Quota("age", "old", 2, 2),
              Quota("edu", "low", 2, 2), Quota("edu", "high", 2, 2)]
    panel = ["a", "b", "c", "d"]
    assert check_panel(panel, people, quotas, 4) == []
    reserves = reserve_order(people, panel, quotas, "1")
    with pytest.raises(NoReplacement):
        replace(panel, "a", people, quotas, reserves)
    chosen = replace_jointly(people, panel, quotas, ["a", "b"], ["r1", "r2"])
    assert chosen is not None and sorted(chosen) == ["r1", "r2"]
    assert check_panel(["c", "d", "r1", "r2"], people, quotas, 4) == []
    assert replace_jointly(people, panel, quotas, ["a", "b"], ["r1"]) is None
    model = DropoutModel({("edu", "low"): 0.3, ("edu", "high"): 0.3})
    seq = quota_survival(people, panel, quotas, ["r1", "r2"], model, trials=300, seed=2,
                         rule="sequential")
    joint = quota_survival(people, panel, quotas, ["r1", "r2"], model, trials=300, seed=2)
    assert joint.probability > seq.probability


@SLOW
@given(pools(), st.data())
def test_one_open_seat_is_filled_as_today(
    case: tuple[list[Person], list[Quota], int], data: st.DataObject
) -> None:
    people, quotas, seats = case
    lottery = round_lottery(find_distribution(people, quotas, seats, algorithm="maximin"), 50)
    _, panel = draw_panel(lottery, "1234567890")
    gone = data.draw(st.sampled_from(sorted(panel)))
    reserves = reserve_order(people, panel, quotas, "9")
    chosen = replace_jointly(people, panel, quotas, [gone], reserves.order)
    try:
        today = replace(panel, gone, people, quotas, reserves).replacement
    except NoReplacement:
        assert chosen is None
    else:
        assert chosen == [today]
