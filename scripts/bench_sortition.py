"""Benchmark the stage 2 selection against ``sortition-algorithms`` (maximin on HiGHS).

Instances: the public ``example_small_20`` (200 → 20) and synthetic pools with five features
and self-selection bias (registrants skew older, higher-educated, Dutch-origin and towards some
districts; quotas are population shares × seats ± 10 % ± 1): 500 → 100 and 1,500 → 600; and a
realistic 2,000 → 600 pool with six correlated features (~950 types; ours only). Each instance
also runs leximin and Goldilocks; on 1,500 → 600 robust reserves are compared with the seeded
order under a per-group dropout model.
Every solver runs in its own subprocess (wall time, peak RSS, a time limit); the library is
``pip install 'sortition-algorithms>=0.12.8'`` (a benchmark-only dependency).

    .venv/bin/python scripts/bench_sortition.py [--quick]
    .venv/bin/python scripts/bench_sortition.py --leximin [--limit S]
    .venv/bin/python scripts/bench_sortition.py --goldilocks [--limit S]

The last printed line is one JSON object. ``--leximin`` runs only leximin on 1,500 → 600 and
2,000 → 600, each stopped after ``--limit`` seconds (default 120, the goal): wall and CPU
seconds, whether it finished exactly, and how far the decomposition got when stopped.
``--goldilocks`` does the same for Goldilocks (each child killed after ``--limit`` seconds): wall
and CPU seconds, whether it is exact, the lowest and highest chance.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "sortition" / "example_small_20"
BUDGET_S = 14 * 60  # the whole script must end within 15 minutes

POPULATION = {
    "gender": {"female": 0.505, "male": 0.495},
    "age": {"16-24": 0.14, "25-34": 0.16, "35-49": 0.24, "50-64": 0.25, "65+": 0.21},
    "district": {f"d{i}": s for i, s in enumerate([0.2, 0.16, 0.14, 0.12, 0.11, 0.1, 0.09, 0.08])},
    "origin": {"nl": 0.75, "europe": 0.10, "other": 0.15},
    "education": {"low": 0.3, "middle": 0.4, "high": 0.3},
}
# relative chance of registering after an invitation (self-selection bias)
BIAS = {
    "gender": {"female": 1.0, "male": 1.0},
    "age": {"16-24": 0.5, "25-34": 0.8, "35-49": 1.0, "50-64": 1.4, "65+": 1.5},
    "district": {f"d{i}": b for i, b in enumerate([1.3, 1.2, 1.0, 1.0, 0.9, 0.8, 0.7, 0.6])},
    "origin": {"nl": 1.0, "europe": 0.8, "other": 0.5},
    "education": {"low": 0.5, "middle": 1.0, "high": 2.0},
}


def synthetic(n: int, seats: int, seed: int) -> tuple[str, str]:
    """(features CSV ``feature,value,min,max``, people CSV with an ``id`` column)."""
    sys.path.insert(0, str(ROOT))
    from summit.lottery.rules.selection import quotas_from_shares

    rng = np.random.default_rng(seed)
    columns = {}
    for feature, shares in POPULATION.items():
        values = list(shares)
        weights = np.array([shares[v] * BIAS[feature][v] for v in values])
        drawn = rng.choice(len(values), n, p=weights / weights.sum())
        columns[feature] = [values[i] for i in drawn]
    people = io.StringIO()
    writer = csv.writer(people, lineterminator="\n")
    writer.writerow(["id", *POPULATION])
    for i in range(n):
        writer.writerow([f"p{i:05d}", *(columns[f][i] for f in POPULATION)])
    features = io.StringIO()
    writer = csv.writer(features, lineterminator="\n")
    writer.writerow(["feature", "value", "min", "max"])
    for q in quotas_from_shares(POPULATION, seats, tolerance=0.1, slack=1):
        writer.writerow([q.feature, q.value, q.min, q.max])
    return features.getvalue(), people.getvalue()


POPULATION6 = {
    "gender": {"female": 0.505, "male": 0.495},
    "age": {"16-24": 0.14, "25-34": 0.16, "35-49": 0.24, "50-64": 0.25, "65+": 0.21},
    "district": {
        f"d{i}": s
        for i, s in enumerate(
            [0.13, 0.12, 0.1, 0.09, 0.09, 0.08, 0.08, 0.07, 0.06, 0.06, 0.06, 0.06]
        )
    },
    "origin": {"nl": 0.75, "europe": 0.10, "other": 0.15},
    "education": {"low": 0.3, "middle": 0.4, "high": 0.3},
    "work": {"employed": 0.55, "none": 0.12, "student": 0.1, "retired": 0.23},
}
DISTRICT_BIAS = [1.3, 1.2, 1.1, 1.0, 1.0, 0.9, 0.9, 0.8, 0.8, 0.7, 0.7, 0.6]
WORK_BY_AGE = {
    "16-24": [0.35, 0.1, 0.55, 0.0],
    "25-34": [0.66, 0.18, 0.14, 0.02],
    "35-49": [0.66, 0.18, 0.14, 0.02],
    "50-64": [0.62, 0.2, 0.04, 0.14],
    "65+": [0.12, 0.06, 0.02, 0.8],
}
RESERVES = 120  # reserves kept on call for 600 seats
# per feature value: chance a selected member (or a called reserve) drops out
DROPOUT = {
    ("age", "16-24"): 0.05, ("age", "25-34"): 0.03, ("age", "35-49"): 0.01,
    ("age", "50-64"): 0.005, ("age", "65+"): 0.015, ("education", "low"): 0.02,
    ("origin", "other"): 0.02, ("origin", "europe"): 0.01,
}


def _pick(rng: np.random.Generator, values: list[str], weights: Any) -> str:
    w = np.asarray(weights, dtype=np.float64)
    return values[int(rng.choice(len(values), p=w / w.sum()))]


def realistic(n: int, seats: int, seed: int) -> tuple[str, str]:
    """Six correlated features (age drives work and education, district drives origin) and
    self-selection bias: 2,000 registrants give about 950 distinct types."""
    sys.path.insert(0, str(ROOT))
    from summit.lottery.rules.selection import quotas_from_shares

    rng = np.random.default_rng(seed)
    people = io.StringIO()
    writer = csv.writer(people, lineterminator="\n")
    writer.writerow(["id", *POPULATION6])
    ages = list(POPULATION6["age"])
    districts = list(POPULATION6["district"])
    for i in range(n):
        age = _pick(rng, ages, [0.07, 0.128, 0.24, 0.35, 0.315])
        gender = "female" if rng.random() < 0.5 else "male"
        district = _pick(
            rng, districts, np.array(list(POPULATION6["district"].values())) * DISTRICT_BIAS
        )
        other = 0.15 * (2.0 if int(district[1:]) in (6, 8, 9, 11) else 0.7)
        origin = _pick(rng, ["nl", "europe", "other"], [0.75, 0.08, other * 0.5])
        edu = np.array([0.21, 0.4, 0.48])
        if age == "65+":
            edu *= [2.0, 1.0, 0.6]
        if age == "16-24":
            edu *= [1.2, 1.3, 0.5]
        education = _pick(rng, ["low", "middle", "high"], edu)
        work = _pick(rng, ["employed", "none", "student", "retired"], WORK_BY_AGE[age])
        writer.writerow([f"r{i:05d}", gender, age, district, origin, education, work])
    features = io.StringIO()
    writer = csv.writer(features, lineterminator="\n")
    writer.writerow(["feature", "value", "min", "max"])
    for q in quotas_from_shares(POPULATION6, seats, tolerance=0.1, slack=1):
        writer.writerow([q.feature, q.value, q.min, q.max])
    return features.getvalue(), people.getvalue()


def example_small_20() -> tuple[str, str]:
    """The public example in the library's layout (an id column added: the row index)."""
    rows = list(csv.reader(io.StringIO((DATA / "respondents.csv").read_text("utf-8"))))
    people = io.StringIO()
    writer = csv.writer(people, lineterminator="\n")
    writer.writerow(["id", *rows[0]])
    for i, row in enumerate(rows[1:]):
        writer.writerow([str(i), *row])
    quotas = list(csv.reader(io.StringIO((DATA / "categories.csv").read_text("utf-8"))))
    features = io.StringIO()
    writer = csv.writer(features, lineterminator="\n")
    writer.writerow(["feature", "value", "min", "max"])
    writer.writerows(quotas[1:])
    return features.getvalue(), people.getvalue()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_ours(features: Path, people: Path, seats: int, algorithm: str) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from summit.lottery.rules.selection import round_lottery
    from summit.lottery.selection_files import read_selection_input

    data = read_selection_input(features, people)
    from summit.lottery.rules.selection import find_distribution

    started, cpu = time.perf_counter(), _cpu_s()
    distribution = find_distribution(data.people, data.quotas, seats, algorithm=algorithm)
    lottery = round_lottery(distribution, 1000)
    seconds = time.perf_counter() - started
    probs = sorted(distribution.probabilities.values())
    return {
        "seconds": seconds,
        "exact": distribution.exact,
        "tolerance": distribution.tolerance,
        "cpu_seconds": _cpu_s() - cpu,
        "min_probability": probs[0],
        "max_probability": probs[-1],
        "types": len(distribution.type_members),
        "distinct_panels": len(distribution.panels),
        "lottery_max_deviation": lottery.max_deviation,
        "peak_rss_mb": _peak_rss_mb(),
    }


