"""Leximin's decomposition by sampling and maximum entropy (selection_entropy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from summit.lottery.rules import selection_entropy
from summit.lottery.rules.selection_entropy import decompose, max_entropy, projected_target
from summit.lottery.rules.selection_leximin import LeximinProgress, solve_leximin
from summit.lottery.rules.selection_polytope import Face, PanelPolytope, Rows, relaxed_leximin
from summit.lottery.rules.selection_solver import TypeModel
from tests.support.scripts import load_script


def _model(seed: int = 3, types: int = 60, seats: int = 40) -> TypeModel:
    """Three features (3 x 4 x 5 values), random counts, quotas at the pool's share ± 10 %."""
    rng = np.random.default_rng(seed)
    sizes = (3, 4, 5)
    keys = sorted({tuple(int(rng.integers(s)) for s in sizes) for _ in range(types)})
    counts = rng.integers(1, 6, len(keys)).astype(np.int64)
    rows, low, high = [], [], []
    for f, size in enumerate(sizes):
        for v in range(size):
            row = np.array([1.0 if k[f] == v else 0.0 for k in keys])
            share = float(row @ counts) / float(counts.sum()) * seats
            rows.append(row)
            low.append(max(0.0, np.floor(share * 0.9) - 1))
            high.append(np.ceil(share * 1.1) + 1)
    return TypeModel(seats, counts, np.array(rows), np.array(low), np.array(high))


def test_max_entropy_is_exact_inside_the_hull_and_stalls_outside() -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(60, 5))
    inside, error = max_entropy(points - points.mean(axis=0) * 0.5)
    assert error <= 1e-12
    assert inside.sum() == pytest.approx(1.0) and inside.min() > 0.0
    assert np.abs(inside @ (points - points.mean(axis=0) * 0.5)).max() <= 1e-12
    _, outside = max_entropy(np.abs(points) + 0.1)  # every point beyond 0: no weights reach it
    assert outside > 0.05


def test_the_projected_target_meets_the_face_exactly() -> None:
    model = _model()
    target, _ = relaxed_leximin(model)
    counts = model.counts.astype(np.float64)
    rows = Rows.of(model)
    face = Face.minimal(model, rows, target * counts)
    x = projected_target(rows, face, target * counts, counts)
    assert face.holds(rows, x)
    eq = face.row_low == face.row_high
    assert np.abs(rows.matrix[eq] @ x - face.row_low[eq]).max() <= 1e-9
    assert np.abs(x / counts - target).max() <= 1e-6


def test_decompose_gives_panels_of_the_face_whose_mean_is_the_target() -> None:
    model = _model()
    target, _ = relaxed_leximin(model)
    counts = model.counts.astype(np.float64)
    poly = PanelPolytope(model, Face.minimal(model, Rows.of(model), target * counts))
    found = decompose(poly, target, lambda _fraction: None)
    assert found is not None
    panels, weights = found
    assert all(model.is_feasible_panel(p) for p in panels)
    assert weights.min() >= 0.0 and weights.sum() == pytest.approx(1.0, abs=1e-12)
    chances = (weights @ np.vstack(panels).astype(np.float64)) / counts
    assert np.abs(chances - target).max() <= 1e-8


def test_leximin_takes_the_sampled_path_and_reports_its_tolerance() -> None:
    model = _model(seed=7, types=80, seats=50)
    events: list[LeximinProgress] = []
    result = solve_leximin(model, progress=events.append)
    assert result.exact and result.method == "relaxation"
    assert "sampling" in {e.phase for e in events}
    assert result.tolerance <= 1e-8
    assert result.distribution.type_probability.min() == pytest.approx(result.maximin, abs=1e-8)


def test_without_samples_leximin_falls_back_to_column_generation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = _model(seed=7, types=80, seats=50)
    sampled = solve_leximin(model)
    monkeypatch.setattr(selection_entropy, "MAX_BATCHES", 0)
    events: list[LeximinProgress] = []
    generated = solve_leximin(model, progress=events.append)
    assert generated.exact and "sampling" not in {e.phase for e in events}
    assert (
        np.abs(
            generated.distribution.type_probability - sampled.distribution.type_probability
        ).max()
        <= 1e-7
    )


def test_the_relaxation_solves_where_a_fixed_level_is_a_float_too_high(tmp_path: Path) -> None:
    """realistic 3,000 -> 600 (seed 3, 1,162 types): stage 18 of the relaxation is infeasible
    by 1.7e-9 (earlier optima hold their rows only to the LP tolerance); the fixed levels are
    lowered until it solves."""
    from summit.lottery.rules.selection import _build_types
    from summit.lottery.selection_files import read_selection_input

    features, people = load_script("bench_sortition").realistic(3000, 600, 3)
    (tmp_path / "features.csv").write_text(features)
    (tmp_path / "people.csv").write_text(people)
    data = read_selection_input(tmp_path / "features.csv", tmp_path / "people.csv")
    names = sorted({q.feature for q in data.quotas})
    model = _build_types(data.people, data.quotas, names, 600, False).model
    target, stages = relaxed_leximin(model)
    assert stages >= 18
    assert float((target * model.counts).sum()) == pytest.approx(600, abs=1e-6)
    assert 0.0 < float(target.min()) <= float(target.max()) <= 1.0
