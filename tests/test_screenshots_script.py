"""``scripts/screenshots.py`` runs a fresh demo summit and writes the README's screenshots: each
page a valid PNG of its viewport's size (phone, laptop, hall screen) with something on it."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from tests.support.browser import needs_chromium

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "screenshots.py"
SIZES = {
    "me": (390, 844),
    "video": (1280, 800),
    "themes": (1280, 800),
    "hall": (1920, 1080),
    "lottery": (1280, 800),
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _png(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the decompressed image data (scanlines with their filter bytes)."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    assert data[12:16] == b"IHDR", path
    width, height = struct.unpack(">II", data[16:24])
    pixels, offset = b"", 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        if kind == b"IDAT":
            pixels += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    return width, height, zlib.decompress(pixels)


def test_the_readme_shows_every_screenshot_and_says_how_to_make_them() -> None:
    readme = (ROOT / "README.md").read_text()
    shown = re.findall(r"!\[[^\]]+\]\((docs/screenshots/[\w-]+\.png)\)", readme)
    assert sorted(shown) == sorted(f"docs/screenshots/{name}.png" for name in SIZES)
    assert all((ROOT / path).is_file() for path in shown)
    assert "scripts/screenshots.py" in readme


def test_help_names_the_pages_and_the_options() -> None:
    done = _run("--help", timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--out" in done.stdout and "--only" in done.stdout
    assert all(name in done.stdout for name in SIZES)


def test_an_unknown_page_is_refused_before_anything_starts(tmp_path: Path) -> None:
    done = _run("--out", str(tmp_path), "--only", "me,lobby", timeout=60)
    assert done.returncode == 2
    assert "lobby" in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.browser
@needs_chromium
@pytest.mark.timeout(300)
def test_every_page_is_a_png_of_its_viewport_with_something_on_it(tmp_path: Path) -> None:
    done = _run("--out", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.png" for n in SIZES)
    for name, (width, height) in SIZES.items():
        assert f"{name}: {tmp_path / name}.png" in done.stdout  # progress, one line per page
        shot = tmp_path / f"{name}.png"
        assert _png(shot)[:2] == (width, height), name
        raw = _png(shot)[2]
        # RGB(A) scanlines: a blank page has a handful of byte values, a real page hundreds.
        assert len(raw) >= height * (width * 3 + 1), name
        assert len(set(raw)) > 64, name
        assert shot.stat().st_size > 20_000, name