def child_leximin(features: Path, people: Path, seats: int, limit: float) -> dict[str, Any]:
    """Leximin stopped after ``limit`` seconds (its anytime lottery): how far it got."""
    sys.path.insert(0, str(ROOT))
    from summit.lottery.rules.selection import find_distribution
    from summit.lottery.rules.selection_leximin import LeximinProgress
    from summit.lottery.rules.selection_solver import SelectionCancelled
    from summit.lottery.selection_files import read_selection_input

    data = read_selection_input(features, people)
    last: list[LeximinProgress] = []
    started, cpu = time.perf_counter(), _cpu_s()
    try:
        distribution = find_distribution(
            data.people,
            data.quotas,
            seats,
            algorithm="leximin",
            cancel=lambda: time.perf_counter() - started > limit,
            report=last.append,
        )
    except SelectionCancelled:  # stopped before the maximin was certified: no lottery yet
        return {
            "seconds": time.perf_counter() - started,
            "cpu_seconds": _cpu_s() - cpu,
            "exact": False,
            "phase": last[-1].phase if last else None,
            "fraction": last[-1].fraction if last else None,
        }
    seconds = time.perf_counter() - started
    final = last[-1] if last else None
    return {
        "seconds": seconds,
        "cpu_seconds": _cpu_s() - cpu,
        "exact": distribution.exact,
        "tolerance": distribution.tolerance if math.isfinite(distribution.tolerance) else None,
        "min_probability": min(distribution.probabilities.values()),
        "phase": final.phase if final else None,
        "iterations": final.iteration if final else None,
        "panels": final.panels if final else None,
        "fraction": final.fraction if final else None,
        "peak_rss_mb": _peak_rss_mb(),
    }


