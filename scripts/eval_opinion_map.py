"""Evaluate the opinion map against Pol.is's own opinion groups on real conversations.

Reads Pol.is exports (one folder per conversation: ``votes.csv``, ``comments.csv``,
``participants-votes.csv``, ``summary.csv``; see ``shared/data/opinion/README.md``). For each one
the map is built from ``votes.csv`` in time order, with the comments Pol.is moderated out
(``moderated == -1``) excluded, and compared with Pol.is:

- groups: adjusted Rand index with the ``group-id`` column of ``participants-votes.csv``, on the
  participants both place in a group; and the number of groups against ``summary.csv``;
- consensus: Pol.is's group-aware consensus recomputed from ``participants-votes.csv``: per
  accepted comment and Pol.is group, A = agrees and S = votes (agree, disagree or pass) of the
  group's members, score = product over groups of (A + 1) / (S + 2) (Pol.is's formula). A comment
  is consensus when every group's (A + 1) / (S + 2) is at least 0.6 (the map's rule, applied to
  both sides alike); also compared: the top 5 by score.

The last line printed is one JSON object: conversation -> {"ari", "groups", "groups_polis",
"participants"}. ``--bench`` instead times the live map at scale on synthetic votes.

    .venv/bin/python scripts/eval_opinion_map.py [--data DIR] [--seed 0] [--bench]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from summit.forum.rules.opinion_map import (  # noqa: E402
    MapSettings,
    OpinionMapBuilder,
    Vote,
    build_map,
    group_consensus,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared/data/opinion"
TOP = 5


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load_votes(folder: Path) -> list[Vote]:
    """Votes in the order they were cast (stable for equal timestamps)."""
    rows = _rows(folder / "votes.csv")
    rows.sort(key=lambda r: int(r["timestamp"]))
    return [Vote(r["voter-id"], r["comment-id"], int(r["vote"])) for r in rows]


def load_polis(folder: Path) -> tuple[dict[str, int], dict[str, dict[str, int]], int]:
    """Pol.is's group per clustered participant, every participant's votes, its group count."""
    groups: dict[str, int] = {}
    ballots: dict[str, dict[str, int]] = {}
    for row in _rows(folder / "participants-votes.csv"):
        pid = row["participant"]
        if row.get("group-id", "") != "":
            groups[pid] = int(row["group-id"])
        ballots[pid] = {
            key: int(value) for key, value in row.items() if key.isdigit() and value != ""
        }
    summary: dict[str, str] = {}
    with (folder / "summary.csv").open(encoding="utf-8", newline="") as f:
        for line in csv.reader(f):
            if len(line) >= 2:
                summary[line[0]] = line[1]
    return groups, ballots, int(summary.get("groups", "0") or 0)


def consensus_sets(
    groups: dict[str, int], ballots: dict[str, dict[str, int]], accepted: list[str], share: float
) -> tuple[set[str], list[str]]:
    """Consensus comments (every group >= share) and the top by Pol.is's group-aware score."""
    ids = sorted(set(groups.values()))
    tally = np.zeros((len(accepted), len(ids), 3))
    column = {c: i for i, c in enumerate(accepted)}
    slot = {1: 0, -1: 1, 0: 2}
    for pid, group in groups.items():
        for comment, value in ballots.get(pid, {}).items():
            if comment in column:
                tally[column[comment], ids.index(group), slot[value]] += 1
    score, _, agreed, _ = group_consensus(tally, share)
    found = {accepted[i] for i in np.flatnonzero(agreed)}
    voted = tally.sum(axis=(1, 2)) > 0
    order = sorted(np.flatnonzero(voted), key=lambda i: (-score[i], i))
    return found, [accepted[i] for i in order[:TOP]]


