"""Stop words, a cheap language guess, and per-language mean-centering of embeddings.

English-centred models place Dutch, French and English texts in separate regions, so a mixed pool
clusters by language; subtracting each language's mean vector removes most of that (measured in
docs/benchmarks.md). The guess only counts stop words: it needs no model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "LANGUAGES",
    "apply_centering",
    "center_by_language",
    "detect_language",
    "stop_words",
    "tokenize",
]

LANGUAGES = ("en", "fr", "nl")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


@cache
def _read_list(name: str) -> frozenset[str]:
    text = resources.files("clustering").joinpath(name).read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def stop_words(language: str | None = None) -> frozenset[str]:
    """The shipped stop words of one language, or of all (plus stock idea words) for ``None``."""
    if language is None:
        words = _read_list("stopwords_ideas.txt")
        for lang in LANGUAGES:
            words = words | _read_list(f"stopwords_{lang}.txt")
        return words
    if language not in LANGUAGES:
        raise ValueError(f"no stop words for language {language!r}")
    return _read_list(f"stopwords_{language}.txt")


def tokenize(text: str) -> list[str]:
    """Lower-cased words (letters only; apostrophes and hyphens inside a word kept)."""
    return _WORD.findall(text.lower())


def detect_language(text: str) -> str:
    """The language in LANGUAGES whose stop words occur most in ``text``.

    "" when no language has two hits or two languages tie (too little evidence to centre on).
    """
    words = tokenize(text)
    hits = sorted(
        (
            (sum(1 for w in words if w in _read_list(f"stopwords_{lang}.txt")), lang)
            for lang in LANGUAGES
        ),
        reverse=True,
    )
    (best_hits, best), (second_hits, _) = hits[0], hits[1]
    if best_hits < 2 or best_hits == second_hits:
        return ""
    return best


def center_by_language(
    vectors: NDArray[np.float32],
    languages: Sequence[str],
    *,
    min_items: int = 10,
    min_share: float = 0.05,
) -> tuple[NDArray[np.float32], dict[str, NDArray[np.float32]]]:
    """Subtract each language's mean vector and re-normalise the rows.

    Languages with fewer than ``min_items`` texts or ``min_share`` of the pool (and texts of
    unknown language) use the mean of the whole pool. Returns the centred vectors and the means
    used (key "" is the pool mean), so that a later text can be centred the same way with
    ``apply_centering``.
    """
    if len(vectors) != len(languages):
        raise ValueError("vectors and languages differ in length")
    if len(vectors) == 0:
        return vectors.astype(np.float32), {}
    pool_mean = vectors.mean(axis=0)
    means: dict[str, NDArray[np.float32]] = {"": pool_mean.astype(np.float32)}
    langs = np.asarray(languages, dtype=object)
    for lang in sorted(set(languages) - {""}):
        mask = langs == lang
        if int(mask.sum()) >= max(min_items, min_share * len(vectors)):
            means[lang] = vectors[mask].mean(axis=0).astype(np.float32)
    return apply_centering(vectors, languages, means), means


def apply_centering(
    vectors: NDArray[np.float32],
    languages: Sequence[str],
    means: Mapping[str, NDArray[np.float32]],
) -> NDArray[np.float32]:
    """Centre rows with the means from ``center_by_language`` (unknown language: pool mean)."""
    if not means:
        return vectors.astype(np.float32)
    default = means[""]
    shift = np.stack([means.get(lang, default) for lang in languages]) if len(languages) else 0.0
    centred = vectors - shift
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    unit: NDArray[np.float32] = (centred / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit
