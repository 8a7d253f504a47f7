from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from summit.core.rules.draw import (
    MATCH,
    Commitment,
    DrawEntry,
    DrawError,
    HashRandom,
    SeedSpec,
    draw_index,
    draw_sample,
    extract_digest,
    make_commitment,
    normalise_seed,
    run_committed_draw,
    verify_draw,
)
from tests.support.i18n import english  # noqa: F401  (the rules' messages in English)


def reference_randbelow(seed: str, ns: list[int]) -> list[int]:
    """An independent re-implementation of the documented generator."""
    stream = b""
    counter = 0
    out = []
    for n in ns:
        bits = (n - 1).bit_length()
        width = (bits + 7) // 8
        while True:
            while len(stream) < width:
                stream += hashlib.sha256(seed.encode() + counter.to_bytes(8, "big")).digest()
                counter += 1
            chunk, stream = stream[:width], stream[width:]
            value = int.from_bytes(chunk, "big") & ((1 << bits) - 1) if bits else 0
            if value < n:
                out.append(value)
                break
    return out


def pool(n: int, households: int | None = None) -> list[DrawEntry]:
    return [
        DrawEntry(f"id{i:04d}", None if households is None else f"h{i % households}")
        for i in range(n)
    ]


def test_stream_is_sha256_of_seed_and_counter() -> None:
    rng = HashRandom("12345")
    expected = hashlib.sha256(b"12345" + (0).to_bytes(8, "big")).digest()
    expected += hashlib.sha256(b"12345" + (1).to_bytes(8, "big")).digest()
    assert rng.read(40) == expected[:40]


@given(st.text(min_size=1, max_size=20), st.lists(st.integers(2, 10**6), min_size=1, max_size=30))
def test_randbelow_matches_the_documented_algorithm(seed: str, ns: list[int]) -> None:
    rng = HashRandom(seed)
    mine = [rng.randbelow(n) for n in ns]
    assert mine == reference_randbelow(seed, ns)
    assert all(0 <= v < n for v, n in zip(mine, ns, strict=True))


def test_randbelow_is_roughly_uniform() -> None:
    rng = HashRandom("uniform")
    counts = [0] * 6
    for _ in range(6000):
        counts[rng.randbelow(6)] += 1
    assert all(850 < c < 1150 for c in counts)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n))),
    st.text(alphabet="0123456789", min_size=20, max_size=20),
    st.randoms(use_true_random=False),
)
def test_draw_is_pure_and_independent_of_row_order(
    sizes: tuple[int, int], seed: str, random: object
) -> None:
    n, k = sizes
    entries = pool(n)
    shuffled = list(entries)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    first = draw_sample(entries, k, seed)
    assert first == draw_sample(shuffled, k, seed)
    assert len(first) == k and len(set(first)) == k
    assert set(first) <= {e.pseudonym for e in entries}


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 40), st.integers(1, 15), st.text(min_size=1, max_size=10))
def test_no_household_twice(n: int, households: int, seed: str) -> None:
    entries = pool(n, households)
    k = min(households, n)
    sample = draw_sample(entries, k, seed, one_per_household=True)
    homes = {e.pseudonym: e.household for e in entries}
    assert len({homes[p] for p in sample}) == len(sample) == k


def test_too_many_households_requested() -> None:
    with pytest.raises(DrawError, match="households"):
        draw_sample(pool(10, 3), 4, "1", one_per_household=True)
    with pytest.raises(DrawError, match="duplicate"):
        draw_sample([DrawEntry("a"), DrawEntry("a")], 1, "1")


def test_different_seeds_give_different_draws() -> None:
    entries = pool(200)
    assert draw_sample(entries, 20, "1" * 20) != draw_sample(entries, 20, "2" * 20)


def test_normalise_seed() -> None:
    assert normalise_seed(" 12 34-56,78.90 12 34 56 78 90 ") == "12345678901234567890"
    with pytest.raises(DrawError, match="expected 20"):
        normalise_seed("123")
    with pytest.raises(DrawError, match="0-9"):
        normalise_seed("1234567890123456789a")
    with pytest.raises(DrawError, match="empty"):
        normalise_seed("   ")
    beacon = SeedSpec("beacon", 32)
    assert normalise_seed("0xABCDEF" + "0" * 26, beacon) == "abcdef" + "0" * 26
    with pytest.raises(DrawError, match="hexadecimal"):
        normalise_seed("xyz" * 20, beacon)
    with pytest.raises(DrawError, match="at least"):
        normalise_seed("abc", beacon)


def test_commitment_canonical_form_and_hash() -> None:
    entries = pool(50, 20)
    c = make_commitment(entries, 10, one_per_household=True, software_version="0.1.0")
    data = json.loads(c.canonical())
    assert data["extract_hash"] == extract_digest(reversed(entries))
    assert c.canonical() == json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    assert Commitment.from_dict(data) == c
    assert c.hash == hashlib.sha256(c.canonical()).hexdigest()
    other = make_commitment(entries, 11, one_per_household=True, software_version="0.1.0")
    assert other.hash != c.hash
    with pytest.raises(DrawError, match="commitment"):
        Commitment.from_dict({"pool_size": 3})


def test_verify_match_and_first_difference() -> None:
    entries = pool(300, 150)
    c = make_commitment(entries, 25, one_per_household=True, software_version="0.1.0")
    seed = "31415 92653 58979 32384"
    drawn = run_committed_draw(entries, c, seed)
    result = verify_draw(entries, c, seed, drawn, published_commitment_hash=c.hash)
    assert result.ok and str(result) == MATCH

    tampered = list(drawn)
    tampered[3] = "id9999"
    result = verify_draw(entries, c, seed, tampered)
    assert not result.ok and result.message.startswith("position 3")

    assert "length" in verify_draw(entries, c, seed, drawn[:-1]).message
    assert not verify_draw(entries, c, "2" * 20, drawn).ok
    assert "extract" in verify_draw(entries[1:], c, seed, drawn).message
    wrong = verify_draw(entries, c, seed, drawn, published_commitment_hash="0")
    assert "commitment hash" in wrong.message
    assert "dice" in verify_draw(entries, c, "12", drawn).message
    with pytest.raises(DrawError, match="extract"):
        run_committed_draw(entries[1:], c, seed)


@given(st.text(min_size=1, max_size=30), st.integers(1, 5000))
def test_draw_index_in_range_and_deterministic(seed: str, m: int) -> None:
    index = draw_index(seed, m)
    assert 0 <= index < m
    assert index == draw_index(seed, m)
