"""Stage 1 of the two-stage lottery: the invitation draw (loting uit de BRP), and the public
final draw of stage 2 — pure, deterministic functions of (published inputs, public seed).

The generator ("sha256-counter-v1"), so anyone can re-implement it in a few lines:

* the key is the UTF-8 encoding of the normalised seed (see :func:`normalise_seed`);
* the byte stream is ``SHA256(key || counter)`` for ``counter = 0, 1, 2, …`` written as 8 bytes
  big-endian, the 32-byte blocks concatenated;
* an integer below ``n`` takes ``b = (n - 1).bit_length()`` bits: the next ``ceil(b / 8)`` bytes of
  the stream read big-endian, masked to their low ``b`` bits; a value ``>= n`` is rejected and the
  next bytes are read (rejection sampling — no modulo bias).

The invitation draw sorts the pseudonymised ids, then runs a Fisher–Yates shuffle step by step:
at step ``i`` it swaps position ``i`` with ``i + randbelow(len - i)`` and takes the person now at
``i`` — unless ``one_per_household`` is on and their household already has a member in the
sample, in which case that person is skipped. The sample is the first N people taken, in draw
order, so the result does not depend on the file's row order.

The commitment (hash of the pseudonymised extract, N, settings, software version, generator and
seed format) is published *before* the seed exists; :func:`verify_draw` re-runs everything.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _

GENERATOR = "sha256-counter-v1"
SeedKind = Literal["dice", "beacon"]


class DrawError(InvalidInput):
    """Bad input to a draw (seed, extract, sample size); the message names the field."""


def canonical_json(value: Any) -> bytes:
    """UTF-8, keys sorted, no spaces, no NaN: the form that is hashed and published."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class HashRandom:
    """The published deterministic generator (see the module docstring)."""

    def __init__(self, seed: str | bytes) -> None:
        self._key = seed.encode("utf-8") if isinstance(seed, str) else bytes(seed)
        self._counter = 0
        self._buffer = b""

    def read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            block = hashlib.sha256(self._key + self._counter.to_bytes(8, "big")).digest()
            self._buffer += block
            self._counter += 1
        out, self._buffer = self._buffer[:count], self._buffer[count:]
        return out

    def randbelow(self, n: int) -> int:
        """A uniform integer in ``0 .. n-1`` by rejection sampling."""
        if n <= 0:
            raise DrawError("n", _("must be positive, got %(n)s") % {"n": n})
        if n == 1:
            return 0
        bits = (n - 1).bit_length()
        mask = (1 << bits) - 1
        width = (bits + 7) // 8
        while True:
            value = int.from_bytes(self.read(width), "big") & mask
            if value < n:
                return value

    def shuffled(self, items: Sequence[str]) -> list[str]:
        """A full Fisher–Yates shuffle (forward: position i swaps with i + randbelow(len - i))."""
        out = list(items)
        for i in range(len(out) - 1):
            j = i + self.randbelow(len(out) - i)
            out[i], out[j] = out[j], out[i]
        return out


_DICE_SEPARATORS = re.compile(r"[\s,;.\-_/|]+")
_HEX = re.compile(r"^[0-9a-f]+$")


@dataclass(frozen=True)
class SeedSpec:
    """How the public seed will be made: ``dice`` (``digits`` ten-sided dice, 0–9) or ``beacon``
    (a randomness-beacon value in hex, at least ``digits`` hex characters)."""

    kind: SeedKind = "dice"
    digits: int = 20

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "digits": self.digits}


