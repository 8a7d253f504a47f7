from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from summit.lottery.rules.selection import (
    Distribution,
    InfeasibleQuotas,
    NoReplacement,
    Person,
    Quota,
    SelectionCancelled,
    SelectionError,
    check_panel,
    draw_panel,
    find_distribution,
    quotas_from_shares,
    replace,
    reserve_order,
    round_lottery,
)
from summit.lottery.selection_files import SelectionFileError, run_selection_files
from tests.support.i18n import english  # noqa: F401  (the rules' messages in English)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sortition"
SMALL_20 = DATA / "example_small_20"
needs_data = pytest.mark.skipif(not SMALL_20.exists(), reason="shared test data not present")
SLOW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def small_20() -> tuple[list[Person], list[Quota]]:
    rows = (SMALL_20 / "respondents.csv").read_text().splitlines()
    header = rows[0].split(",")
    people = [
        Person(str(i), dict(zip(header, r.split(","), strict=True))) for i, r in enumerate(rows[1:])
    ]
    quotas = []
    for line in (SMALL_20 / "categories.csv").read_text().splitlines()[1:]:
        feature, value, low, high = line.split(",")
        quotas.append(Quota(feature, value, int(low), int(high)))
    return people, quotas


@st.composite
def instances(draw: st.DrawFn, max_people: int = 9) -> tuple[list[Person], list[Quota], int]:
    """Small pools with two features and quotas that admit at least one panel."""
    n = draw(st.integers(3, max_people))
    seats = draw(st.integers(1, n - 1))
    people = [
        Person(
            f"p{i}",
            {"a": draw(st.sampled_from("xy")), "b": draw(st.sampled_from("uvw"))},
            household=f"h{draw(st.integers(0, n))}",
        )
        for i in range(n)
    ]
    witness = draw(st.permutations(range(n)))[:seats]  # quotas built around a real panel
    quotas = []
    for feature, values in (("a", "xy"), ("b", "uvw")):
        for value in values:
            having = sum(1 for i in witness if people[i].features[feature] == value)
            quotas.append(
                Quota(
                    feature,
                    value,
                    max(0, having - draw(st.integers(0, 1))),
                    having + draw(st.integers(0, 1)),
                )
            )
    return people, quotas, seats


def all_panels(people: list[Person], quotas: list[Quota], seats: int) -> list[tuple[str, ...]]:
    ids = [p.id for p in people]
    return [
        c for c in itertools.combinations(ids, seats) if not check_panel(c, people, quotas, seats)
    ]


def lp_maximin(people: list[Person], panels: list[tuple[str, ...]]) -> float:
    """The maximin optimum over ALL panels, by scipy's LP solver (an independent check)."""
    ids = [p.id for p in people]
    a = np.array([[1.0 if pid in panel else 0.0 for panel in panels] for pid in ids])
    n_panels = len(panels)
    cost = np.zeros(n_panels + 1)
    cost[-1] = -1.0
    a_ub = np.hstack([-a, np.ones((len(ids), 1))])
    a_eq = np.hstack([np.ones((1, n_panels)), np.zeros((1, 1))])
    result = linprog(
        cost,
        A_ub=a_ub,
        b_ub=np.zeros(len(ids)),
        A_eq=a_eq,
        b_eq=[1.0],
        bounds=[(0, None)] * (n_panels + 1),
        method="highs",
    )
    assert result.status == 0
    return float(-result.fun)


def distribution_panels_valid(
    d: Distribution, people: list[Person], quotas: list[Quota], one_per_household: bool = False
) -> None:
    lottery = round_lottery(d, 50)
    for panel in lottery.panels:
        assert (
            check_panel(panel, people, quotas, d.seats, one_per_household=one_per_household) == []
        )


@needs_data
def test_leximin_gives_everyone_ten_percent_on_example_small_20() -> None:
    people, quotas = small_20()
    d = find_distribution(people, quotas, 20, algorithm="leximin")
    assert len(d.probabilities) == 200
    for chance in d.probabilities.values():
        assert chance == pytest.approx(0.1, abs=1e-6)
    assert sum(d.probabilities.values()) == pytest.approx(20)


