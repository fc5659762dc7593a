"""What the live view shows, handed over by the recognition loop without ever making it wait.

The loop only stores references (the latest frame and reading) and appends answers; a
separate thread encodes JPEGs at a capped rate, and only while someone is watching.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from device.vision.read import Reading
from device.web.frame import live_jpeg

HISTORY = 20  # answers a page gets when it connects


class LiveView:
    def __init__(self, fps: float):
        self.interval = 1.0 / fps
        self.about: dict[str, str] = {}  # source and model, for the page
        self.frames = 0
        self.fps: float | None = None
        self.closed = False
        self._latest: tuple[np.ndarray, Reading] | None = None
        self._changed = threading.Condition()
        self._answers: deque[tuple[int, str]] = deque(maxlen=HISTORY)
        self._answered = 0
        self._jpeg: bytes | None = None
        self._jpeg_number = 0  # how many JPEGs were encoded
        self._jpeg_time = float("-inf")
        self._wanting = 0  # streams and snapshots waiting: the encoder runs only for them
        self.streams = 0
        self._encoder = threading.Thread(target=self._encode, name="live-view-jpeg", daemon=True)

    # --- the recognition loop's side: O(1), never waits on a viewer --------------------------

    def offer(self, grey: np.ndarray, reading: Reading, fps: float | None) -> None:
        """Called for every frame: keeps it as the latest (the encoder copies nothing)."""
        self._latest = (grey, reading)
        self.fps = fps
        self.frames += 1

    def publish(self, line: str) -> None:
        """Called for every answer, with the JSON line `--format jsonl` writes for it."""
        with self._changed:  # held by others only for O(1) work, never while encoding
            self._answered += 1
            self._answers.append((self._answered, line))
            self._changed.notify_all()

    # --- the server's side ------------------------------------------------------------------

    def start(self) -> None:
        self._encoder.start()

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def status(self) -> dict:
        fps = None if self.fps is None else round(self.fps, 1)
        return {"frames": self.frames, "fps": fps, "viewers": self.streams}

    def answers_after(self, seen: int, timeout: float) -> list[tuple[int, str]] | None:
        """The answers numbered after `seen` (the last HISTORY at most), waiting up to timeout
        for one; None once the view is closed."""
        with self._changed:
            self._changed.wait_for(lambda: self.closed or self._answered > seen, timeout)
            return None if self.closed else [a for a in self._answers if a[0] > seen]

    @contextmanager
    def watching(self, stream: bool = True) -> Iterator[None]:
        """While inside, the encoder makes JPEGs (a stream counts as a viewer)."""
        with self._changed:
            self._wanting += 1
            self.streams += stream
            self._changed.notify_all()
        try:
            yield
        finally:
            with self._changed:
                self._wanting -= 1
                self.streams -= stream

    def jpeg_after(self, seen: int, timeout: float) -> tuple[int, bytes] | None:
        """The newest JPEG if it is numbered after `seen`, else the next one, waiting up to
        timeout; None if none came or the view is closed. Call it inside watching()."""
        with self._changed:
            self._changed.wait_for(lambda: self.closed or self._jpeg_number > seen, timeout)
            if self.closed or self._jpeg_number <= seen:
                return None
            return self._jpeg_number, self._jpeg

    def snapshot(self, timeout: float) -> bytes | None:
        """A JPEG of a recent frame: the last one encoded if it is fresh, else a new one."""
        with self.watching(stream=False):
            fresh = time.monotonic() - self._jpeg_time < 2 * self.interval
            got = self.jpeg_after(self._jpeg_number - 1 if fresh else self._jpeg_number, timeout)
        return None if got is None else got[1]

    def _encode(self) -> None:
        encoded_frame, due = -1, 0.0
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self.closed or self._wanting > 0)
                if self.closed:
                    return
            now = time.monotonic()
            latest, frame = self._latest, self.frames
            if latest is None or frame == encoded_frame or now < due:
                time.sleep(max(due - now, self.interval / 4))
                continue
            due = now + self.interval
            jpeg = live_jpeg(*latest)  # outside the lock: the loop may publish meanwhile
            encoded_frame = frame
            with self._changed:
                self._jpeg, self._jpeg_number = jpeg, self._jpeg_number + 1
                self._jpeg_time = time.monotonic()
                self._changed.notify_all()
