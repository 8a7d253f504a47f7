"""Benchmark: server time and HTML size of every staff and participant page at summit scale.

Builds ``summit demo --participants N --rounds R`` (in-process, the same ``create_demo``) in a
temporary data directory, signs in as each staff role (organiser, moderator) and through the
demo's personal links as participants, and fetches every GET route of the app's route registry.
Path parameters are filled from the demo's own ids: a route with parameters is fetched at the
first link to it found on the pages already fetched. Each request goes through the whole app
in-process (middleware, sessions, database); its wall time is the server time.

One JSON line per page (``who``, ``path``, ``status``, ``ms``, ``kb``); the last line is one JSON
object with ``max_page_ms_<N>``, ``max_page_kb_<N>``, the slowest and the largest page's path, and
with ``--baseline REV`` the same numbers for the code at git revision ``REV``, measured by this
script in a worktree of that revision in the same run (``baseline``).

Usage::

    .venv/bin/python scripts/bench_pages.py [--participants 1000] [--rounds 6] [--baseline HEAD]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SKIP = re.compile(r"^/(ws|static|logout|favicon)|/ws(/|$)|\.(ics|zip|pdf)$")
HREF = re.compile(r'(?:href|action|src)="(/[^"#?]*)')


def _routes(app: Any) -> list[Any]:
    from starlette.routing import Route

    return [
        r
        for r in app.routes
        if isinstance(r, Route) and "GET" in (r.methods or set()) and not SKIP.search(r.path)
    ]


def _fetch(client: Any, path: str) -> tuple[int, float, int, str]:
    start = time.perf_counter()
    response = client.get(path, follow_redirects=False)
    ms = (time.perf_counter() - start) * 1000
    return response.status_code, ms, len(response.content), response.text


def _crawl(client: Any, who: str, routes: list[Any], seen_links: set[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    plain = [r for r in routes if not r.param_convertors]
    with_params = [r for r in routes if r.param_convertors]
    for route in plain:
        status, ms, size, text = _fetch(client, route.path)
        seen_links.update(HREF.findall(text))
        if status == 200:
            rows.append(
                {
                    "who": who,
                    "path": route.path,
                    "status": status,
                    "ms": round(ms, 1),
                    "kb": round(size / 1024, 1),
                }
            )
    for route in with_params:
        link = next((p for p in sorted(seen_links) if route.path_regex.match(p)), None)
        if link is None or SKIP.search(link):
            continue
        status, ms, size, text = _fetch(client, link)
        if status == 200:
            rows.append(
                {
                    "who": who,
                    "path": link,
                    "route": route.path,
                    "status": status,
                    "ms": round(ms, 1),
                    "kb": round(size / 1024, 1),
                }
            )
    return rows


def measure(participants: int, rounds: int) -> dict[str, Any]:
    from starlette.testclient import TestClient

    from summit.app import create_app
    from summit.config import Settings
    from summit.core.db import Database, upgrade
    from summit.demo import create_demo

    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            secret_key=secrets.token_urlsafe(48),
            base_url="http://testserver",
            login_rate_per_minute=100000,
            link_rate_per_minute=100000,
        )

        async def build() -> Any:
            await upgrade(settings.database_url, secret_key=settings.secret_key)
            db = Database(settings.database_url)
            try:
                return await create_demo(db, participants=participants, rounds=rounds)
            finally:
                await db.dispose()

        started = time.perf_counter()
        info = asyncio.run(build())
        print(json.dumps({"demo_built_s": round(time.perf_counter() - started, 1)}), flush=True)
        app = create_app(settings)
        routes = _routes(app)
        rows: list[dict[str, Any]] = []
        links: set[str] = set()
        staff = [("organiser", info.organiser_password), ("moderator", info.moderator_password)]
        for username, password in staff:
            with TestClient(app, base_url="http://testserver") as client:
                client.get("/login")
                page = client.get("/login").text
                token = re.search(r'name="csrf_token" value="([^"]+)"', page)
                assert token, "login page has no CSRF token"
                client.post(
                    "/login",
                    data={"username": username, "password": password, "csrf_token": token.group(1)},
                )
                rows += _crawl(client, username, routes, links)
        for description, path in info.links:
            with TestClient(app, base_url="http://testserver") as client:
                client.get(path)
                rows += _crawl(client, f"participant: {description}", routes, set(links))
    for row in rows:
        print(json.dumps(row), flush=True)
    slowest = max(rows, key=lambda r: r["ms"])
    largest = max(rows, key=lambda r: r["kb"])
    return {
        "pages": len(rows),
        f"max_page_ms_{participants}": slowest["ms"],
        "slowest_page": slowest["path"],
        f"max_page_kb_{participants}": largest["kb"],
        "largest_page": largest["path"],
    }


def baseline(rev: str, argv: list[str]) -> dict[str, Any]:
    """The same measurement of the code at ``rev``, in a temporary git worktree."""
    work = Path(tempfile.mkdtemp(prefix="bench-pages-base-")) / "tree"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(work), rev],
        check=True,
        capture_output=True,
    )
    try:
        (work / "web" / "static").mkdir(parents=True, exist_ok=True)
        for vendored in (ROOT / "web" / "static").iterdir():  # installed CSS is not in git
            target = work / "web" / "static" / vendored.name
            if not target.exists():
                target.symlink_to(vendored)
        out = (
            subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "scripts" / "bench_pages.py"),
                    "--root",
                    str(work),
                    *argv,
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()
        )
        return dict(json.loads(out[-1]), revision=rev)
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(work)],
            check=False,
            capture_output=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--baseline", metavar="REV", help="also measure git revision REV")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(args.root))
    sizes = ["--participants", str(args.participants), "--rounds", str(args.rounds)]
    before = baseline(args.baseline, sizes) if args.baseline else None
    result = measure(args.participants, args.rounds)
    if before is not None:
        result["baseline"] = before
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
