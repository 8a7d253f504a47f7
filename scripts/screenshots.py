"""Screenshots of the main pages for the README's tour, taken from a fresh demo summit.

Starts ``summit serve`` (a subprocess, ``python -m summit``) on a fresh demo summit in a temporary
data directory, reads the organiser's and moderator's logins and the participants' personal links
from what it prints, and opens the pages in Debian's headless Chromium (through Playwright, with
a fake camera and microphone) in Dutch:

- ``me``: a participant's own page (``/me``) on a phone, 390x844;
- ``video``: an online participant's video table (``/me/video``) after joining, with two table
  companions who joined through links the organiser issued, 1280x800;
- ``themes``: the moderator's theme board (``/moderator/themes``) after grouping the ideas,
  1280x800;
- ``hall``: the hall's screen through a display link (``/display/...``) issued on ``/council``,
  1920x1080 (with the themes when ``themes`` was taken first, as in a full run);
- ``lottery``: the organiser's lottery page (``/organiser/lottery``) after importing an invented
  register extract, publishing the commitment and drawing the invitations, 1280x800.

Each is a viewport-size PNG written to ``docs/screenshots/<name>.png`` (``--out`` for another
folder). The data directory is removed afterwards.

Usage::

    .venv/bin/python scripts/screenshots.py [--out DIR] [--only me,hall]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}
DISTRICTS = ("Centrum", "Noord", "Oost", "Zuid", "West", "Haven")
HALL = {"width": 1920, "height": 1080}
START_TIMEOUT = 120.0
COMPANIONS = 2  # table companions on the video screenshot
RESIDENTS = 3000  # in the invented register extract of the lottery screenshot
INVITATIONS = 1000
DICE = "31415926535897932384"  # the "publicly rolled" seed of the lottery screenshot


@dataclass
class Server:
    """A running ``summit serve`` and the lines it printed."""

    url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def credential(self, role: str) -> str:
        match = re.search(rf"{role} login: {role} / (\S+)", "\n".join(self.output))
        if not match:
            raise RuntimeError(f"no {role} login in the server's output")
        return match.group(1)

    def link(self, description: str) -> str:
        for line in self.output:
            key, _, value = line.strip().partition(": ")
            if key == description and value.startswith("http"):
                return value
        raise RuntimeError(f"no link for {description!r} in the server's output")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _read_lines(process: subprocess.Popen[str], into: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        into.append(line.rstrip("\n"))


@contextmanager
def serve(data_dir: Path) -> Iterator[Server]:
    """``summit serve`` on a fresh demo summit in ``data_dir``, until the block ends."""
    port = _free_port()
    env = {
        **os.environ,
        "SUMMIT_DATA_DIR": str(data_dir),
        "SUMMIT_MEDIA_LOOPBACK": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("SUMMIT_DATABASE_URL", None)  # always the embedded SQLite default
    env.pop("SUMMIT_BASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "summit", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    threading.Thread(target=_read_lines, args=(process, server.output), daemon=True).start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        # ready when it listens and has printed the demo's logins
        while not (_listening(port) and any("moderator login" in line for line in server.output)):
            if process.poll() is not None:
                raise RuntimeError("summit serve exited:\n" + "\n".join(server.output))
            if time.monotonic() > deadline:
                raise RuntimeError("summit serve did not start:\n" + "\n".join(server.output))
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


class Tour:
    """The pages to photograph, in the order a full run takes them."""

    def __init__(self, server: Server, browser: Any, out: Path) -> None:
        self.server = server
        self.browser = browser
        self.out = out

    def context(self, viewport: dict[str, int], **options: Any) -> Any:
        # bypass_csp: Playwright's wait_for_function evaluates with eval, which the policy forbids
        return self.browser.new_context(
            viewport=viewport, locale="nl-NL", bypass_csp=True, **options
        )

    def staff_page(self, role: str, then: str, viewport: dict[str, int]) -> Any:
        page = self.context(viewport).new_page()
        page.goto(f"{self.server.url}/login?next={then}")
        page.fill("input[name=username]", role)
        page.fill("input[name=password]", self.server.credential(role))
        page.press("input[name=password]", "Enter")
        page.wait_for_url(f"**{then}")
        return page

    def save(self, page: Any, name: str) -> Path:
        page.wait_for_load_state("networkidle")
        path = self.out / f"{name}.png"
        page.screenshot(path=str(path), animations="disabled", caret="hide")
        page.context.close()
        return path

    def me(self) -> Path:
        page = self.participant(self.server.link("resident (online)"), PHONE)
        return self.save(page, "me")

    def video(self) -> Path:
        page = self.participant(self.server.link("resident (online)"), LAPTOP)
        members = page.request.get(self.server.url + "/me/video.json").json()["members"]
        # Two table companions join first (with fresh links from the organiser), so the page
        # shows their video tiles and not only the participant's own preview.
        companions = [
            self.participant(link, LAPTOP) for link in self.issue_links(members[:COMPANIONS])
        ]
        for companion in [*companions, page]:
            companion.goto(self.server.url + "/me/video")
            companion.click("#video-join")
        page.wait_for_function(
            f"[...document.querySelectorAll('#video-tiles li:not([hidden]) video')]"
            f".filter((v) => v.readyState >= 2 && v.videoWidth > 0).length >= {len(companions)}",
            timeout=60_000,
        )
        page.wait_for_timeout(1500)  # a few frames of the fake cameras
        path = self.save(page, "video")
        for companion in companions:
            companion.context.close()
        return path

    def participant(self, link: str, viewport: dict[str, int]) -> Any:
        phone = viewport == PHONE
        page = self.context(viewport, is_mobile=phone, has_touch=phone).new_page()
        page.goto(link)
        page.wait_for_url("**/me")
        return page

    def issue_links(self, members: list[dict[str, Any]]) -> list[str]:
        """New personal links for the given table members, issued by the organiser."""
        page = self.staff_page("organiser", "/organiser/participants", LAPTOP)
        csrf = page.locator("input[name=csrf_token]").first.input_value()
        links = []
        for member in members:
            pid = str(member["media_id"]).removeprefix("p")
            answer = page.request.post(
                f"{self.server.url}/organiser/participants/{pid}/link",
                form={"csrf_token": csrf, "action": "issue"},
            )
            found = re.search(r"/p/[\w-]+", answer.text())
            if not found:
                raise RuntimeError(f"no personal link issued for participant {pid}")
            links.append(self.server.url + found.group(0))
        page.context.close()
        return links

    def themes(self) -> Path:
        page = self.staff_page("moderator", "/moderator/themes", LAPTOP)
        page.click("form[action='/moderator/themes/recluster'] button[type=submit]")
        page.wait_for_function(
            "document.querySelectorAll('.theme-card').length >= 2", timeout=120_000
        )
        scroll_to(page, "#theme-board")
        return self.save(page, "themes")

    def hall(self) -> Path:
        council = self.staff_page("organiser", "/council", LAPTOP)
        council.fill("#dl-label", "Grote zaal")
        council.press("#dl-label", "Enter")
        url = council.locator("#display-url").input_value()
        council.context.close()
        page = self.context(HALL).new_page()
        page.goto(url)
        # loaded: the screen has fetched its state; live: its socket is open
        page.wait_for_function(
            "Number(document.querySelector('[data-plenary]').dataset.loaded || '0') > 0"
            " && document.body.dataset.councilLive === '1'",
            timeout=30_000,
        )
        return self.save(page, "hall")

    def lottery(self) -> Path:
        page = self.staff_page("organiser", "/organiser/lottery", LAPTOP)
        register = {"name": "register.csv", "mimeType": "text/csv", "buffer": register_csv()}
        page.set_input_files("#f-file", register)
        page.fill("#f-map-district", "Wijk")
        page.click("form[action='/organiser/lottery/register'] button[type=submit]")
        page.fill("#f-sample", str(INVITATIONS))
        page.click("form[action='/organiser/lottery/commit'] button[type=submit]")
        page.fill("#f-seed", DICE)
        page.click("form[action='/organiser/lottery/draw'] button[type=submit]")
        page.wait_for_selector("#h-draw ~ p code.hash")
        page.evaluate("window.scrollTo(0, 0)")
        return self.save(page, "lottery")

    def pages(self) -> dict[str, Callable[[], Path]]:
        return {
            "me": self.me,
            "video": self.video,
            "themes": self.themes,
            "hall": self.hall,
            "lottery": self.lottery,
        }


def register_csv(residents: int = RESIDENTS) -> bytes:
    """An invented register extract (BRP-uittreksel) of Lindeveld, the same on every run."""
    rng = random.Random("lindeveld-register")
    lines = ["BSN;Geslacht;Geboortedatum;Postcode;Adres;Wijk"]
    for i in range(residents):
        district = rng.choice(DISTRICTS)
        born = dt.date(rng.randint(1935, 2012), rng.randint(1, 12), rng.randint(1, 28))
        postcode = f"{7300 + DISTRICTS.index(district)} {rng.choice('ABCDEF')}{rng.choice('GHKL')}"
        street = f"{district}straat {rng.randint(1, residents // 3)}"
        lines.append(f"{100000000 + i};{rng.choice('MV')};{born};{postcode};{street};{district}")
    return ("\r\n".join(lines) + "\r\n").encode()


def scroll_to(page: Any, selector: str) -> None:
    """Scroll so that ``selector``'s element starts near the top of the viewport."""
    page.evaluate(
        """(selector) => {
          const top = document.querySelector(selector).getBoundingClientRect().top;
          window.scrollTo(0, top + window.scrollY - 16);
        }""",
        selector,
    )


