"""The production layout's files and nginx in front of two app workers (docs/deploy.md).

* ``deploy/nginx/summit.conf`` with its snippets passes ``nginx -t`` (TLS with a throwaway
  certificate); the systemd units pass ``systemd-analyze verify``.
* nginx (the production locations, ``deploy/nginx/summit-locations.conf``) in front of two
  ``summit serve`` workers on loopback: pages, the JSON API and the live WebSocket work through
  it; the client address the app sees is the one nginx saw — a forged ``X-Forwarded-For`` is
  not believed, two client addresses have their own rate-limit buckets; the video routes go to
  the first worker only, everything else survives its death.

SQLite and the in-process bus suffice here; the drills on PostgreSQL and Redis are in
tests/test_deploy_drills.py.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy import drill
from deploy.stack import DEPLOY, NGINX, ROOT, Stack, ensure_package, running

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def nginx() -> str:
    if not ensure_package("nginx", NGINX):
        pytest.skip("nginx is not installed (scripts/install --test)")
    return NGINX


def test_the_production_site_passes_nginx_t(nginx: str, tmp_path: Path) -> None:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=summit.example.org"]
        + ["-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    for snippet in ("summit-http.conf", "summit-locations.conf"):
        shutil.copy(DEPLOY / "nginx" / snippet, tmp_path / snippet)
    site = (DEPLOY / "nginx" / "summit.conf").read_text()
    for production, here in (
        ("/etc/nginx/snippets/", f"{tmp_path}/"),
        ("/etc/letsencrypt/live/summit.example.org/fullchain.pem", str(tmp_path / "cert.pem")),
        ("/etc/letsencrypt/live/summit.example.org/privkey.pem", str(tmp_path / "key.pem")),
        ("/var/log/nginx/", f"{tmp_path}/"),
    ):
        assert production in site
        site = site.replace(production, here)
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{ access_log off; include {tmp_path}/site.conf; }}\n"
    )
    done = subprocess.run(
        [nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_the_systemd_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    (tmp_path / "summit.env").write_text("SUMMIT_LOG_LEVEL=info\n")
    units = []
    for source in sorted((DEPLOY / "systemd").glob("summit*")):
        text = source.read_text()
        assert "/opt/summit/.venv/bin/summit" in text or source.suffix == ".target"
        text = text.replace("/opt/summit/.venv/bin/summit", str(ROOT / ".venv" / "bin" / "summit"))
        text = text.replace("/etc/summit/summit.env", str(tmp_path / "summit.env"))
        name = source.name.replace("@.service", "@8001.service")
        (tmp_path / name).write_text(text.replace("/opt/summit", str(ROOT)))
        units.append(f"./{name}")
    done = subprocess.run(
        [analyze, "verify", "--man=no", *units],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Unknown" not in done.stderr, done.stderr


@pytest.fixture(scope="module")
def proxied(
    nginx: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, list[str]]]:
    folder = tmp_path_factory.mktemp("proxy")
    url = f"sqlite+aiosqlite:///{folder / 'summit.db'}"
    prepared = asyncio.run(drill.prepare(url, participants=32))
    stack = Stack(folder, url, "memory://", workers=2, env={"SUMMIT_LINK_RATE_PER_MINUTE": "3"})
    with running(stack):
        yield stack, prepared.tokens


async def _pages_api_and_socket(base: str, token: str) -> tuple[int, int, str]:
    person = drill.Person(token, base)
    await person.open()
    try:
        live = person.listen()
        await asyncio.wait_for(live.connected.wait(), 15)
        assert person.client is not None
        page = await person.client.get("/me/ideas")
        acked = await person.post_idea("proxy-1", "Through the proxy")
        for _ in range(50):  # the event of one's own idea comes back on the live socket
            if any(e.get("type") == "idea" for e in live.events):
                break
            await asyncio.sleep(0.1)
        kinds = ",".join(sorted({str(e.get("type")) for e in live.events}))
        return page.status_code, 201 if acked else 0, kinds
    finally:
        await person.close()


def test_pages_api_and_live_socket_through_nginx(proxied: tuple[Stack, list[str]]) -> None:
    stack, tokens = proxied
    page, posted, kinds = asyncio.run(_pages_api_and_socket(stack.url, tokens[0]))
    assert (page, posted) == (200, 201)
    assert "idea" in kinds.split(","), kinds


def _bad_links(base: str, source: str, forged: bool, count: int) -> list[int]:
    transport = httpx.HTTPTransport(local_address=source)
    statuses = []
    with httpx.Client(base_url=base, transport=transport) as client:
        for i in range(count):
            headers = {"X-Forwarded-For": f"198.51.100.{i}"} if forged else {}
            statuses.append(client.get(f"/p/no-such-link-{i}", headers=headers).status_code)
    return statuses


def test_the_app_sees_the_address_nginx_saw_and_never_a_forged_one(
    proxied: tuple[Stack, list[str]],
) -> None:
    stack, _tokens = proxied
    # 3 failed openings a minute per client address and worker: with two workers, 8 attempts
    # reach the limit even though each one forges a new address...
    assert 429 in _bad_links(stack.url, "127.0.0.3", forged=True, count=8)
    # ... while another real client address has its own count (and nginx's own address, the
    # same for everyone, is not what the app counts).
    assert 429 not in _bad_links(stack.url, "127.0.0.4", forged=False, count=3)


def test_video_routes_go_to_the_media_worker_only(proxied: tuple[Stack, list[str]]) -> None:
    stack, tokens = proxied

    async def statuses() -> tuple[int, int]:
        person = drill.Person(tokens[1], stack.url)
        await person.open()
        try:
            assert person.client is not None
            video = await person.client.get("/me/video.json")
            ideas = await person.client.get("/api/ideas/table")
            return video.status_code, ideas.status_code
        finally:
            await person.close()

    assert asyncio.run(statuses()) == (200, 200)
    stack.app[0].service.kill()  # the worker behind upstream summit_video
    try:
        assert asyncio.run(statuses()) == (502, 200)
    finally:
        stack.restart(0)
    assert asyncio.run(statuses()) == (200, 200)
