"""Real-browser tests: a running `summit serve`, Debian's headless Chromium, axe and video."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (scripts/install --test)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    @property
    def banner(self) -> str:
        return "\n".join(self.output)

    def credential(self, role: str) -> str:
        match = re.search(rf"{role} login: {role} / (\S+)", self.banner)
        assert match, self.banner
        return match.group(1)

    def links(self) -> dict[str, str]:
        return dict(
            re.findall(r"^\s+(\S+ \(\w+\)|table host \(\w+\)): (http\S+)$", self.banner, re.M)
        )


def _drain(stream: Any, output: list[str], keep: int = 5000) -> None:
    """Read ``stream`` to its end into ``output``: the first lines (the banner with the logins
    and links) and the latest ``keep``."""
    head = len(output)
    for line in stream:
        output.append(line.rstrip("\n"))
        if len(output) > head + 2 * keep:
            del output[head : len(output) - keep]


@contextmanager
def run_server(
    data_dir: Path, env: dict[str, str] | None = None, args: list[str] | None = None
) -> Iterator[Server]:
    port = free_port()
    environ = {**os.environ, "SUMMIT_DATA_DIR": str(data_dir), **(env or {})}
    command = [sys.executable, "-m", "summit", "serve", "--port", str(port), *(args or [])]
    process = subprocess.Popen(
        command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 90
    try:
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if line:
                server.output.append(line.rstrip("\n"))
                continue
            if process.poll() is not None:
                raise RuntimeError("server exited:\n" + server.banner)
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start in 90 s:\n" + server.banner)
        time.sleep(0.2)
        while line := process.stdout.readline():
            server.output.append(line.rstrip("\n"))
        # Keep reading what the server writes: a pipe nobody reads fills up and then blocks
        # the server's next write (its request log) and with it the whole server.
        os.set_blocking(process.stdout.fileno(), True)
        threading.Thread(target=_drain, args=(process.stdout, server.output), daemon=True).start()
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


class CspBypassingBrowser:
    """The launched browser, whose contexts bypass the pages' Content-Security-Policy unless told
    otherwise: Playwright's ``wait_for_function`` evaluates its predicate with ``eval``, which the
    policy forbids. tests/test_security_browser.py checks the policy itself (bypass_csp=False)."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser

    def new_context(self, **options: Any) -> Any:
        options.setdefault("bypass_csp", True)
        return self._browser.new_context(**options)

    def new_page(self, **options: Any) -> Any:
        options.setdefault("bypass_csp", True)
        return self._browser.new_page(**options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield CspBypassingBrowser(browser)
        finally:
            browser.close()


def log_in(page: Any, base_url: str, username: str, password: str, then: str = "/") -> None:
    """Sign a staff member in through the login form (English) and wait for ``then`` to load."""
    page.goto(f"{base_url}/login?lang=en&next={then}")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{then}")


def axe_violations(page: Any, *, targets: int = 0) -> list[str]:
    """The page's WCAG 2.1 A/AA violations found by axe, one line each; with ``targets``, the
    line also names the CSS selectors of that many offending elements."""
    from axe_playwright_python.sync_playwright import Axe

    # violations only: axe then builds selectors for the violating nodes alone, not for every
    # node that passed (half of its time per page)
    rules = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
    results = Axe().run(page, options={"runOnly": rules, "resultTypes": ["violations"]})
    lines = []
    for v in results.response["violations"]:
        line = f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        if targets:
            line += " at " + ", ".join(str(n["target"]) for n in v["nodes"][:targets])
        lines.append(line)
    return lines


PLAYING = """async ([mediaId]) => {
  const video = document.querySelector(`#video-tiles video[data-media-id="${mediaId}"]`);
  if (!video || video.readyState < 2 || video.videoWidth === 0) return false;
  const t0 = video.currentTime;
  const f0 = await window.summitVideo.framesDecoded();
  await new Promise((r) => setTimeout(r, 700));
  const f1 = await window.summitVideo.framesDecoded();
  return video.currentTime > t0 && f1 > f0;
}"""


def wait_playing(page: Any, media_id: str, timeout: float = 30.0) -> None:
    """Wait until the page's video tile of ``media_id`` plays (its frames advance)."""
    # page.evaluate awaits the check's promise (wait_for_function would take it as truthy)
    deadline = time.monotonic() + timeout
    while not page.evaluate(PLAYING, [media_id]):
        assert time.monotonic() < deadline, page.evaluate("window.summitVideo.history")
        page.wait_for_timeout(300)