@SLOW
@given(instances())
def test_maximin_equals_the_lp_optimum_over_all_panels(
    case: tuple[list[Person], list[Quota], int],
) -> None:
    people, quotas, seats = case
    d = find_distribution(people, quotas, seats, algorithm="maximin")
    optimum = lp_maximin(people, all_panels(people, quotas, seats))
    assert d.min_probability == pytest.approx(optimum, abs=1e-7)
    assert sum(d.probabilities.values()) == pytest.approx(seats, abs=1e-7)
    distribution_panels_valid(d, people, quotas)


def brute_leximin(people: list[Person], panels: list[tuple[str, ...]]) -> list[float]:
    """Leximin by definition: repeatedly maximise the minimum, fix whoever cannot go higher."""
    ids = [p.id for p in people]
    a = np.array([[1.0 if pid in panel else 0.0 for panel in panels] for pid in ids])
    n_p = len(panels)
    fixed: dict[int, float] = {}
    while len(fixed) < len(ids):
        free = [i for i in range(len(ids)) if i not in fixed]

        def solve(target: int | None, floor: float, free: list[int] = free) -> float:
            rows, rhs = [], []
            for i, level in fixed.items():
                rows.append(np.append(-a[i], 0.0))
                rhs.append(-level + 1e-9)
            for i in free:
                if target is None:
                    rows.append(np.append(-a[i], 1.0))
                    rhs.append(0.0)
                else:
                    rows.append(np.append(-a[i], 0.0))
                    rhs.append(-floor + 1e-9)
            cost = np.zeros(n_p + 1)
            if target is None:
                cost[-1] = -1.0
            else:
                cost[:n_p] = -a[target]
            res = linprog(
                cost,
                A_ub=np.array(rows),
                b_ub=np.array(rhs),
                A_eq=np.append(np.ones(n_p), 0.0)[None, :],
                b_eq=[1.0],
                bounds=[(0, None)] * (n_p + 1),
                method="highs",
            )
            assert res.status == 0
            return float(-res.fun)

        level = solve(None, 0.0)
        stuck = [i for i in free if solve(i, level) <= level + 1e-7]
        for i in stuck or free[:1]:
            fixed[i] = level
    return sorted(fixed.values())


@SLOW
@given(instances(max_people=7))
def test_leximin_matches_the_definition_on_small_pools(
    case: tuple[list[Person], list[Quota], int],
) -> None:
    people, quotas, seats = case
    d = find_distribution(people, quotas, seats, algorithm="leximin")
    expected = brute_leximin(people, all_panels(people, quotas, seats))
    assert sorted(d.probabilities.values()) == pytest.approx(expected, abs=1e-6)


@SLOW
@given(instances(), st.text(alphabet="0123456789", min_size=5, max_size=5))
def test_quotas_hold_on_every_panel_and_replacements_keep_them(
    case: tuple[list[Person], list[Quota], int], seed: str
) -> None:
    people, quotas, seats = case
    d = (
        find_distribution(people, quotas, seats, algorithm="leximin", one_per_household=True)
        if all_panels_household(people, quotas, seats)
        else None
    )
    if d is not None:
        distribution_panels_valid(d, people, quotas, one_per_household=True)
    d = find_distribution(people, quotas, seats, algorithm="maximin")
    for j, counts in enumerate(d.panels):
        assert sum(counts) == seats, j
    lottery = round_lottery(d, 100)
    assert len(lottery.panels) == 100
    assert sum(lottery.marginals.values()) == pytest.approx(seats)
    index, panel = draw_panel(lottery, seed)
    assert panel == lottery.panels[index] == draw_panel(lottery, seed)[1]
    assert check_panel(panel, people, quotas, seats) == []
    reserves = reserve_order(people, panel, quotas, seed)
    assert sorted(reserves.order) == sorted(p.id for p in people if p.id not in panel)
    for withdrawn in panel:
        try:
            result = replace(panel, withdrawn, people, quotas, reserves)
        except NoReplacement:
            continue
        assert result.replacement not in panel
        assert check_panel(result.panel, people, quotas, seats) == []
        assert result == replace(panel, withdrawn, people, quotas, reserves)


@settings(max_examples=10, deadline=None)
@given(instances(), st.randoms(use_true_random=False))
def test_selection_is_a_pure_function_of_the_inputs(
    case: tuple[list[Person], list[Quota], int], random: object
) -> None:
    people, quotas, seats = case
    first = round_lottery(find_distribution(people, quotas, seats), 200)
    shuffled_people, shuffled_quotas = list(people), list(quotas)
    random.shuffle(shuffled_people)  # type: ignore[attr-defined]
    random.shuffle(shuffled_quotas)  # type: ignore[attr-defined]
    second = round_lottery(find_distribution(shuffled_people, shuffled_quotas, seats), 200)
    assert first.hash == second.hash