NAMES = ("me", "video", "themes", "hall", "lottery")


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"choose from {', '.join(NAMES)} (got {', '.join(unknown) or 'nothing'})"
        )
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Start summit serve on a fresh demo summit in a temporary folder and take "
        "viewport-size PNG screenshots of its main pages in Dutch with Debian's headless "
        "Chromium, one line of progress per page.",
        epilog="pages: me (/me on a phone), video (/me/video with two companions), themes "
        "(/moderator/themes after grouping), hall (/display/... at 1920x1080), lottery "
        "(/organiser/lottery after an invented register's draw)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help="folder for the <name>.png files (default: docs/screenshots)",
    )
    parser.add_argument(
        "--only",
        type=_names,
        default=list(NAMES),
        metavar="NAMES",
        help="comma-separated pages to take (default: all of " + ",".join(NAMES) + ")",
    )
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        parser.error(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    args.out.mkdir(parents=True, exist_ok=True)
    wanted = [name for name in NAMES if name in args.only]
    with tempfile.TemporaryDirectory(prefix="summit-screenshots-") as data:
        print(f"starting summit serve on a fresh demo summit in {data}", flush=True)
        with serve(Path(data)) as server, chromium() as browser:
            tour = Tour(server, browser, args.out)
            steps = tour.pages()
            for name in wanted:
                started = time.monotonic()
                path = steps[name]()
                print(f"{name}: {path} ({time.monotonic() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
