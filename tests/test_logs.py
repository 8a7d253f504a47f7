"""The log stream never stalls the platform: lines are written by a thread of their own, and a
reader that stops reading (a full pipe) costs log lines, counted, never the event loop."""

from __future__ import annotations

import json
import select
import subprocess
import sys

PROGRAM = """
import logging
from summit.core import logs
logs.configure("info")
log = logging.getLogger("summit.test")
for i in range(3 * logs.QUEUE_LINES):
    log.info("line", extra={"fields": {"i": i}})
print("done", flush=True)
"""


def test_a_log_reader_that_stops_reading_never_blocks_the_logging_code() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", PROGRAM],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        # nobody reads stderr yet: a writer on the logging thread's path would block for ever
        ready, _w, _x = select.select([process.stdout], [], [], 120)
        assert ready, "logging blocked the program while its log pipe was full"
        assert process.stdout.readline().strip() == "done"
        lines = [json.loads(line) for line in process.stderr]
        assert process.wait(60) == 0
    finally:
        process.kill()
    written = [entry["i"] for entry in lines if entry["message"] == "line"]
    dropped = sum(
        entry.get("dropped", 0) for entry in lines if entry["message"] == "log lines dropped"
    )
    assert written == sorted(written) and written[0] == 0  # in order, from the first line
    assert dropped > 0 and len(written) + dropped == 30_000
    assert all(
        entry["level"] == "info" and entry["logger"] == "summit.test"
        for entry in lines
        if entry["message"] == "line"
    )
