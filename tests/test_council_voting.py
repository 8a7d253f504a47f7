"""The voting rules as properties: majority of members, dot-vote tallies, tie-breaks, receipts,
blind-signed voting keys and the public recount."""

from __future__ import annotations

import functools
import hashlib
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from summit.core.rules.roles import council_threshold
from summit.council.rules.credentials import (
    PrivateKey,
    PublishedBallot,
    VotingKey,
    ballot_receipt,
    credential_of,
    full_domain_hash,
    generate_key,
    recount,
    seal_private,
    unseal_private,
    verify,
)
from summit.council.rules.voting import (
    MAX_BALLOT_VERSIONS,
    VotingError,
    council_results,
    normalise_receipt,
    proposal_result,
    rank,
    receipt_key,
    receipts_digest,
    shortlist,
    tally,
    tie_break_key,
    validate_allocation,
    validate_table_tally,
)
from tests.support.i18n import english  # noqa: F401  (the rules' messages in English)

members_st = st.integers(min_value=1, max_value=5000)


@given(members_st)
def test_the_threshold_is_the_smallest_strict_majority_of_members(members: int) -> None:
    threshold = council_threshold(members)
    assert 2 * threshold > members  # a majority of the members...
    assert 2 * (threshold - 1) <= members  # ...and the smallest one
    assert council_threshold(members + 1) >= threshold


def test_the_scenario_numbers() -> None:
    assert council_threshold(1000) == 501
    assert council_threshold(48) == 25
    assert council_threshold(1) == 1
    with pytest.raises(ValueError):
        council_threshold(0)


@given(st.data(), members_st)
def test_adoption_depends_only_on_votes_for_against_the_members(
    data: st.DataObject, members: int
) -> None:
    votes_for = data.draw(st.integers(0, members))
    against = data.draw(st.integers(0, members - votes_for))
    abstain = data.draw(st.integers(0, members - votes_for - against))
    result = proposal_result(1, members, votes_for, against, abstain)
    assert result.adopted == (votes_for >= council_threshold(members))
    assert result.not_voted == members - votes_for - against - abstain >= 0
    # Against votes and abstentions never change the outcome: the rule counts members.
    assert proposal_result(1, members, votes_for, 0, 0).adopted == result.adopted
    # Two proposals cannot both be adopted against each other by disjoint majorities.
    if result.adopted:
        assert members - votes_for < council_threshold(members)


def test_more_ballots_than_members_is_refused_and_names_the_field() -> None:
    with pytest.raises(VotingError, match="ballots"):
        proposal_result(7, 3, 2, 2, 0)
    with pytest.raises(VotingError, match=r"^for:"):
        proposal_result(7, 3, -1, 0, 0)


@given(
    st.integers(1, 60),
    st.lists(st.tuples(st.sampled_from([1, 2, 3]), st.sampled_from(["for", "against", "abstain"]))),
)
def test_council_results_count_each_ballot_once(
    members: int, ballots: list[tuple[int, str]]
) -> None:
    ballots = ballots[:members]  # at most one counted ballot per member per proposal
    per = {p: [c for q, c in ballots if q == p] for p in (1, 2, 3)}
    results = council_results(members, [1, 2, 3], ballots)
    assert [r.proposal for r in results] == [1, 2, 3]
    for r in results:
        assert (r.votes_for, r.against, r.abstain) == (
            per[r.proposal].count("for"),
            per[r.proposal].count("against"),
            per[r.proposal].count("abstain"),
        )
    assert sum(r.cast for r in results) == len(ballots)


items_st = st.lists(
    st.from_regex(r"theme:[1-9][0-9]{0,3}", fullmatch=True), min_size=1, max_size=15, unique=True
)


@st.composite
def allocations(draw: st.DrawFn) -> tuple[list[str], int, list[dict[str, int]]]:
    items = draw(items_st)
    budget = draw(st.integers(1, 10))
    people = []
    for _ in range(draw(st.integers(0, 30))):
        left = budget
        dots: dict[str, int] = {}
        for item in draw(st.permutations(items)):
            give = draw(st.integers(0, left))
            if give:
                dots[item] = give
            left -= give
        people.append(dots)
    return items, budget, people