def large_pool_files(tmp: str) -> Iterator[tuple[str, Path, Path]]:
    """The two large instances written as CSV files in ``tmp``: (key, features, people)."""
    for key, (features_text, people_text) in [
        ("1500_600", synthetic(1500, 600, 11)),
        ("2000_600", realistic(2000, 600, 1)),
    ]:
        features, people = Path(tmp) / f"{key}_f.csv", Path(tmp) / f"{key}_p.csv"
        features.write_text(features_text)
        people.write_text(people_text)
        yield key, features, people


def leximin_only(limit: float) -> None:
    """``--leximin``: both large instances, leximin only, each stopped after ``limit`` s."""
    summary: dict[str, Any] = {"limit_s": limit}
    with tempfile.TemporaryDirectory() as tmp:
        for key, features, people in large_pool_files(tmp):
            run = run_child(
                ["leximin", str(features), str(people), "600", str(limit)], limit + 120.0
            )
            print(json.dumps({key: run}), flush=True)
            done = run.get("exact") is True
            summary[f"leximin_seconds_{key}"] = run.get("seconds") if done else None
            summary[f"leximin_cpu_seconds_{key}"] = run.get("cpu_seconds")
            summary[f"leximin_fraction_{key}"] = run.get("fraction")
            summary[f"leximin_tolerance_{key}"] = run.get("tolerance")
    print(json.dumps(summary))


