"""The `summit` command, run as a real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def summit(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "summit", *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def stop_processes(*procs: subprocess.Popen[bytes]) -> None:
    """Stop processes a test started: SIGTERM, then SIGKILL for one still there after 15 s."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(15)
