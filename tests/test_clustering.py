"""Clustering without a model: partition, labels, language, cache, constraints, CLI errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clustering
from clustering import (
    ClusterSettings,
    ConstraintError,
    Constraints,
    EmbeddingCache,
    InputError,
    ThemeBoard,
    center_by_language,
    choose_k,
    detect_language,
    keywords,
    near_duplicates,
    partition,
    representative,
    stop_words,
)
from clustering.cli import main, read_texts


def blobs(n_per: int, k: int, dim: int = 128, spread: float = 0.05, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, dim))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    x = np.repeat(centers, n_per, axis=0) + spread * rng.normal(size=(k * n_per, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_all_is_sorted_and_importing_is_cheap() -> None:
    import subprocess
    import sys

    assert clustering.__all__ == sorted(clustering.__all__)
    for name in clustering.__all__:
        assert hasattr(clustering, name)
    probe = "import sys, clustering; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0


def test_choose_k_finds_separated_blobs() -> None:
    # Small pools are capped at sqrt(n) themes, so each case has enough ideas per theme.
    for k in (6, 12):
        found, centers = choose_k(blobs(30, k, seed=k))
        assert found == k
        assert centers.shape == (k, 128)


def test_partition_recovers_blobs_and_is_deterministic() -> None:
    x = blobs(25, 5, seed=3)
    first = partition(x)
    assert np.array_equal(first, partition(x))
    truth = np.repeat(np.arange(5), 25)
    # Same partition up to renumbering.
    pairs = set(zip(first.tolist(), truth.tolist(), strict=True))
    assert len(pairs) == 5


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 9))
def test_granularity_moves_the_number_of_themes_monotonically(seed: int, k: int) -> None:
    x = blobs(12, k, spread=0.5, seed=seed)
    counts = [choose_k(x, ClusterSettings(granularity=g))[0] for g in (-2.0, -1.0, 0.0, 1.0, 2.0)]
    assert counts == sorted(counts)


def test_n_themes_forces_the_count() -> None:
    x = blobs(10, 4)
    assert len(set(partition(x, settings=ClusterSettings(n_themes=7)).tolist())) == 7


def test_large_pools_use_a_seeded_tree_sample() -> None:
    x = blobs(40, 8, seed=5)
    small = ClusterSettings(max_tree_items=200, seed=1)
    assert np.array_equal(partition(x, settings=small), partition(x, settings=small))
    assert len(set(partition(x, settings=small).tolist())) == 8


def test_groups_move_together_and_anchors_stay_apart() -> None:
    x = blobs(10, 2, seed=9)
    groups = list(range(20))
    groups[0] = groups[15] = 100  # rows from different blobs forced together
    groups[1] = groups[2] = 200
    groups[3] = 300  # 200 and 300 come from the same blob but are anchored apart
    labels = partition(x, groups=groups, anchored=[200, 300])
    assert labels[0] == labels[15]
    assert labels[1] == labels[2]
    assert labels[1] != labels[3]


def test_partition_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="2-D"):
        partition(np.zeros(5))
    bad = blobs(3, 2)
    bad[4, 2] = np.nan
    with pytest.raises(InputError, match="vector 4"):
        partition(bad)
    with pytest.raises(InputError, match="groups"):
        partition(blobs(3, 2), groups=[0, 1])
    with pytest.raises(InputError, match="threshold"):
        ClusterSettings(threshold=0)


def test_keywords_contrast_themes_and_drop_stock_phrases() -> None:
    texts = [
        "We need more cycle lanes on the main road",
        "We need safer cycle lanes near schools",
        "Er moeten meer fietspaden komen in het centrum",
        "We need affordable starter homes for young people",
        "We need more starter homes in the city",
        "Meer starterswoningen bouwen voor jongeren",
    ]
    words = keywords(texts, [0, 0, 0, 1, 1, 1], top=3)
    assert "cycle lanes" in words[0]
    assert "starter homes" in words[1]
    for chosen in words.values():
        assert not {"need", "we", "more", "meer", "moeten"} & set(chosen)


def test_stop_words_ship_for_dutch_and_english() -> None:
    assert {"de", "het", "een"} <= stop_words("nl")
    assert {"the", "and", "of"} <= stop_words("en")
    with pytest.raises(ValueError):
        stop_words("xx")


def test_detect_language() -> None:
    assert detect_language("Er moeten meer bomen in de wijk komen") == "nl"
    assert detect_language("There should be more trees in the park") == "en"
    assert detect_language("Il faut plus de pistes cyclables dans la ville") == "fr"
    assert detect_language("parking") == ""


def test_center_by_language_removes_the_language_offset() -> None:
    x = blobs(20, 2, dim=8, spread=0.05, seed=1)
    offset = np.zeros(8, dtype=np.float32)
    offset[0] = 3.0
    shifted = x.copy()
    shifted[::2] += offset  # every other idea "in Dutch": a shared shift
    langs = ["nl" if i % 2 == 0 else "en" for i in range(40)]
    centred, means = center_by_language(shifted, langs)
    assert set(means) == {"", "nl", "en"}
    labels = partition(centred, settings=ClusterSettings(n_themes=2))
    truth = np.repeat([0, 1], 20)
    assert len(set(zip(labels.tolist(), truth.tolist(), strict=True))) == 2


def test_representative_and_near_duplicates() -> None:
    x = np.array([[1, 0, 0], [0.99, 0.1, 0], [0.7, 0.7, 0], [0, 0, 1]], dtype=np.float32)
    assert representative(x[:3]) == 1
    assert near_duplicates(x, 0.95) == [[0, 1]]
    assert near_duplicates(x, 0.999) == []


def test_cache_lru_and_disk(tmp_path: Path) -> None:
    cache = EmbeddingCache(max_items=2, directory=tmp_path)
    vectors = np.eye(3, dtype=np.float32)
    cache.put_many("m", ["a", "b", "c"], vectors)
    assert len(cache) == 2
    assert cache.get_many("other", ["a"]) == [None]
    cache.close()
    again = EmbeddingCache(directory=tmp_path)
    got = again.get_many("m", ["a", "c", "zz"])
    assert got[2] is None
    assert np.array_equal(got[0], vectors[0]) and np.array_equal(got[1], vectors[2])
    again.close()


def test_board_fast_path_files_a_new_idea_into_the_nearest_theme() -> None:
    x = blobs(10, 3, seed=4)
    board = ThemeBoard()
    board.add_ideas([(f"i{i}", f"idea {i}") for i in range(30)], vectors=x)
    board.recluster()
    probe = blobs(10, 3, seed=4)[25] + 0.01
    theme = board.add_idea("new", "new idea", vector=probe)
    assert theme == board.theme_of("i25")


def test_board_rejects_bad_ideas() -> None:
    board = ThemeBoard()
    board.add_idea("a", "one", vector=np.ones(4))
    with pytest.raises(InputError, match="'a'"):
        board.add_idea("a", "again", vector=np.ones(4))
    with pytest.raises(InputError, match="no text"):
        board.add_idea("b", "   ", vector=np.ones(4))
    with pytest.raises(InputError, match="dimensions"):
        board.add_idea("c", "three", vector=np.ones(5))
    with pytest.raises(ConstraintError, match="unknown theme"):
        board.rename("T99", "x")


def test_constraints_round_trip_and_check() -> None:
    c = Constraints(
        anchors={"T1": {"a", "b"}}, pinned={"T1"}, labels={"T1": "Fietsen"}, duplicates={"c": "a"}
    )
    assert Constraints.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    c.check(["a", "b", "c"])
    with pytest.raises(ConstraintError, match="unknown idea"):
        c.check(["a", "b"])
    with pytest.raises(ConstraintError, match="both"):
        Constraints(anchors={"T1": {"a"}, "T2": {"a"}}).check(["a"])
    with pytest.raises(ConstraintError, match="cycle"):
        Constraints(duplicates={"a": "b", "b": "a"}).check(["a", "b"])
    with pytest.raises(ConstraintError, match="different themes"):
        Constraints(anchors={"T1": {"a"}, "T2": {"b"}}, duplicates={"a": "b"}).check(["a", "b"])


def test_cli_reports_bad_file_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "ideas.csv"
    good.write_text("id,idea\n1,More trees\n", encoding="utf-8")
    assert main([str(good), "--text-column", "nope"]) == 2
    assert "no column 'nope'" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err
    empty_cell = tmp_path / "gap.tsv"
    empty_cell.write_text("idea\tx\nfine\t1\n\t2\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 3"):
        read_texts(empty_cell, "idea")
    assert read_texts(good, "idea") == ["More trees"]