def goldilocks_only(limit: float) -> None:
    """``--goldilocks``: both large instances, Goldilocks only (with its rounding into 1,000
    panels), each in a child killed after ``limit`` s: seconds, CPU, the extremes, exactness."""
    summary: dict[str, Any] = {"limit_s": limit}
    with tempfile.TemporaryDirectory() as tmp:
        for key, features, people in large_pool_files(tmp):
            run = run_child(["ours", str(features), str(people), "600", "goldilocks"], limit)
            print(json.dumps({key: run}), flush=True)
            summary[f"goldilocks_seconds_{key}"] = run.get("seconds")
            summary[f"goldilocks_cpu_seconds_{key}"] = run.get("cpu_seconds")
            summary[f"goldilocks_exact_{key}"] = run.get("exact")
            summary[f"goldilocks_min_{key}"] = run.get("min_probability")
            summary[f"goldilocks_max_{key}"] = run.get("max_probability")
            summary[f"goldilocks_timed_out_{key}"] = run.get("timed_out")
    print(json.dumps(summary))


def child_reserves(features: Path, people: Path, seats: int) -> dict[str, Any]:
    """Draw a panel (maximin lottery, seed 2026), then RESERVES reserves two ways; survival of the
    quotas under ``DROPOUT`` by seeded simulation (2,000 trials, other seeds than the choice):
    ours with the joint replacement rule, today's seeded order with today's rule (one withdrawal
    at a time) and with the joint rule, and the ceiling (everyone not drawn on call, joint)."""
    sys.path.insert(0, str(ROOT))
    from summit.lottery.rules.reserves import (
        DropoutModel,
        fixed_order_reserves,
        quota_survival,
        robust_reserves,
    )
    from summit.lottery.rules.selection import draw_panel, find_distribution, round_lottery
    from summit.lottery.selection_files import read_selection_input

    data = read_selection_input(features, people)
    lottery = round_lottery(
        find_distribution(data.people, data.quotas, seats, algorithm="maximin"), 1000
    )
    _, panel = draw_panel(lottery, "20262026202620262026")
    model = DropoutModel(dict(DROPOUT))
    started, cpu = time.perf_counter(), _cpu_s()
    ours = robust_reserves(data.people, panel, data.quotas, model, RESERVES, seed="2026")
    seconds, cpu_seconds = time.perf_counter() - started, _cpu_s() - cpu
    fixed = fixed_order_reserves(data.people, panel, data.quotas, "2026", RESERVES)
    everyone = fixed_order_reserves(data.people, panel, data.quotas, "2026", len(data.people))
    runs = {
        "ours": (ours, "joint", 2000),
        "fixed_order": (fixed, "sequential", 2000),
        "fixed_order_joint": (fixed, "joint", 2000),
        "ceiling": (everyone, "joint", 500),
    }
    survival = {
        name: quota_survival(
            data.people, panel, data.quotas, chosen, model, trials=trials, seed=7, rule=rule
        )
        for name, (chosen, rule, trials) in runs.items()
    }
    return {
        "reserves": RESERVES,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "expected_dropouts": sum(model.chance(p, sorted(p.features)) for p in data.people
                                 if p.id in set(panel)),
        **{name: s.probability for name, s in survival.items()},
        "stderr": max(s.stderr for s in survival.values()),
    }