@given(allocations())
def test_tallies_add_every_valid_dot_exactly_once(case: tuple[Any, ...]) -> None:
    items, budget, people = case
    for dots in people:
        assert validate_allocation(dots, items, budget) == dots
    totals = tally(items, people)
    assert set(totals) == set(items)
    assert sum(totals.values()) == sum(sum(d.values()) for d in people)
    shuffled = list(people)
    random.Random(len(people)).shuffle(shuffled)
    assert tally(items, shuffled) == totals


@given(items_st, st.integers(1, 5), st.integers(0, 20))
def test_an_allocation_over_budget_or_cap_is_refused(
    items: list[str], budget: int, extra: int
) -> None:
    over = {items[0]: budget + 1 + extra}
    with pytest.raises(VotingError, match="dots"):
        validate_allocation(over, items, budget)
    with pytest.raises(VotingError, match="not on this vote"):
        validate_allocation({"theme:0": 1}, items, budget)
    with pytest.raises(VotingError, match="negative"):
        validate_allocation({items[0]: -1}, items, budget)
    if len(items) > 1 and budget > 1:
        split = {items[0]: 1, items[1]: budget}
        with pytest.raises(VotingError, match=f"only {budget} to distribute"):
            validate_allocation(split, items, budget)
        with pytest.raises(VotingError, match="at most 1"):
            validate_allocation({items[0]: 2}, items, budget, per_item_cap=1)


@given(items_st, st.integers(1, 5), st.integers(0, 8))
def test_a_table_tally_is_bounded_by_its_paper_voters(
    items: list[str], budget: int, voters: int
) -> None:
    full = {items[0]: budget * voters}
    assert validate_table_tally(full, items, budget, voters) == ({} if not voters else full)
    with pytest.raises(VotingError):
        validate_table_tally({items[0]: budget * voters + 1}, items, budget, voters)


totals_st = st.dictionaries(
    st.from_regex(r"(theme|proposal):[1-9][0-9]{0,3}", fullmatch=True),
    st.integers(0, 8),
    min_size=1,
    max_size=20,
)


@given(totals_st, st.text(min_size=1, max_size=20), st.integers(1, 25))
def test_the_shortlist_is_the_top_k_with_a_reproducible_tie_break(
    totals: dict[str, int], seed: str, size: int
) -> None:
    result = shortlist(totals, size, seed)
    assert len(result.chosen) == min(size, len(totals))
    chosen = {r.item for r in result.chosen}
    left_out = set(totals) - chosen
    assert all(totals[a] >= totals[b] for a in chosen for b in left_out)
    # Equal votes: smaller SHA-256(seed:item) first, which anyone can recompute.
    for first, second in zip(result.ranking, result.ranking[1:], strict=False):
        assert (first.votes, second.tie_key) >= (second.votes, first.tie_key)
        assert first.tie_key == hashlib.sha256(f"{seed}:{first.item}".encode()).hexdigest()
    # The order of the input does not matter.
    reversed_input = dict(reversed(list(totals.items())))
    assert shortlist(reversed_input, size, seed).ranking == result.ranking
    # Every group of equal votes is recorded; crosses_cut says it decided the shortlist.
    for tie in result.ties:
        assert len(tie.items) >= 2 and all(totals[i] == tie.votes for i in tie.items)
        inside = [i for i in tie.items if i in chosen]
        assert tie.crosses_cut == (0 < len(inside) < len(tie.items))
    assert [r.rank for r in rank(totals, seed)] == list(range(1, len(totals) + 1))


def test_the_tie_break_is_documented_sha256() -> None:
    assert tie_break_key("dice-3-5", "theme:12") == hashlib.sha256(b"dice-3-5:theme:12").hexdigest()
    with pytest.raises(VotingError, match="seed"):
        rank({"theme:1": 1}, "")
    with pytest.raises(VotingError, match="shortlist_size"):
        shortlist({"theme:1": 1}, 0, "s")


@functools.cache
def ballot_key() -> PrivateKey:
    return generate_key()


