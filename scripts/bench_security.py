"""Benchmark of two hardening findings against a running server on loopback.

1. *big forms* (finding 5): ``--parallel`` clients each POST a form of ``--fields`` fields of
   ``--field-mb`` MB to ``/login`` at the same moment, streamed (the client holds one chunk at a
   time), the CSRF token of a real session as the first field, as an attacker with a session
   would. Reported: the server's resident memory before, its peak (``VmHWM``) after, and the
   statuses (413 expected: the body limit cuts each request off after 128 kB).
2. *login flood* (finding 6): ``--logins`` wrong logins at once (the login limit raised so that
   every one of them runs Argon2) while ``/healthz`` is asked every 20 ms; reported: its latency
   (p50, p99, max) during the flood and the flood's duration.

The server is ``python -m summit serve --no-demo`` in a fresh data folder; ``--tree DIR`` runs
the code of another checkout (e.g. an export of an earlier commit) for a before/after comparison.
The last line is one JSON object. Usage::

    .venv/bin/python scripts/bench_security.py [--parallel 3] [--fields 1000] [--field-mb 0.98]
        [--logins 50] [--tree DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 64 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_mb(pid: int, field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of a process, in MB."""
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return round(int(match.group(1)) / 1024, 1) if match else 0.0


def start_server(tree: Path, data: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "SUMMIT_DATA_DIR": str(data),
        "SUMMIT_SECRET_KEY": "bench-" + "k" * 40,
        "SUMMIT_LOGIN_RATE_PER_MINUTE": "100000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "summit", "serve", "--no-demo", "--port", str(port)],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


async def session_token(http: httpx.AsyncClient) -> str:
    page = (await http.get("/login")).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:300]
    return match.group(1)


async def big_form(url: str, fields: int, field_mb: float) -> int:
    async with httpx.AsyncClient(base_url=url, timeout=600) as http:
        token = await session_token(http)

        async def body() -> AsyncIterator[bytes]:
            yield f"csrf_token={token}".encode()
            block = b"x" * CHUNK
            for number in range(fields):
                yield f"&f{number}=".encode()
                for _ in range(int(field_mb * 1024 * 1024) // CHUNK):
                    yield block

        headers = {"content-type": "application/x-www-form-urlencoded"}
        try:
            response = await http.post("/login", content=body(), headers=headers)
        except (httpx.TransportError, OSError):
            return 0  # the server closed the connection on an oversized body
        return response.status_code


async def forms(url: str, pid: int, args: argparse.Namespace) -> dict[str, object]:
    before = memory_mb(pid, "VmRSS")
    started = time.perf_counter()
    statuses = await asyncio.gather(
        *(big_form(url, args.fields, args.field_mb) for _ in range(args.parallel))
    )
    return {
        "parallel": args.parallel,
        "fields": args.fields,
        "field_mb": args.field_mb,
        "statuses": statuses,
        "seconds": round(time.perf_counter() - started, 2),
        "rss_before_mb": before,
        "rss_peak_mb": memory_mb(pid, "VmHWM"),
        "rss_after_mb": memory_mb(pid, "VmRSS"),
    }


async def flood(url: str, logins: int) -> dict[str, object]:
    limits = httpx.Limits(max_connections=logins + 10)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        token = await session_token(http)
        latencies: list[float] = []
        done = asyncio.Event()

        async def probe() -> None:
            while not done.is_set():
                started = time.perf_counter()
                await http.get("/healthz")
                latencies.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.02)

        async def wrong(number: int) -> int:
            form = {"username": f"user{number}", "password": "wrong", "csrf_token": token}
            return (await http.post("/login", data=form)).status_code

        prober = asyncio.create_task(probe())
        await asyncio.sleep(0.3)
        started = time.perf_counter()
        statuses = await asyncio.gather(*(wrong(n) for n in range(logins)))
        seconds = time.perf_counter() - started
        done.set()
        await prober
    ordered = sorted(latencies)
    return {
        "logins": logins,
        "statuses": sorted(set(statuses)),
        "flood_seconds": round(seconds, 2),
        "healthz_samples": len(ordered),
        "healthz_p50_ms": round(statistics.median(ordered), 1),
        "healthz_p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
        "healthz_max_ms": round(ordered[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--parallel", type=int, default=3)
    parser.add_argument("--fields", type=int, default=1000)
    parser.add_argument("--field-mb", type=float, default=0.98)
    parser.add_argument("--logins", type=int, default=50)
    parser.add_argument("--tree", type=Path, default=ROOT)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        server = start_server(args.tree.resolve(), Path(data), port)
        try:
            result = {
                "tree": str(args.tree),
                "cpus": os.cpu_count(),
                "big_forms": asyncio.run(forms(url, server.pid, args)),
                "login_flood": asyncio.run(flood(url, args.logins)),
            }
        finally:
            server.terminate()
            server.wait(10)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