def child_library(features: Path, people: Path, seats: int) -> dict[str, Any]:
    from sortition_algorithms import CSVStringDataSource, SelectionData, Settings
    from sortition_algorithms.committee_generation.maximin import find_distribution_maximin
    from sortition_algorithms.utils import set_random_provider

    data = SelectionData(CSVStringDataSource(features.read_text(), people.read_text()))
    feature_collection, _ = data.load_features(seats)
    settings = Settings(id_column="id", columns_to_keep=[], random_number_seed=1)
    pool, _ = data.load_people(settings, feature_collection)
    set_random_provider(1)
    started, cpu = time.perf_counter(), _cpu_s()
    committees, weights, _ = find_distribution_maximin(
        feature_collection, pool, seats, [], "highspy"
    )
    seconds = time.perf_counter() - started
    chance = dict.fromkeys(pool, 0.0)
    for committee, weight in zip(committees, weights, strict=True):
        for pid in committee:
            chance[pid] += weight
    probs = sorted(chance.values())
    return {
        "seconds": seconds,
        "cpu_seconds": _cpu_s() - cpu,
        "min_probability": probs[0],
        "max_probability": probs[-1],
        "distinct_panels": sum(1 for w in weights if w > 0),
        "peak_rss_mb": _peak_rss_mb(),
    }


