"""Benchmark the clustering library: embedding throughput, full pipeline, assigning one idea.

For 1,000 and 5,000 StackOverflow titles: seconds for a full re-clustering plus labelling on
cached embeddings (baseline in the same run: scikit-learn KMeans, n_init=10, with the same k),
latency of filing one new idea including its embedding (p50/p95), peak memory. The last line is
one JSON object.

    .venv/bin/python scripts/bench_clustering.py [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from clustering import EmbeddingCache, ThemeBoard, load_embedder  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clustering"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model", default=None)
    parser.add_argument(
        "--cache-dir", default=str(Path(tempfile.gettempdir()) / "clustering-bench")
    )
    args = parser.parse_args()
    lines = (DATA / "stackoverflow" / "stackoverflow.tsv").read_text(encoding="utf-8").splitlines()
    texts = [line.split("\t", 1)[1].strip() for line in lines if "\t" in line]
    texts = [t for t in texts if t]
    random.Random(0).shuffle(texts)
    out: dict[str, float | int | str] = {"threads": args.threads}

    # Throughput on texts nobody embedded before (a fresh in-memory cache).
    fresh = load_embedder(args.model, num_threads=args.threads, cache=EmbeddingCache())
    fresh.embed(["warm up the model"])
    sample = texts[6000:6400]
    start = time.perf_counter()
    fresh.embed(sample)
    out["sentences_per_second"] = round(len(sample) / (time.perf_counter() - start), 1)
    out["model"] = fresh.model_id

    cached = load_embedder(
        args.model, num_threads=args.threads, cache=EmbeddingCache(directory=args.cache_dir)
    )
    for round_number, n in enumerate((1000, 5000)):
        vectors = cached.embed(texts[:n])  # cached on disk after the first run
        board = ThemeBoard(fresh)
        board.add_ideas([(str(i), t) for i, t in enumerate(texts[:n])], vectors=vectors)
        start = time.perf_counter()
        themes = board.recluster()
        out[f"pipeline_seconds_{n}"] = round(time.perf_counter() - start, 3)
        out[f"themes_{n}"] = len(themes)
        start = time.perf_counter()
        KMeans(len(themes), n_init=10, random_state=0).fit(vectors)
        out[f"kmeans_baseline_seconds_{n}"] = round(time.perf_counter() - start, 3)
        latencies = []
        unseen = texts[7000 + 100 * round_number : 7100 + 100 * round_number]
        for j, text in enumerate(unseen):
            start = time.perf_counter()
            board.add_idea(f"new{j}", text)  # includes embedding one unseen sentence
            latencies.append((time.perf_counter() - start) * 1000)
        out[f"assign_p50_ms_{n}"] = round(float(np.percentile(latencies, 50)), 1)
        out[f"assign_p95_ms_{n}"] = round(float(np.percentile(latencies, 95)), 1)
        print(json.dumps({k: v for k, v in out.items() if str(n) in k}), flush=True)
    out["assign_p95_ms"] = max(out["assign_p95_ms_1000"], out["assign_p95_ms_5000"])  # type: ignore[type-var]
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
