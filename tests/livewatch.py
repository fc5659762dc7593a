"""A `digitcam watch` process for the live-view tests, and waiting for something to happen."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time

from tests.conftest import REPO

URL_LINE = re.compile(r"live view on (http://([\d.]+):(\d+)/)")


class Watch:
    """A `digitcam watch --http` process; its stdout (JSONL) and stderr lines collected."""

    def __init__(self, *options: str):
        command = [sys.executable, "-m", "device", "watch", "--format", "jsonl", *options]
        self.process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, lines in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=self._collect, args=(stream, lines), daemon=True).start()
        found = wait_until(lambda: any(URL_LINE.search(line) for line in self.err), 120)
        assert found, f"watch printed no URL: {self.err}"
        match = next(URL_LINE.search(line) for line in self.err if URL_LINE.search(line))
        self.url, self.host, self.port = match.group(1), match.group(2), int(match.group(3))
        assert wait_until(lambda: any("reading " in line for line in self.err), 120), self.err

    @staticmethod
    def _collect(stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
