"""Request limits before parsing (finding 5), password hashing off the event loop (finding 6),
and rate limits that count failures and believe only trusted proxies (finding 8)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from summit.app import create_app
from summit.core.bodies import CSRF_SCAN, DEFAULT_MAX_BODY
from summit.core.security import hash_password, verify_password
from tests.support.app import Client, make_settings
from tests.support.browser import run_server
from tests.support.http import csrf_of, login


def _form(size: int) -> bytes:
    return b"first_name=" + b"x" * size


def test_a_big_form_is_refused_before_anything_reads_it(demo_client: Any) -> None:
    client, _info = demo_client
    headers = {"content-type": "application/x-www-form-urlencoded"}
    big = client.post("/register/self", content=_form(DEFAULT_MAX_BODY + 1), headers=headers)
    assert big.status_code == 413
    # a body sent in chunks, without a declared length, is cut off as it arrives
    chunks = (b"x" * 65536 for _ in range(40))
    streamed = client.post("/register/self", content=chunks, headers=headers)
    assert streamed.status_code == 413
    declared = client.post(
        "/login", content=b"a=b", headers={**headers, "content-length": str(10**9)}
    )
    assert declared.status_code == 413
    assert client.post("/register/self", content=_form(100), headers=headers).status_code == 403


def test_the_json_api_refuses_a_big_body_before_reading_it(demo_client: Any) -> None:
    client, info = demo_client
    client.get(dict(info.links)["resident (venue)"])
    token = csrf_of(client.get("/me/ideas").text)
    response = client.post(
        "/api/ideas",
        content=b'{"title": "' + b"x" * (DEFAULT_MAX_BODY + 10) + b'"}',
        headers={"x-csrf-token": token, "content-type": "application/json"},
    )
    assert response.status_code == 413 and response.json()["status"] == 413


def _multipart(fields: list[tuple[str, bytes]], boundary: str = "b0undary") -> tuple[bytes, str]:
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'.encode()
        + (b'; filename="register.csv"' if name == "file" else b"")
        + b"\r\n\r\n" + value + b"\r\n"
        for name, value in fields
    )
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_an_upload_carries_its_csrf_token_first_and_is_not_buffered_for_it(
    demo_client: Any,
) -> None:
    client, info = demo_client
    assert login(client, "organiser", info.organiser_password).status_code == 303
    token = csrf_of(client.get("/organiser/lottery").text).encode()
    upload = b"x" * (CSRF_SCAN * 8)
    url = "/organiser/lottery/register"
    late, kind = _multipart([("file", upload), ("csrf_token", token)])
    refused = client.post(url, content=late, headers={"content-type": kind})
    assert refused.status_code == 403
    first, kind = _multipart([("csrf_token", token), ("file", upload)])
    taken = client.post(url, content=first, headers={"content-type": kind})
    assert taken.status_code not in (403, 413)


def test_password_checks_leave_the_event_loop_free(db_url: str, tmp_path: Path) -> None:
    """A wrong login costs ~0.2 s of Argon2; run on the event loop, each one froze every other
    request (50 of them stalled /healthz for 6 s). The loop must keep ticking during a burst."""
    started = time.perf_counter()
    verify_password(hash_password("a-password-of-some-length"), "wrong password")
    one_check = time.perf_counter() - started
    app = create_app(make_settings(tmp_path, db_url, login_rate_per_minute=1000))
    with Client(app, base_url="http://testserver") as client:
        token = client.csrf()
        cookies = dict(client.cookies)

        async def burst() -> float:
            loop = asyncio.get_running_loop()
            transport = httpx.ASGITransport(app=app)
            gaps: list[float] = []
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver", cookies=cookies
            ) as http:
                form = {"username": "organiser", "password": "wrong password", "csrf_token": token}
                logins = [asyncio.create_task(http.post("/login", data=form)) for _ in range(8)]
                last = loop.time()
                while not all(task.done() for task in logins):
                    await asyncio.sleep(0.005)
                    gaps.append(loop.time() - last)
                    last = loop.time()
                assert {(await task).status_code for task in logins} == {400}
            return max(gaps)

        longest_stall = client.run(burst())
    assert longest_stall < 0.75 * one_check, (longest_stall, one_check)


@contextmanager
def _client(tmp_path: Path, db_url: str, address: str, **settings: Any) -> Iterator[Client]:
    app = create_app(make_settings(tmp_path, db_url, **settings))
    with Client(
        app, base_url="http://testserver", follow_redirects=False, client=(address, 40000)
    ) as client:
        yield client


def _attempt(client: Client, username: str, forwarded: str | None = None) -> int:
    token = client.csrf()
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    form = {"username": username, "password": "wrong password", "csrf_token": token}
    return client.post("/login", data=form, headers=headers).status_code


def test_login_failures_count_per_address_and_rotating_x_forwarded_for_does_not_help(
    db_url: str, tmp_path: Path
) -> None:
    with _client(tmp_path, db_url, "127.0.0.1", login_rate_per_minute=3) as client:
        codes = [_attempt(client, f"user{i}", f"10.0.0.{i}") for i in range(5)]
    assert codes == [400, 400, 400, 429, 429]


def test_login_failures_count_per_account_from_any_address(db_url: str, tmp_path: Path) -> None:
    proxies = ("127.0.0.1/32",)
    with _client(
        tmp_path, db_url, "127.0.0.1", login_rate_per_minute=3, trusted_proxies=proxies
    ) as client:
        # through a trusted proxy each address is its own; the account still locks
        codes = [_attempt(client, "organiser", f"10.0.1.{i}") for i in range(5)]
        others = [_attempt(client, f"user{i}", f"10.0.2.{i}") for i in range(5)]
    assert codes == [400, 400, 400, 429, 429]
    assert others == [400] * 5


def test_only_failed_link_openings_count(demo_client: Any) -> None:
    """200 people behind the venue's one address open their links; only guesses count."""
    from summit.core.ratelimit import RateLimiter

    client, info = demo_client
    client.app.state.link_limiter = RateLimiter(3)
    path = dict(info.links)["resident (venue)"]
    assert [client.get(path).status_code for _ in range(10)] == [303] * 10
    guesses = [client.get(path[:-6] + f"AAAA{i:02d}").status_code for i in range(4)]
    assert guesses == [404, 404, 404, 429]


def test_the_server_does_not_believe_x_forwarded_for_from_loopback(tmp_path: Path) -> None:
    env = {"SUMMIT_LOGIN_RATE_PER_MINUTE": "2", "SUMMIT_SECRET_KEY": "k" * 40}
    with run_server(tmp_path, env=env, args=["--no-demo"]) as server, httpx.Client(
        base_url=server.url
    ) as http:
        page = http.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, page[:300]
        codes = [
            http.post(
                "/login",
                data={"username": f"u{i}", "password": "wrong", "csrf_token": token.group(1)},
                headers={"x-forwarded-for": f"203.0.113.{i}"},
            ).status_code
            for i in range(3)
        ]
    assert codes == [400, 400, 429]