def normalise_seed(raw: str, spec: SeedSpec = SeedSpec()) -> str:
    """Normalise a seed as typed at the public meeting and check it against the spec.

    Dice: separators (spaces, commas, dashes, dots, slashes) are dropped; exactly ``digits``
    digits 0–9 must remain. Beacon: whitespace and a ``0x`` prefix are dropped, hex is
    lower-cased; at least ``digits`` hex characters.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise DrawError("seed", _("is empty"))
    if spec.kind == "dice":
        digits = _DICE_SEPARATORS.sub("", raw.strip())
        if not digits:
            raise DrawError("seed", _("contains no dice digits"))
        if not digits.isascii() or not digits.isdigit():
            bad = next(ch for ch in digits if not (ch.isascii() and ch.isdigit()))
            raise DrawError("seed", _("dice digits must be 0-9, found %(bad)r") % {"bad": bad})
        if len(digits) != spec.digits:
            raise DrawError(
                "seed",
                _("expected %(digits)s dice digits, got %(n)s")
                % {"digits": spec.digits, "n": len(digits)},
            )
        return digits
    if spec.kind == "beacon":
        value = re.sub(r"\s+", "", raw).lower()
        value = value.removeprefix("0x")
        if not _HEX.match(value):
            raise DrawError("seed", _("a beacon value must be hexadecimal"))
        if len(value) < spec.digits:
            raise DrawError(
                "seed",
                _("a beacon value needs at least %(digits)s hex digits") % {"digits": spec.digits},
            )
        return value
    raise DrawError("seed", _("unknown seed kind %(kind)r") % {"kind": spec.kind})


@dataclass(frozen=True)
class DrawEntry:
    """One line of the published, pseudonymised extract: no personal data."""

    pseudonym: str
    household: str | None = None


def extract_digest(entries: Iterable[DrawEntry]) -> str:
    """SHA-256 of the canonical JSON of the extract sorted by pseudonym: row order is irrelevant."""
    rows = sorted([e.pseudonym, e.household] for e in entries)
    return sha256_hex(canonical_json(rows))


@dataclass(frozen=True)
class Commitment:
    """What is published before the seed exists (de vooraf gepubliceerde toezegging)."""

    extract_hash: str
    pool_size: int
    sample_size: int
    one_per_household: bool
    seed: SeedSpec
    software_version: str
    settings: dict[str, Any] = field(default_factory=dict)
    generator: str = GENERATOR

    def as_dict(self) -> dict[str, Any]:
        return {
            "extract_hash": self.extract_hash,
            "pool_size": self.pool_size,
            "sample_size": self.sample_size,
            "one_per_household": self.one_per_household,
            "seed": self.seed.as_dict(),
            "software_version": self.software_version,
            "settings": self.settings,
            "generator": self.generator,
        }

    def canonical(self) -> bytes:
        return canonical_json(self.as_dict())

    @property
    def hash(self) -> str:
        return sha256_hex(self.canonical())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Commitment:
        try:
            seed = data["seed"]
            return cls(
                extract_hash=str(data["extract_hash"]),
                pool_size=int(data["pool_size"]),
                sample_size=int(data["sample_size"]),
                one_per_household=bool(data["one_per_household"]),
                seed=SeedSpec(kind=seed["kind"], digits=int(seed["digits"])),
                software_version=str(data["software_version"]),
                settings=dict(data.get("settings", {})),
                generator=str(data.get("generator", GENERATOR)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DrawError(
                "commitment", _("missing or malformed field: %(exc)s") % {"exc": exc}
            ) from exc


def _check_pool(entries: Sequence[DrawEntry]) -> list[DrawEntry]:
    seen: set[str] = set()
    for entry in entries:
        if not entry.pseudonym:
            raise DrawError("pseudonym", _("empty id in the extract"))
        if entry.pseudonym in seen:
            raise DrawError(
                "pseudonym",
                _("duplicate id %(pseudonym)r in the extract") % {"pseudonym": entry.pseudonym},
            )
        seen.add(entry.pseudonym)
    return sorted(entries, key=lambda e: e.pseudonym)


def make_commitment(
    entries: Sequence[DrawEntry],
    sample_size: int,
    *,
    one_per_household: bool,
    software_version: str,
    seed: SeedSpec = SeedSpec(),
    settings: dict[str, Any] | None = None,
) -> Commitment:
    pool = _check_pool(entries)
    _check_size(pool, sample_size, one_per_household)
    return Commitment(
        extract_hash=extract_digest(pool),
        pool_size=len(pool),
        sample_size=sample_size,
        one_per_household=one_per_household,
        seed=seed,
        software_version=software_version,
        settings=dict(settings or {}),
    )


def _check_size(pool: Sequence[DrawEntry], n: int, one_per_household: bool) -> None:
    if n < 1:
        raise DrawError("sample_size", _("must be at least 1, got %(n)s") % {"n": n})
    available = len(pool)
    if one_per_household:
        singles = sum(1 for e in pool if e.household is None)
        available = singles + len({e.household for e in pool if e.household is not None})
    if n > available:
        unit = _("households") if one_per_household else _("people")
        raise DrawError(
            "sample_size",
            _("%(n)s exceeds the %(available)s %(unit)s in the extract")
            % {"n": n, "available": available, "unit": unit},
        )


def draw_sample(
    entries: Sequence[DrawEntry], n: int, seed: str, *, one_per_household: bool = False
) -> list[str]:
    """Draw N pseudonyms uniformly without replacement, in draw order (the seed must already
    be normalised)."""
    pool = _check_pool(entries)
    _check_size(pool, n, one_per_household)
    rng = HashRandom(seed)
    order = list(pool)
    taken: list[str] = []
    households: set[str] = set()
    i = 0
    while len(taken) < n:
        j = i + rng.randbelow(len(order) - i)
        order[i], order[j] = order[j], order[i]
        person = order[i]
        i += 1
        if one_per_household and person.household is not None:
            if person.household in households:
                continue
            households.add(person.household)
        taken.append(person.pseudonym)
    return taken


def run_committed_draw(
    entries: Sequence[DrawEntry], commitment: Commitment, raw_seed: str
) -> list[str]:
    """The invitation draw as committed: checks the extract against the commitment first."""
    if commitment.generator != GENERATOR:
        raise DrawError(
            "generator",
            _("unsupported generator %(generator)r") % {"generator": commitment.generator},
        )
    digest = extract_digest(entries)
    if digest != commitment.extract_hash:
        raise DrawError("extract", _("does not match the commitment's extract hash"))
    seed = normalise_seed(raw_seed, commitment.seed)
    return draw_sample(
        entries, commitment.sample_size, seed, one_per_household=commitment.one_per_household
    )


@dataclass(frozen=True)
class Verification:
    """``ok`` is True for a MATCH; otherwise ``message`` names the first difference."""

    ok: bool
    message: str

    def __str__(self) -> str:
        return self.message


MATCH = "MATCH"


def verify_draw(
    entries: Sequence[DrawEntry],
    commitment: Commitment,
    raw_seed: str,
    published: Sequence[str],
    *,
    published_commitment_hash: str | None = None,
) -> Verification:
    """Re-run a published invitation draw and compare; the first difference is named."""
    if published_commitment_hash is not None and published_commitment_hash != commitment.hash:
        return Verification(False, "commitment hash differs from the published one")
    if commitment.generator != GENERATOR:
        return Verification(False, f"unsupported generator {commitment.generator!r}")
    if extract_digest(entries) != commitment.extract_hash:
        return Verification(False, "extract hash differs from the commitment")
    if len(entries) != commitment.pool_size:
        return Verification(False, "pool size differs from the commitment")
    try:
        seed = normalise_seed(raw_seed, commitment.seed)
        recomputed = draw_sample(
            entries, commitment.sample_size, seed, one_per_household=commitment.one_per_household
        )
    except DrawError as exc:
        return Verification(False, str(exc))
    for position, (mine, theirs) in enumerate(zip(recomputed, published, strict=False)):
        if mine != theirs:
            return Verification(
                False, f"position {position}: published {theirs!r}, recomputed {mine!r}"
            )
    if len(published) != len(recomputed):
        return Verification(
            False, f"length: published {len(published)}, recomputed {len(recomputed)}"
        )
    return Verification(True, MATCH)


def draw_index(seed: str, m: int) -> int:
    """The transparent final draw of stage 2: an index 0..m-1 from a normalised public seed."""
    return HashRandom(seed).randbelow(m)