@settings(max_examples=50)
@given(st.integers(1, 10**6), st.integers(1, 10**6), st.binary(min_size=32, max_size=32))
def test_receipts_are_stable_distinct_and_follow_from_the_key(
    vote: int, proposal: int, secret: bytes
) -> None:
    credential = credential_of(secret.hex())
    code = ballot_receipt(vote, credential, proposal, 1)
    assert code == ballot_receipt(vote, credential, proposal, 1)
    assert normalise_receipt(code.lower().replace("-", " ")) == code
    assert len(code) == 19 and code.count("-") == 3
    versions = {ballot_receipt(vote, credential, proposal, v) for v in range(1, 21)}
    assert len(versions) == MAX_BALLOT_VERSIONS
    other = bytes([secret[0] ^ 1]) + secret[1:]
    assert ballot_receipt(vote, credential_of(other.hex()), proposal, 1) != code


def test_receipt_input_is_checked() -> None:
    with pytest.raises(VotingError, match="version"):
        ballot_receipt(1, "0" * 64, 1, MAX_BALLOT_VERSIONS + 1)
    with pytest.raises(VotingError, match="receipt"):
        normalise_receipt("ABCD-EFGH")
    with pytest.raises(VotingError, match="secret"):
        receipt_key("short")


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 10**6), st.integers(1, 10**6))
def test_a_blind_signature_verifies_and_the_signer_cannot_tell_whose_it_is(
    vote: int, other_vote: int
) -> None:
    private = ballot_key()
    mine, theirs = VotingKey.new(private.public, vote), VotingKey.new(private.public, vote)
    signature = mine.unblind(private.sign_blinded(mine.blinded))
    assert verify(private.public, vote, mine.credential, signature)
    assert not verify(private.public, vote, theirs.credential, signature)
    if other_vote != vote:
        assert not verify(private.public, other_vote, mine.credential, signature)
    # Blindness: the value the server signed fits any other key just as well, with another
    # blinding factor, so it says nothing about which key it became.
    n = private.public.n
    h_theirs = full_domain_hash(private.public, vote, theirs.credential)
    factor = private.sign_blinded(mine.blinded * pow(h_theirs, -1, n) % n)
    assert h_theirs * pow(factor, private.public.e, n) % n == mine.blinded


def test_the_recount_checks_every_key_and_receipt_and_counts_the_latest() -> None:
    private, vote = ballot_key(), 7
    keys = [VotingKey.new(private.public, vote) for _ in range(3)]
    signatures = {k.credential: k.unblind(private.sign_blinded(k.blinded)) for k in keys}

    def ballot(key: VotingKey, proposal: int, version: int, choice: str) -> PublishedBallot:
        receipt = ballot_receipt(vote, key.credential, proposal, version)
        return PublishedBallot(receipt, key.credential, proposal, version, choice)

    ballots = [
        ballot(keys[0], 1, 1, "for"),
        ballot(keys[0], 1, 2, "against"),  # changed: only this one counts
        ballot(keys[1], 1, 1, "for"),
        ballot(keys[2], 2, 1, "abstain"),
    ]
    assert recount(private.public, vote, signatures, ballots) == {
        1: {"for": 1, "against": 1, "abstain": 0},
        2: {"for": 0, "against": 0, "abstain": 1},
    }
    forged = VotingKey.new(private.public, vote)
    with pytest.raises(VotingError, match="does not check out"):
        recount(private.public, vote, {**signatures, forged.credential: 2}, ballots)
    moved = [*ballots[:3], PublishedBallot(ballots[0].receipt, keys[2].credential, 2, 1, "for")]
    with pytest.raises(VotingError, match="does not follow"):
        recount(private.public, vote, signatures, moved)


def test_the_sealed_ballot_key_opens_only_with_the_server_secret() -> None:
    private = ballot_key()
    key = receipt_key("a server secret of enough length")
    sealed = seal_private(private, key)
    assert unseal_private(private.public, sealed, key) == private
    with pytest.raises(VotingError, match="secret changed"):
        unseal_private(private.public, sealed, receipt_key("another secret of enough length"))


@given(
    st.lists(st.tuples(st.text(max_size=5), st.integers(1, 9), st.sampled_from(["for", "abstain"])))
)
def test_the_receipts_digest_ignores_order(rows: list[tuple[str, int, str]]) -> None:
    assert receipts_digest(rows) == receipts_digest(list(reversed(rows)))