def run_child(args: list[str], timeout: float) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", *args],
            capture_output=True, text=True, timeout=max(timeout, 1.0), check=False,
        )
    except subprocess.TimeoutExpired:
        return {"timed_out": True, "seconds": time.perf_counter() - started, "limit_s": timeout}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:], "timed_out": False}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["timed_out"] = False
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs="*")
    parser.add_argument("--quick", action="store_true", help="only the two smaller instances")
    parser.add_argument("--leximin", action="store_true", help="only leximin on the large pools")
    parser.add_argument(
        "--goldilocks", action="store_true", help="only Goldilocks on the large pools"
    )
    parser.add_argument(
        "--limit", type=float, default=120.0, help="--leximin/--goldilocks: seconds each"
    )
    options = parser.parse_args()
    if options.leximin and options.child is None:
        leximin_only(options.limit)
        return
    if options.goldilocks and options.child is None:
        goldilocks_only(options.limit)
        return
    if options.child is not None:
        kind, features, people, seats, algorithm = options.child
        if kind == "leximin":
            out = child_leximin(Path(features), Path(people), int(seats), float(algorithm))
        elif kind == "ours":
            out = child_ours(Path(features), Path(people), int(seats), algorithm)
        elif kind == "reserves":
            out = child_reserves(Path(features), Path(people), int(seats))
        else:
            out = child_library(Path(features), Path(people), int(seats))
        print(json.dumps(out))
        return

    deadline = time.perf_counter() + BUDGET_S
    instances: list[tuple[str, int, tuple[str, str], float, float]] = [
        # name, seats, (features, people), library limit, our leximin limit
        ("example_small_20", 20, example_small_20(), 120.0, 60.0),
        ("synthetic_500_100", 100, synthetic(500, 100, 7), 180.0, 150.0),
    ]
    if not options.quick:
        instances.append(("synthetic_1500_600", 600, synthetic(1500, 600, 11), 420.0, 240.0))
        instances.append(("realistic_2000_600", 600, realistic(2000, 600, 1), 0.0, 240.0))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, seats, (features_text, people_text), lib_limit, _ in instances:
            features, people = Path(tmp) / f"{name}_f.csv", Path(tmp) / f"{name}_p.csv"
            features.write_text(features_text)
            people.write_text(people_text)
            base = [str(features), str(people), str(seats)]
            row: dict[str, Any] = {"pool": people_text.count("\n") - 1, "seats": seats}
            row["ours_maximin"] = run_child(["ours", *base, "maximin"], 300.0)
            # keep time for leximin, Goldilocks and reserves (about 7 minutes on the big pools)
            left = deadline - time.perf_counter() - (120 if options.quick else 480)
            row["library_maximin"] = (
                run_child(["library", *base, "maximin"], min(lib_limit, left))
                if lib_limit > 0
                else {"skipped": "ours only"}
            )
            results[name] = row
            print(json.dumps({name: row}), flush=True)
        # leximin is ours only (the library needs Gurobi for it): run with the time left
        for name, seats, _, _, lex_limit in instances:
            base = [str(Path(tmp) / f"{name}_f.csv"), str(Path(tmp) / f"{name}_p.csv"), str(seats)]
            left = deadline - time.perf_counter() - 10
            results[name]["ours_leximin"] = run_child(
                ["ours", *base, "leximin"], min(lex_limit, left)
            )
            print(json.dumps({name: {"ours_leximin": results[name]["ours_leximin"]}}), flush=True)
            left = deadline - time.perf_counter() - 10
            results[name]["ours_goldilocks"] = run_child(
                ["ours", *base, "goldilocks"], min(120.0, left)
            )
            print(json.dumps({name: {"ours_goldilocks": results[name]["ours_goldilocks"]}}))
        reserves: dict[str, Any] = {}
        if not options.quick:
            name = "synthetic_1500_600"
            base = [str(Path(tmp) / f"{name}_f.csv"), str(Path(tmp) / f"{name}_p.csv"), "600"]
            left = deadline - time.perf_counter() - 5
            reserves = run_child(["reserves", *base, "-"], min(240.0, left))  # ~80 s CPU
            print(json.dumps({"reserves": reserves}), flush=True)

    ratios, speedups = [], []
    for row in results.values():
        ours, lib = row["ours_maximin"], row["library_maximin"]
        if "seconds" not in ours or ours.get("timed_out") or "skipped" in lib:
            continue
        if lib.get("timed_out"):
            speedups.append(lib["seconds"] / ours["seconds"])  # a lower bound
        elif "min_probability" in lib:
            ratios.append(ours["min_probability"] / lib["min_probability"])
            speedups.append(lib["seconds"] / ours["seconds"])
    lex = results["example_small_20"]["ours_leximin"]
    def lex_seconds(name: str) -> Any:
        run = results.get(name, {}).get("ours_leximin", {})
        return None if run.get("timed_out") else run.get("seconds")

    summary = {
        "leximin_seconds_1500_600": lex_seconds("synthetic_1500_600"),
        "leximin_seconds_2000_600": lex_seconds("realistic_2000_600"),
        "extremes": {
            name: {
                f"{alg}_{end}": r.get(f"ours_{alg}", {}).get(f"{end}_probability")
                for alg in ("maximin", "leximin", "goldilocks")
                for end in ("min", "max")
            }
            for name, r in results.items()
        },
        "reserve_quota_survival_ours": reserves.get("ours"),
        "reserve_quota_survival_fixed_order": reserves.get("fixed_order"),
        "reserve_quota_survival_fixed_order_joint": reserves.get("fixed_order_joint"),
        "reserve_quota_survival_ceiling": reserves.get("ceiling"),
        "leximin_min_probability_example_small_20": lex.get("min_probability"),
        "min_probability_ratio_vs_library": min(ratios) if ratios else None,
        "speedup_vs_library": min(speedups) if speedups else None,
        "library_timed_out": [
            n for n, r in results.items() if r["library_maximin"].get("timed_out")
        ],
        "instances": {
            name: {
                "ours_maximin_s": r["ours_maximin"].get("seconds"),
                "ours_maximin_min": r["ours_maximin"].get("min_probability"),
                "ours_leximin_s": r["ours_leximin"].get("seconds"),
                "ours_leximin_min": r["ours_leximin"].get("min_probability"),
                "ours_leximin_exact": r["ours_leximin"].get("exact"),
                "ours_leximin_tolerance": r["ours_leximin"].get("tolerance"),
                "ours_goldilocks_s": r["ours_goldilocks"].get("seconds"),
                "library_s": r["library_maximin"].get("seconds"),
                "library_min": r["library_maximin"].get("min_probability"),
            }
            for name, r in results.items()
        },
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
