"""Finite fields and the affine design used to start small seatings without repeated pairs."""

from __future__ import annotations

import itertools

import pytest

from summit.seating.rules.field import affine_table, field, prime_power


@pytest.mark.parametrize("q", [2, 3, 4, 5, 7, 8, 9, 16, 25, 27])
def test_field_axioms(q: int) -> None:
    gf = field(q)
    elems = range(q)
    for a in elems:
        assert gf.add[a][0] == a and gf.mul[a][1] == a and gf.mul[a][0] == 0
        assert gf.add[a][gf.neg(a)] == 0
        if a:
            assert gf.mul[a][gf.inv(a)] == 1
        for b in elems:
            assert gf.add[a][b] == gf.add[b][a] and gf.mul[a][b] == gf.mul[b][a]
    sample = list(elems) if q <= 9 else list(range(0, q, 3))
    for a, b, c in itertools.product(sample, repeat=3):
        assert gf.add[gf.add[a][b]][c] == gf.add[a][gf.add[b][c]]
        assert gf.mul[gf.mul[a][b]][c] == gf.mul[a][gf.mul[b][c]]
        assert gf.mul[a][gf.add[b][c]] == gf.add[gf.mul[a][b]][gf.mul[a][c]]


def test_prime_power_recognition() -> None:
    expected = [2, 3, 4, 5, 7, 8, 9, 11, 13, 16, 17, 19, 23, 25, 27, 29]
    assert [q for q in range(2, 30) if prime_power(q)] == expected
    assert prime_power(27) == (3, 3) and prime_power(1) is None
    with pytest.raises(ValueError):
        field(6)


@pytest.mark.parametrize("q", [4, 5, 7, 8, 9])
def test_affine_design_never_repeats_a_pair(q: int) -> None:
    gf = field(q)
    people = [(i, j) for i in range(1, q) for j in range(q)]
    hosts = [("host", k) for k in range(q)]
    met: set[frozenset[object]] = set()
    for r in range(q):
        tables: dict[int, list[object]] = {k: [h] for k, h in enumerate(hosts)}
        for i, j in people:
            tables[affine_table(gf, i, j, r)].append((i, j))
        for seated in tables.values():
            # one host and exactly one person of every class at every table
            assert sorted(p[0] for p in seated[1:]) == list(range(1, q))  # type: ignore[index]
            for a, b in itertools.combinations(seated, 2):
                pair = frozenset((a, b))
                assert pair not in met
                met.add(pair)