def evaluate(folder: Path, seed: int, settings: MapSettings) -> dict[str, Any]:
    votes = load_votes(folder)
    comments = _rows(folder / "comments.csv")
    excluded = [c["comment-id"] for c in comments if c["moderated"] == "-1"]
    accepted = [c["comment-id"] for c in comments if c["moderated"] != "-1"]
    started = time.perf_counter()
    found = build_map(votes, seed=seed, excluded_statements=excluded, settings=settings)
    seconds = time.perf_counter() - started
    polis, ballots, polis_k = load_polis(folder)
    both = sorted(set(found.groups) & set(polis), key=int)
    ari = adjusted_rand_score([polis[p] for p in both], [found.groups[p] for p in both])
    ours = {c.statement for c in found.consensus if c.stance == "agree"}
    ours_by_vote, ours_top = consensus_sets(
        dict(found.groups), ballots, accepted, settings.consensus_share
    )
    theirs, theirs_top = consensus_sets(polis, ballots, accepted, settings.consensus_share)
    return {
        "ari": round(float(ari), 3),
        "groups": found.n_groups,
        "groups_polis": polis_k,
        "participants": len(found.groups),
        "participants_polis": len(polis),
        "participants_both": len(both),
        "silhouette": round(found.silhouette, 3),
        "build_s": round(seconds, 2),
        "consensus": len(ours),
        "consensus_polis": len(theirs),
        "consensus_both": len(ours & theirs),
        "consensus_check": ours == ours_by_vote,
        "top_both": len(set(ours_top) & set(theirs_top)),
    }


def bench(seed: int) -> dict[str, Any]:
    """The live map at 10,000 statements and 200,000 votes: how fast one more vote shows."""
    rng = np.random.default_rng(seed)
    n_voters, n_statements, n_votes, n_groups = 10_000, 10_000, 200_000, 4
    leaning = rng.choice([-1, 1], size=(n_groups, n_statements), p=[0.4, 0.6])
    membership = rng.integers(0, n_groups, n_voters)
    pairs = np.unique(rng.integers(0, n_voters * n_statements, int(1.3 * n_votes)))
    rng.shuffle(pairs)
    voters, statements = np.divmod(pairs[:n_votes], n_statements)
    noise = rng.random(n_votes)
    values = np.where(noise < 0.1, 0, leaning[membership[voters], statements])
    values = np.where(noise > 0.9, -values, values)
    votes = [
        Vote(f"v{v}", f"s{s}", int(x)) for v, s, x in zip(voters, statements, values, strict=True)
    ]
    live = 200
    builder = OpinionMapBuilder(seed=seed, auto_rebuild=False)
    builder.add_votes(votes[:-live])
    started = time.perf_counter()
    builder.rebuild()
    rebuild_s = time.perf_counter() - started
    add, shown = [], []
    for vote in votes[-live:]:
        started = time.perf_counter()
        builder.add_vote(vote)
        add.append(time.perf_counter() - started)
        snapshot = builder.snapshot()
        shown.append(time.perf_counter() - started)
    add.sort()
    shown.sort()
    return {
        "votes": snapshot.votes,
        "statements": snapshot.statements,
        "voters_on_map": len(snapshot.groups),
        "groups": snapshot.n_groups,
        "rebuild_s": round(rebuild_s, 3),
        "add_vote_p95_ms": round(1000 * add[int(0.95 * live)], 3),
        "vote_to_snapshot_p95_ms": round(1000 * shown[int(0.95 * live)], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder of conversations")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bench", action="store_true", help="time the live map at scale")
    args = parser.parse_args()
    if args.bench:
        print(json.dumps(bench(args.seed), sort_keys=True))
        return
    if not args.data.is_dir():
        sys.exit(f"no conversations at {args.data}")
    settings = MapSettings()
    results: dict[str, dict[str, Any]] = {}
    for folder in sorted(p for p in args.data.iterdir() if (p / "votes.csv").is_file()):
        detail = evaluate(folder, args.seed, settings)
        print(folder.name, json.dumps(detail, sort_keys=True), flush=True)
        results[folder.name] = {
            key: detail[key] for key in ("ari", "groups", "groups_polis", "participants")
        }
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
