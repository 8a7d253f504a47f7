"""Paper forms: CSV import by the organiser (HTTP and CLI), all or nothing, with a row report."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from summit.ideas import service as ideas
from summit.ideas.models import Idea
from tests.support.app import Client
from tests.support.http import csrf_of, login
from tests.support.ideas import count_ideas

GOOD = "tafel;titel;tekst;tags\n1;Meer bankjes;Langs de haven;groen\n2;Buurtbus;Voor ouderen;\n"


def organiser(client: Client) -> str:
    login(client, "organiser", client.demo_info.organiser_password)  # type: ignore[attr-defined]
    return csrf_of(client.get("/organiser/ideas").text)


def upload(client: Client, csrf: str, data: bytes, **form: str) -> Any:
    return client.post(
        "/organiser/ideas/import",
        data={"csrf_token": csrf, **form},
        files={"file": ("papier.csv", data, "text/csv")},
    )


def test_a_good_file_is_imported_once_and_logged(demo: Any) -> None:
    client, _info = demo
    csrf = organiser(client)
    before = count_ideas(client, source="paper")
    first = upload(client, csrf, GOOD.encode())
    assert first.status_code == 200 and "2" in first.text
    assert count_ideas(client, source="paper") == before + 2
    entry = client.get("/audit.json").json()["entries"][0]
    assert entry["action"] == "ideas.import" and entry["payload"]["added"] == 2
    again = upload(client, csrf, GOOD.encode())
    assert again.status_code == 200
    assert count_ideas(client, source="paper") == before + 2  # the same file adds nothing
    # Without a header, comma-separated, Windows-1252 from Excel.
    plain = "3,Café op het plein,Terrassen en bankjes\n".encode("cp1252")
    assert upload(client, csrf, plain, round="1").status_code == 200
    assert count_ideas(client, title="Café op het plein", table_id=None) == 0
    assert count_ideas(client, title="Café op het plein") == 1


def test_one_bad_row_imports_nothing_and_every_bad_row_is_named(demo: Any) -> None:
    client, _info = demo
    csrf = organiser(client)
    before = count_ideas(client)
    bad = (
        "table,title,text\n"
        "1,Goed idee,prima\n"
        "999,Onbekende tafel,x\n"
        "2,,geen titel\n"
        "x,Geen nummer,y\n"
        f"3,{'t' * 121},te lang\n"
        "4,Te veel,kolommen,a,b\n"
    )
    response = upload(client, csrf, bad.encode())
    assert response.status_code == 400
    for row, text in (
        (3, "tafel 999"),
        (4, "Titel"),
        (5, "&#39;x&#39;"),
        (6, "120"),
        (7, "kolommen"),
    ):
        assert f"<td>{row}</td>" in response.text and text in response.text, (row, text)
    assert "<td>2</td>" not in response.text
    assert count_ideas(client) == before


def test_empty_oversized_and_malformed_files_get_clear_errors(demo: Any) -> None:
    client, _info = demo
    csrf = organiser(client)
    before = count_ideas(client)
    cases = [
        (b"", "is leeg"),  # the organiser's page is in Dutch
        (b"x" * (ideas.IMPORT_MAX_BYTES + 10), "groter dan"),
        (b"\x00\x01\x02binary", "geen tekstbestand"),
        (b"tafel,titel,kolom\n1,2,3\n", "onbekende kolom"),
        (b"kolom,andere\n1,2\n", "is geen tafelnummer"),
        (b"table,title\n1,a\n", "ontbreekt"),
        (b"table,title,text\n", "bevat geen ideeën"),
    ]
    for data, message in cases:
        response = upload(client, csrf, data)
        assert response.status_code == 400 and message in response.text, message
    assert upload(client, csrf, GOOD.encode(), round="7").status_code == 400
    assert count_ideas(client) == before
    # Only the organiser imports.
    client.cookies.clear()
    login(client, "moderator", client.demo_info.moderator_password)
    token = csrf_of(client.get("/moderator/themes").text)
    assert upload(client, token, GOOD.encode()).status_code == 403


def test_the_cli_imports_and_reports_bad_rows(demo: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from summit.cli import main

    client, _info = demo
    monkeypatch.setenv("SUMMIT_DATABASE_URL", str(client.db.url))
    monkeypatch.setenv("SUMMIT_DATA_DIR", str(tmp_path))
    good = tmp_path / "goed.csv"
    good.write_text(GOOD)
    result = CliRunner().invoke(main, ["ideas", "import", str(good), "--round", "1"])
    assert result.exit_code == 0, result.output
    assert "imported 2 ideas into round 1" in result.output
    bad = tmp_path / "fout.csv"
    bad.write_text("1,,leeg\n2,Goed,ok\n")
    failed = CliRunner().invoke(main, ["ideas", "import", str(bad)])
    assert failed.exit_code == 1 and "row 1: title: is required" in failed.output
    assert "nothing imported" in failed.output


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["1", "2", "3", "999", "x", ""]),
            st.sampled_from(["Bankjes", "Bomen", "", "t" * 121]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_import_is_all_or_nothing(demo_template: Any, tmp_path_factory: Any, rows: Any) -> None:
    """Any mix of rows: either every row is imported, or none and each bad row is named."""
    import shutil

    from summit.core.db import Database

    folder = tmp_path_factory.mktemp("prop")
    shutil.copy(demo_template[0], folder / "summit.db")
    data = "".join(f"{t},{title},uitleg\n" for t, title in rows).encode()
    bad = {
        n
        for n, (t, title) in enumerate(rows, start=1)
        if t not in {"1", "2", "3"} or not title or len(title) > 120
    }

    async def run() -> tuple[int, set[int] | None]:
        db = Database(f"sqlite+aiosqlite:///{folder / 'summit.db'}")
        try:
            async with db.session() as session:
                summit = await session.get(ideas.Summit, demo_template[1].summit_id)
                assert summit is not None
                try:
                    await ideas.import_paper(session, summit, data, actor="test")
                    errors = None
                except ideas.IdeaImportError as exc:
                    errors = {r for r, _f, _m in exc.rows}
            async with db.session() as session:
                count = await session.scalar(
                    select(func.count()).select_from(Idea).where(Idea.source == "paper")
                )
            return int(count or 0), errors
        finally:
            await db.dispose()

    imported, errors = asyncio.run(run())
    if bad:
        assert imported == 0 and errors == bad
    else:
        assert imported == len(rows) and errors is None
