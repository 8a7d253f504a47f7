"""The opinion map (summit.forum.rules.opinion_map): groups from votes, consensus, representative
statements, the live (incremental) map, and agreement with Pol.is on a real conversation."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from summit.forum.rules.opinion_map import (
    MapSettings,
    OpinionMap,
    OpinionMapBuilder,
    Vote,
    build_map,
)

OPINION_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "opinion"
#: Fewer k-means starts keep the property tests quick; the method is the same.
QUICK = MapSettings(restarts=6)


def synthetic(
    groups: int, per_group: int, statements: int, seed: int, *, noise: float = 0.05
) -> tuple[list[Vote], dict[str, int], np.ndarray]:
    """Voters in ``groups`` opinion groups, each with its own agree/disagree pattern; votes
    arrive interleaved. A vote flips to pass or to the other side with probability ``noise``."""
    rng = np.random.default_rng(seed)
    patterns = rng.choice([-1, 1], size=(groups, statements))
    while len({tuple(p) for p in patterns}) < groups:
        patterns = rng.choice([-1, 1], size=(groups, statements))
    votes: list[Vote] = []
    truth: dict[str, int] = {}
    for i in range(per_group):
        for g in range(groups):
            voter = f"g{g}-{i}"
            truth[voter] = g
            for s in rng.permutation(statements):
                value = int(patterns[g, s])
                roll = rng.random()
                if roll < noise / 2:
                    value = 0
                elif roll < noise:
                    value = -value
                votes.append(Vote(voter, f"s{s}", value))
    return votes, truth, patterns


def ari(found: OpinionMap, truth: dict[str, int]) -> float:
    voters = sorted(set(found.groups) & set(truth))
    return float(adjusted_rand_score([truth[v] for v in voters], [found.groups[v] for v in voters]))


def group_of_pattern(found: OpinionMap, truth: dict[str, int], pattern: int) -> int:
    members = [found.groups[v] for v, g in truth.items() if g == pattern and v in found.groups]
    return max(set(members), key=members.count)


# --- known groups -----------------------------------------------------------------------------


@pytest.mark.parametrize("groups", [2, 3])
def test_finds_known_groups(groups: int) -> None:
    votes, truth, _ = synthetic(groups, per_group=30, statements=24, seed=7)
    found = build_map(votes, seed=1)
    assert found.n_groups == groups
    assert ari(found, truth) == 1.0
    assert set(found.groups) == set(truth)
    assert set(found.coordinates) == set(found.groups)
    assert sum(g.size for g in found.summaries) == len(truth)


def test_representative_statements_follow_each_groups_stance() -> None:
    votes, truth, patterns = synthetic(3, per_group=25, statements=18, seed=3, noise=0.0)
    found = build_map(votes)
    for pattern in range(3):
        summary = found.summaries[group_of_pattern(found, truth, pattern)]
        assert summary.representative, "every group gets at least one representative statement"
        for stance in summary.representative:
            expected = int(patterns[pattern, int(stance.statement[1:])])
            assert stance.stance == ("agree" if expected == 1 else "disagree")
            assert stance.agree == (1.0 if expected == 1 else 0.0)
            assert stance.disagree == (0.0 if expected == 1 else 1.0)
            assert stance.votes == 25
            assert stance.ratio > 1 and stance.z > 1.2816


def test_consensus_is_what_every_group_shares() -> None:
    votes, truth, _ = synthetic(2, per_group=20, statements=16, seed=11, noise=0.0)
    for voter in truth:
        votes.append(Vote(voter, "everyone-agrees", 1))
        votes.append(Vote(voter, "everyone-disagrees", -1))
        votes.append(Vote(voter, "split", 1 if truth[voter] == 0 else -1))
    found = build_map(votes)
    stances = {c.statement: c for c in found.consensus}
    assert stances["everyone-agrees"].stance == "agree"
    assert stances["everyone-disagrees"].stance == "disagree"
    assert "split" not in stances
    assert stances["everyone-agrees"].shares == (21 / 22, 21 / 22) or all(
        abs(s - 21 / 22) < 1e-6 for s in stances["everyone-agrees"].shares
    )
    assert abs(stances["everyone-agrees"].score - (21 / 22) ** 2) < 1e-6


def test_a_later_vote_replaces_the_earlier_one() -> None:
    votes, _, _ = synthetic(2, per_group=12, statements=10, seed=5)
    changed = [*votes, Vote("g0-0", "s0", 0), Vote("g0-0", "s0", -1)]
    final = [v for v in votes if not (v.voter == "g0-0" and v.statement == "s0")]
    final.append(Vote("g0-0", "s0", -1))
    assert build_map(changed).votes == len(votes)
    # The same final votes give the same groups and positions (vote order aside).
    a, b = build_map(changed), build_map(final)
    assert a.groups == b.groups and a.coordinates == b.coordinates


def test_voters_with_few_votes_wait_until_they_reach_the_threshold() -> None:
    votes, truth, _ = synthetic(2, per_group=15, statements=12, seed=9)
    votes += [Vote("newcomer", f"s{s}", 1) for s in range(6)]
    found = build_map(votes)
    assert "newcomer" not in found.groups and found.voters == len(truth) + 1
    found = build_map([*votes, Vote("newcomer", "s6", 1)])
    assert "newcomer" in found.groups


def test_a_small_conversation_takes_its_most_active_voters() -> None:
    votes = [
        Vote(f"v{i}", f"s{s}", 1 if (i + s) % 2 else -1) for i in range(20) for s in range(i % 4)
    ]
    found = build_map([*votes, Vote("v0", "s9", 1)])
    # Nobody reached min(7, 10) votes: the 15 most active voters are on the map.
    assert len(found.groups) == 15
    assert all(v in found.groups for v in ("v3", "v7", "v11", "v15", "v19"))


def test_excluded_statements_count_as_passes_and_are_never_reported() -> None:
    votes, truth, _ = synthetic(2, per_group=15, statements=12, seed=13, noise=0.0)
    votes += [Vote(v, "rejected", 1) for v in truth]
    found = build_map(votes, excluded_statements=["rejected"])
    assert found.excluded == ("rejected",)
    reported = {c.statement for c in found.consensus} | {
        s.statement for g in found.summaries for s in g.representative
    }
    assert "rejected" not in reported
    assert ari(found, truth) == 1.0
    # Excluding it later on the live map gives the same map as excluding it from the start.
    builder = OpinionMapBuilder(settings=QUICK)
    builder.add_votes(votes)
    assert (
        builder.snapshot().to_json()
        != build_map(votes, excluded_statements=["rejected"], settings=QUICK).to_json()
    )
    builder.exclude_statement("rejected")
    assert builder.rebuild_due
    assert (
        builder.snapshot().to_json()
        == build_map(votes, excluded_statements=["rejected"], settings=QUICK).to_json()
    )


def test_empty_and_tiny_maps() -> None:
    empty = build_map([])
    assert empty.n_groups == 0 and empty.groups == {} and json.loads(empty.to_json())["votes"] == 0
    one = build_map([Vote("a", "s1", 1), Vote("a", "s2", -1)])
    assert one.groups == {"a": 0} and one.n_groups == 1 and one.coordinates["a"] == (0.0, 0.0)
    same = build_map([Vote(v, "s1", 1) for v in "abcdef"])
    assert set(same.groups.values()) == {0}


def test_json_export_holds_everything() -> None:
    votes, truth, _ = synthetic(2, per_group=10, statements=8, seed=2)
    found = build_map(votes, seed="summit-public-seed")
    data = json.loads(found.to_json())
    assert data["seed"] == found.seed and data["votes"] == len(votes)
    assert set(data["participants"]) == set(truth)
    assert {"group", "x", "y"} == set(data["participants"]["g0-0"])
    assert [g["id"] for g in data["groups"]] == list(range(found.n_groups))
    assert data["groups"][0]["size"] >= data["groups"][-1]["size"]
    assert {"statement", "stance", "agree", "disagree", "pass", "votes", "ratio", "z"} == set(
        data["groups"][0]["representative"][0]
    )
    assert build_map(votes, seed="summit-public-seed").to_json() == found.to_json()


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [2, -2, 5, 1.0, "1", "agree", None, True])
def test_unknown_vote_values_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match=r"Vote\.value"):
        Vote("a", "s1", value)  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["voter", "statement"])
def test_votes_need_a_voter_and_a_statement(field: str) -> None:
    given_fields: dict[str, object] = {"voter": "a", "statement": "s1", "value": 1}
    given_fields[field] = ""
    with pytest.raises(ValueError, match=rf"Vote\.{field}"):
        Vote(**given_fields)  # type: ignore[arg-type]
    given_fields[field] = 7
    with pytest.raises(ValueError, match=rf"Vote\.{field}"):
        Vote(**given_fields)  # type: ignore[arg-type]


def test_numpy_integers_are_votes_too() -> None:
    assert Vote("a", "s", np.int64(-1)).value == -1  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_groups", 0), ("min_group_share", 0.7), ("consensus_share", 0.4), ("restarts", 1.5)],
)
def test_bad_settings_name_the_field(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=rf"MapSettings\.{field}"):
        MapSettings(**{field: value})  # type: ignore[arg-type]


def test_only_votes_go_into_the_builder() -> None:
    with pytest.raises(ValueError, match="Vote"):
        OpinionMapBuilder().add_vote(("a", "s1", 1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed"):
        OpinionMapBuilder(seed=1.5)  # type: ignore[arg-type]


# --- the live map -----------------------------------------------------------------------------


def test_a_new_vote_reaches_the_map_before_any_rebuild() -> None:
    votes, truth, patterns = synthetic(3, per_group=20, statements=15, seed=21)
    builder = OpinionMapBuilder(settings=MapSettings(rebuild_min_votes=10_000))
    builder.add_votes(votes)
    built = builder.snapshot()
    assert not builder.rebuild_due
    for pattern in range(3):
        voter = f"late-{pattern}"
        for s in range(15):
            builder.add_vote(Vote(voter, f"s{s}", int(patterns[pattern, s])))
        assert builder.group_of(voter) == group_of_pattern(built, truth, pattern)
    live = builder.snapshot()
    assert live.votes == len(votes) + 45
    assert sum(g.size for g in live.summaries) == len(truth) + 3
    # A voter changing sides moves to the other group, tallies and all.
    for s in range(15):
        builder.add_vote(Vote("late-0", f"s{s}", int(patterns[1, s])))
    assert builder.group_of("late-0") == group_of_pattern(built, truth, 1)
    assert_tallies_match(builder)
    builder.rebuild()
    assert builder.snapshot().groups["late-0"] == builder.group_of("late-0")


def test_statements_new_since_the_last_build_are_reported_too() -> None:
    votes, truth, _ = synthetic(2, per_group=12, statements=8, seed=4, noise=0.0)
    builder = OpinionMapBuilder(settings=MapSettings(rebuild_min_votes=10_000))
    builder.add_votes(votes)
    builder.snapshot()
    builder.add_vote(Vote("passer-by", "brand-new", 1))  # not on the map: no tally yet
    assert builder.snapshot().statements == 9
    for voter in truth:
        builder.add_vote(Vote(voter, "also-new", 1))
    found = builder.snapshot()
    assert "also-new" in {c.statement for c in found.consensus}
    assert_tallies_match(builder)


def assert_tallies_match(builder: OpinionMapBuilder) -> None:
    """The incrementally kept group tallies equal a recount from the current groups."""
    snapshot = builder.snapshot()
    statements = list(builder._statements)
    recount = np.zeros((len(statements), max(snapshot.n_groups, 1), 3))
    slot = {1: 0, -1: 1, 0: 2}
    for voter, group in snapshot.groups.items():
        for statement, value in builder._ballots[voter].items():
            recount[statements.index(statement), group, slot[value]] += 1
    kept = builder._tally[: len(statements), : recount.shape[1]]
    reported = [i for i, s in enumerate(statements) if s not in snapshot.excluded]
    assert np.array_equal(kept[reported], recount[reported])


# --- properties -------------------------------------------------------------------------------

vote_lists = st.lists(
    st.tuples(st.integers(0, 24), st.integers(0, 11), st.sampled_from([-1, 0, 1])),
    min_size=1,
    max_size=160,
)


def as_votes(raw: list[tuple[int, int, int]]) -> list[Vote]:
    return [Vote(f"v{v}", f"s{s}", x) for v, s, x in raw]


@settings(deadline=None, max_examples=25)
@given(raw=vote_lists, seed=st.integers(0, 2**32 - 1))
def test_same_votes_and_seed_give_the_same_map(raw: list[tuple[int, int, int]], seed: int) -> None:
    votes = as_votes(raw)
    first = build_map(votes, seed=seed, settings=QUICK)
    again = build_map(list(votes), seed=seed, settings=QUICK)
    assert first.to_json() == again.to_json()
    assert set(first.groups) == set(first.coordinates)
    assert all(0 <= g < first.n_groups for g in first.groups.values())


@settings(deadline=None, max_examples=20)
@given(
    groups=st.integers(2, 3),
    per_group=st.integers(6, 16),
    statements=st.integers(7, 16),
    seed=st.integers(0, 10_000),
    pick=st.integers(0, 1_000),
)
def test_a_voter_voting_like_a_member_joins_that_members_group(
    groups: int, per_group: int, statements: int, seed: int, pick: int
) -> None:
    votes, truth, _ = synthetic(groups, per_group, statements, seed, noise=0.1)
    member = sorted(truth)[pick % len(truth)]
    twin = [Vote("twin", v.statement, v.value) for v in votes if v.voter == member]
    found = build_map(votes + twin, seed=seed, settings=QUICK)
    assert found.groups["twin"] == found.groups[member]
    assert found.coordinates["twin"] == found.coordinates[member]
    # On the live map the twin is placed at once, without a rebuild.
    builder = OpinionMapBuilder(seed=seed, settings=QUICK, auto_rebuild=False)
    builder.add_votes(votes)
    builder.rebuild()
    builder.add_votes(twin)
    assert builder.group_of("twin") == builder.group_of(member)


@settings(deadline=None, max_examples=20)
@given(raw=vote_lists, seed=st.integers(0, 1000), excluded=st.sets(st.integers(0, 11), max_size=2))
def test_incremental_updates_agree_with_a_full_rebuild(
    raw: list[tuple[int, int, int]], seed: int, excluded: set[int]
) -> None:
    votes = as_votes(raw)
    out = [f"s{s}" for s in sorted(excluded)]
    quick = MapSettings(restarts=4, rebuild_min_votes=25)
    builder = OpinionMapBuilder(seed=seed, excluded_statements=out, settings=quick)
    for vote in votes:
        builder.add_vote(vote)
    assert_tallies_match(builder)
    builder.rebuild()
    full = build_map(votes, seed=seed, excluded_statements=out, settings=quick)
    assert builder.snapshot().to_json() == full.to_json()


# --- a real conversation ----------------------------------------------------------------------


def test_agrees_with_polis_on_a_real_conversation() -> None:
    folder = OPINION_DATA / "15-per-hour-seattle"
    if not (folder / "votes.csv").is_file():
        pytest.skip(f"no opinion data at {folder}")
    with (folder / "votes.csv").open(encoding="utf-8", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["timestamp"]))
    with (folder / "comments.csv").open(encoding="utf-8", newline="") as f:
        excluded = [r["comment-id"] for r in csv.DictReader(f) if r["moderated"] == "-1"]
    with (folder / "participants-votes.csv").open(encoding="utf-8", newline="") as f:
        polis = {r["participant"]: int(r["group-id"]) for r in csv.DictReader(f) if r["group-id"]}
    votes = [Vote(r["voter-id"], r["comment-id"], int(r["vote"])) for r in rows]
    found = build_map(votes, excluded_statements=excluded)
    assert found.n_groups == len(set(polis.values()))
    assert len(set(found.groups) & set(polis)) >= 0.95 * len(polis)
    assert ari(found, polis) >= 0.8