def all_panels_household(people: list[Person], quotas: list[Quota], seats: int) -> bool:
    return any(
        not check_panel(c, people, quotas, seats, one_per_household=True)
        for c in all_panels(people, quotas, seats)
    )


def test_replacement_prefers_the_same_stratum() -> None:
    people = [Person(f"p{i}", {"g": "f" if i % 2 else "m"}) for i in range(12)]
    quotas = [Quota("g", "f", 3, 3), Quota("g", "m", 3, 3)]
    panel = ("p0", "p1", "p2", "p3", "p4", "p5")
    reserves = reserve_order(people, panel, quotas, "7")
    result = replace(panel, "p1", people, quotas, reserves)
    assert result.same_stratum and int(result.replacement[1:]) % 2 == 1
    again = replace(result.panel, "p3", people, quotas, reserves, unavailable=[result.replacement])
    assert again.replacement != result.replacement
    with pytest.raises(SelectionError, match="not on the panel"):
        replace(panel, "p9", people, quotas, reserves)
    with pytest.raises(NoReplacement):
        replace(
            panel,
            "p1",
            people,
            quotas,
            reserves,
            unavailable=[p.id for p in people if p.features["g"] == "f"],
        )


def test_households_are_never_on_a_panel_twice() -> None:
    people = [
        Person(f"p{i}", {"g": "f" if i % 2 else "m"}, household=f"h{i // 2}") for i in range(10)
    ]
    quotas = [Quota("g", "f", 2, 3), Quota("g", "m", 2, 3)]
    d = find_distribution(people, quotas, 5, algorithm="leximin", one_per_household=True)
    distribution_panels_valid(d, people, quotas, one_per_household=True)
    assert d.min_probability == pytest.approx(0.5, abs=1e-6)


def test_infeasible_quotas_suggest_a_minimal_relaxation() -> None:
    people = [Person(f"p{i}", {"g": "f" if i < 3 else "m"}) for i in range(10)]
    quotas = [Quota("g", "f", 5, 6), Quota("g", "m", 2, 4)]
    with pytest.raises(InfeasibleQuotas) as caught:
        find_distribution(people, quotas, 8)
    changes = {(c.feature, c.value): c for c in caught.value.suggestion}
    assert changes[("g", "f")].new_min == 3  # only three women in the pool
    assert changes[("g", "m")].new_max == 5
    assert "smallest relaxation" in str(caught.value)
    relaxed = [
        Quota(
            q.feature,
            q.value,
            changes[(q.feature, q.value)].new_min,
            changes[(q.feature, q.value)].new_max,
        )
        for q in quotas
    ]
    assert find_distribution(people, relaxed, 8).min_probability > 0


def test_uniform_and_bad_input() -> None:
    people = [Person(f"p{i}", {"g": "f" if i < 3 else "m"}) for i in range(10)]
    d = find_distribution(people, [], 4, algorithm="uniform")
    assert list(d.probabilities.values()) == [pytest.approx(0.4)] * 10
    lottery = round_lottery(d, 1000)
    assert lottery.max_deviation <= 1e-9
    assert lottery.hash == hashlib.sha256(lottery.canonical()).hexdigest()
    assert json.loads(lottery.canonical())["panels"][0] == list(lottery.panels[0])
    binding = [Quota("g", "f", 2, 3), Quota("g", "m", 0, 10)]
    with pytest.raises(SelectionError, match="uniform would break"):
        find_distribution(people, binding, 4, algorithm="uniform")
    with pytest.raises(SelectionError, match="no quota"):
        find_distribution(people, [Quota("g", "f", 0, 4)], 4)
    with pytest.raises(SelectionError, match="only 10 people"):
        find_distribution(people, [], 11)
    with pytest.raises(SelectionError, match="algorithm"):
        find_distribution(people, [], 4, algorithm="nash")
    with pytest.raises(SelectionError, match="min <= max"):
        find_distribution(people, [Quota("g", "f", 3, 2), Quota("g", "m", 0, 9)], 4)


