"""Finite fields GF(q) for prime powers q, and the affine resolvable design built on them.

Elements of GF(p^k) are the integers 0 .. q-1, read as polynomials over GF(p) in base p
(digit d is the coefficient of x^d). Multiplication is done modulo the first monic
irreducible polynomial of degree k found in lexicographic order, so the tables are fixed
and reproducible.

The affine design: a person labelled (i, j) with i a nonzero field element (their class)
and j any element sits in round r at table j + r*i. Two people of different classes meet
in exactly one round r = (j - j') / (i' - i); people of one class never meet; a host fixed
at table k meets (i, j) only in round r = (k - j) / i. So over distinct rounds no pair
meets twice, and every table gets exactly one person of each class in every round.
"""

from __future__ import annotations

from dataclasses import dataclass


def prime_power(q: int) -> tuple[int, int] | None:
    """(p, k) with q == p**k for a prime p, or None."""
    if q < 2:
        return None
    p = 2
    while p * p <= q and q % p:
        p += 1
    if q % p:
        p = q
    k, rest = 0, q
    while rest % p == 0:
        rest //= p
        k += 1
    return (p, k) if rest == 1 else None


def _digits(value: int, p: int, k: int) -> list[int]:
    out = []
    for _ in range(k):
        out.append(value % p)
        value //= p
    return out


def _number(digits: list[int], p: int) -> int:
    value = 0
    for d in reversed(digits):
        value = value * p + d
    return value


def _poly_mul_mod(a: list[int], b: list[int], modulus: list[int], p: int) -> list[int]:
    k = len(modulus) - 1
    prod = [0] * (2 * k)
    for i, x in enumerate(a):
        if x:
            for j, y in enumerate(b):
                prod[i + j] = (prod[i + j] + x * y) % p
    for deg in range(len(prod) - 1, k - 1, -1):
        c = prod[deg]
        if c:
            for t in range(k + 1):
                prod[deg - k + t] = (prod[deg - k + t] - c * modulus[t]) % p
    return prod[:k]


def _irreducible(p: int, k: int) -> list[int]:
    """The first monic irreducible polynomial of degree k over GF(p) (coefficients low first)."""
    if k == 1:
        return [0, 1]
    for low in range(p**k):
        poly = [*_digits(low, p, k), 1]
        if poly[0] == 0:
            continue
        # Irreducible when no monic polynomial of degree 1..k//2 divides it.
        factors = ([*_digits(m, p, d), 1] for d in range(1, k // 2 + 1) for m in range(p**d))
        if not any(_divides(f, poly, p) for f in factors):
            return poly
    raise ValueError("no irreducible polynomial")  # pragma: no cover - one always exists


def _divides(divisor: list[int], poly: list[int], p: int) -> bool:
    rest = list(poly)
    d = len(divisor) - 1
    for deg in range(len(rest) - 1, d - 1, -1):
        c = rest[deg]
        if c:
            for t in range(d + 1):
                rest[deg - d + t] = (rest[deg - d + t] - c * divisor[t]) % p
    return not any(rest[:d])


@dataclass(frozen=True)
class Field:
    """GF(q) with addition, multiplication and inverse tables."""

    q: int
    add: tuple[tuple[int, ...], ...]
    mul: tuple[tuple[int, ...], ...]

    def neg(self, a: int) -> int:
        return self.add[a].index(0)

    def sub(self, a: int, b: int) -> int:
        return self.add[a][self.neg(b)]

    def inv(self, a: int) -> int:
        if a == 0:
            raise ZeroDivisionError("0 has no inverse")
        return self.mul[a].index(1)

    def div(self, a: int, b: int) -> int:
        return self.mul[a][self.inv(b)]


def field(q: int) -> Field:
    """GF(q); ValueError when q is not a prime power."""
    pk = prime_power(q)
    if pk is None:
        raise ValueError(f"{q} is not a prime power")
    p, k = pk
    modulus = _irreducible(p, k)
    digits = [_digits(v, p, k) for v in range(q)]
    add = tuple(
        tuple(
            _number([(x + y) % p for x, y in zip(digits[a], digits[b], strict=True)], p)
            for b in range(q)
        )
        for a in range(q)
    )
    mul = tuple(
        tuple(_number(_poly_mul_mod(digits[a], digits[b], modulus, p), p) for b in range(q))
        for a in range(q)
    )
    return Field(q, add, mul)


def affine_table(gf: Field, cls: int, offset: int, round_value: int) -> int:
    """The table of person (cls, offset) in the round with field value round_value."""
    if cls == 0:
        raise ValueError("class must be a nonzero field element")
    return gf.add[offset][gf.mul[round_value][cls]]
