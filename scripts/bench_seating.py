"""Benchmark: multi-round seating vs random seat-type-preserving reshuffles.

Usage: .venv/bin/python scripts/bench_seating.py [--sizes 100,1000,10000] [--rounds 6]
    [--small-sizes 48,100,200,300,400] [--small-rounds 3,4,5,6]
Prints one JSON object per case, then a hosted hybrid case (200 people in the 60/10/10/10/10 mix,
30 % online, with table hosts, 4 rounds, as in the demo summit), then the small-summit table (the
hosted shape at every small size and round count: repeated pairs, lower bound, gap, seconds); the
LAST line is the summary for 1000 participants with the hosted case under ``hosted``, the small
cases under ``small`` and the sum of their gaps to the lower bound as ``small_gap_total``.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from summit.core.rules.roles import DEFAULT_MIX, seats_per_role
from summit.seating.rules import Host, Participant, SeatingSettings, evaluate, seat_rounds
from summit.seating.rules.plan import make_plan, to_seating

FEATURES = ("age_band", "gender", "district")


def synthetic(n: int, seed: int = 7) -> list[Participant]:
    """n people in the 625/125/125/125 per 1,000 mix, with skewed age bands, two genders and
    eight districts of unequal size."""
    rng = np.random.default_rng(seed)
    residents, each = n * 5 // 8, n // 8
    roles = (
        ["resident"] * residents
        + ["employer"] * each
        + ["civil_servant"] * (each // 2)
        + ["politician"] * (each - each // 2)
        + ["free_thinker"] * (n - residents - 2 * each)
    )
    ages = ["16-24", "25-39", "40-54", "55-69", "70+"]
    districts = [f"D{i}" for i in range(8)]
    dist_p = np.array([4, 3, 3, 2, 2, 2, 1, 1], dtype=float)
    out = []
    for i, role in enumerate(roles):
        out.append(
            Participant(
                id=f"p{i:05d}",
                role=role,
                features={
                    "age_band": ages[int(rng.choice(5, p=[0.12, 0.22, 0.26, 0.25, 0.15]))],
                    "gender": "f" if rng.random() < 0.5 else "m",
                    "district": districts[int(rng.choice(8, p=dist_p / dist_p.sum()))],
                },
            )
        )
    return out


def random_baseline(
    people: list[Participant], settings: SeatingSettings, seed: int
) -> dict[str, float]:
    """Every round an independent random permutation within each seat type (pattern kept)."""
    plan = make_plan(people, settings)
    rng = np.random.default_rng(seed)
    tabs = []
    for _ in range(settings.rounds):
        tab = np.full(plan.problem.n, -1, dtype=np.int64)
        for c in range(plan.cap.shape[1]):
            who = np.flatnonzero(plan.problem.cls == c)
            slots = np.repeat(np.arange(plan.cap.shape[0]), plan.cap[:, c])
            tab[who] = slots[rng.permutation(slots.size)]
        tabs.append(tab)
    report = evaluate(to_seating(plan, tabs, "random"))
    return {
        "repeated_pairs": report.repeated_pairs,
        "pattern_compliance": report.pattern_compliance,
        "diversity_score": round(report.diversity_score, 4),
    }


def hosted(n: int, seed: int = 1) -> tuple[list[Participant], tuple[Host, ...]]:
    """n people in the 60/10/10/10/10 mix, each online with probability 0.3, and one host per
    table of each mode."""
    rng = np.random.default_rng(seed)
    people = []
    for role, count in seats_per_role(DEFAULT_MIX, n).items():
        for i in range(count):
            people.append(
                Participant(
                    id=f"{role}{i:04d}",
                    role=role,
                    features={
                        "age_band": "abcde"[int(rng.integers(5))],
                        "gender": "mf"[int(rng.integers(2))],
                        "district": "123456"[int(rng.integers(6))],
                    },
                    mode="online" if rng.random() < 0.3 else "venue",
                )
            )
    venue = sum(p.mode == "venue" for p in people)
    hosts = tuple(Host(f"hv{i}") for i in range(-(-venue // 8))) + tuple(
        Host(f"ho{i}", "online") for i in range(-(-(n - venue) // 8))
    )
    return people, hosts


def run_case(n: int, rounds: int, with_hosts: bool = False) -> dict[str, object]:
    if with_hosts:
        people, hosts = hosted(n)
    else:
        people, hosts = synthetic(n), ()
    settings = SeatingSettings(rounds=rounds, features=FEATURES, hosts=hosts)
    start = time.perf_counter()
    seating = seat_rounds(people, settings, seed="bench-2024")
    seconds = time.perf_counter() - start
    report = evaluate(seating)
    base = random_baseline(people, settings, seed=1)
    return {
        "participants": n,
        "rounds": rounds,
        "tables": len(seating.tables),
        "repeated_pairs": report.repeated_pairs,
        "pattern_compliance": report.pattern_compliance,
        "diversity_score": round(report.diversity_score, 4),
        "seconds": round(seconds, 3),
        "repeated_pairs_lower_bound": report.repeated_pairs_lower_bound,
        "online": sum(p.mode == "online" for p in people),
        "hosts": len(hosts),
        "random_repeated_pairs": base["repeated_pairs"],
        "random_pattern_compliance": base["pattern_compliance"],
        "random_diversity_score": base["diversity_score"],
    }


def small_case(n: int, rounds: int) -> dict[str, Any]:
    """A small summit in the hosted shape: repeated pairs against the lower bound, wall and CPU
    seconds (the CPU time is what the seating costs on an idle core)."""
    people, hosts = hosted(n)
    settings = SeatingSettings(rounds=rounds, features=FEATURES, hosts=hosts)
    start, cpu = time.perf_counter(), time.process_time()
    seating = seat_rounds(people, settings, seed="bench-2024")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    report = evaluate(seating)
    return {
        "participants": n,
        "rounds": rounds,
        "tables": len(seating.tables),
        "repeated_pairs": report.repeated_pairs,
        "repeated_pairs_lower_bound": report.repeated_pairs_lower_bound,
        "gap": report.repeated_pairs - report.repeated_pairs_lower_bound,
        "pattern_compliance": report.pattern_compliance,
        "diversity_score": round(report.diversity_score, 4),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
    }


def small_table(cases: list[dict[str, Any]]) -> list[str]:
    """The small-summit cases as a Markdown table."""
    lines = [
        "| case | tables | repeated pairs | lower bound | gap | diversity | seconds (CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cases:
        lines.append(
            f"| {c['participants']} x {c['rounds']} | {c['tables']} | {c['repeated_pairs']} | "
            f"{c['repeated_pairs_lower_bound']} | {c['gap']} | {c['diversity_score']} | "
            f"{c['seconds']} ({c['cpu_seconds']}) |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--small-sizes", default="48,100,200,300,400")
    parser.add_argument("--small-rounds", default="3,4,5,6")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    for n in sizes:
        results[n] = run_case(n, args.rounds)
        print(json.dumps(results[n]))
    hosted_case = run_case(200, 4, with_hosts=True)
    print(json.dumps(hosted_case))
    small = [
        small_case(int(n), int(r))
        for n in args.small_sizes.split(",")
        for r in args.small_rounds.split(",")
    ]
    for line in small_table(small):
        print(line)
    main_case = results.get(1000, results[sizes[0]])
    summary = dict(main_case)
    summary["seconds_by_size"] = {str(n): r["seconds"] for n, r in results.items()}
    summary["repeated_pairs_by_size"] = {str(n): r["repeated_pairs"] for n, r in results.items()}
    summary["lower_bound_by_size"] = {
        str(n): r["repeated_pairs_lower_bound"] for n, r in results.items()
    }
    summary["hosted"] = hosted_case
    summary["small"] = small
    summary["small_gap_total"] = sum(int(c["gap"]) for c in small)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