def test_quotas_from_shares() -> None:
    quotas = quotas_from_shares({"g": {"f": 0.5, "m": 0.5}}, 100, tolerance=0.1, slack=0)
    assert [(q.value, q.min, q.max) for q in quotas] == [("f", 45, 55), ("m", 45, 55)]
    with pytest.raises(SelectionError):
        quotas_from_shares({"g": {"f": 0.0}}, 10)


def test_progress_and_cancel() -> None:
    rng = np.random.default_rng(3)
    people = [
        Person(
            f"p{i}",
            {"a": str(rng.integers(3)), "b": str(rng.integers(4)), "c": str(rng.integers(2))},
        )
        for i in range(80)
    ]
    shares = {f: {v: 1.0 for v in vals} for f, vals in (("a", "012"), ("b", "0123"), ("c", "01"))}
    quotas = quotas_from_shares(shares, 20, tolerance=0.2)
    seen: list[tuple[float, str]] = []
    d = find_distribution(people, quotas, 20, progress=lambda f, m: seen.append((f, m)))
    assert seen and all(0.0 <= f <= 1.0 for f, _ in seen) and seen[-1][0] == 1.0
    assert sum(d.probabilities.values()) == pytest.approx(20)
    with pytest.raises(SelectionCancelled):
        find_distribution(people, quotas, 20, cancel=lambda: True)


@needs_data
def test_selection_files_both_layouts(tmp_path: Path) -> None:
    summary = run_selection_files(
        SMALL_20 / "categories.csv",
        SMALL_20 / "respondents.csv",
        20,
        seed="42",
        out_dir=tmp_path / "a",
    )
    assert summary["min_probability"] == pytest.approx(0.1, abs=1e-6)
    panel = (tmp_path / "a" / "panel.csv").read_text().splitlines()
    assert len(panel) == 21
    assert len((tmp_path / "a" / "probabilities.csv").read_text().splitlines()) == 201
    written = json.loads((tmp_path / "a" / "summary.json").read_text())
    body = (tmp_path / "a" / "panels.json").read_bytes()
    assert written["panels_hash"] == hashlib.sha256(body).hexdigest()
    assert written["drawn_index"] == summary["drawn_index"] and written["seed"] == "42"

    features = tmp_path / "f.csv"
    features.write_text("feature,value,min,max\r\ngender,female,9,20\r\ngender,male,9,20\r\n")
    people = tmp_path / "p.csv"
    rows = (SMALL_20 / "respondents.csv").read_text().splitlines()[1:]
    people.write_text(
        "id;gender\n" + "\n".join(f"x{i};{r.split(',')[0]}" for i, r in enumerate(rows)) + "\n"
    )
    again = run_selection_files(
        features, people, 20, algorithm="maximin", seed="42", out_dir=tmp_path / "b"
    )
    assert again["input_layout"] == "feature-value" and again["min_probability"] == 0.1


@pytest.mark.parametrize(
    ("features", "people", "fragment"),
    [
        ("feature,value,min,max\ng,f,1,x\n", "id,g\n1,f\n", "f.csv, row 2, column 'max'"),
        ("feature,value,min,max\ng,f,3,1\n", "id,g\n1,f\n", "min 3 > max 1"),
        ("name,min\n", "id,g\n1,f\n", "f.csv, row 1"),
        ("feature,value,min,max\ng,f,0,1\n", "g\nf\n", "needs an id column"),
        ("feature,value,min,max\ng,f,0,1\n", "id,g\n1,f\n2,m\n", "p.csv, row 3, column 'g'"),
        ("feature,value,min,max\ng,f,0,1\n", "id,g\n1,f\n1,f\n", "duplicate id"),
        ("feature,value,min,max\ng,f,0,1\n", "id,h\n1,f\n", "column 'g'"),
        ("feature,value,min,max\ng,f,0,1\n", "id,g\n1,\n", "missing value"),
    ],
)
def test_bad_files_name_file_row_and_column(
    tmp_path: Path, features: str, people: str, fragment: str
) -> None:
    (tmp_path / "f.csv").write_text(features)
    (tmp_path / "p.csv").write_text(people)
    with pytest.raises(SelectionFileError, match=fragment.replace("(", r"\(")):
        run_selection_files(tmp_path / "f.csv", tmp_path / "p.csv", 1, out_dir=tmp_path / "o")
