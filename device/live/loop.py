"""The watch loop: read every frame, report each new stable answer, stop cleanly on signals."""

from __future__ import annotations

import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from device.contract import DEFAULT_MIN_CONFIDENCE
from device.live.stability import DEFAULT_STABLE_FRAMES, Stabiliser
from device.output.formats import Answer
from device.vision.read import Reading, Scorer, read_digit

FPS_WINDOW = 30  # frames over which the reported frame rate is measured


class FpsMeter:
    """Frames per second over the last few frames."""

    def __init__(self, window: int = FPS_WINDOW):
        self._times: deque[float] = deque(maxlen=window)

    def tick(self, now: float) -> float | None:
        self._times.append(now)
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else None


@dataclass
class Tally:
    frames: int = 0
    started: float = field(default_factory=time.monotonic)

    def fps(self) -> float:
        return self.frames / max(time.monotonic() - self.started, 1e-9)


def watch(
    frames: Iterable[np.ndarray],
    model: Scorer,
    on_answer: Callable[[Answer, np.ndarray], None],
    stable: int = DEFAULT_STABLE_FRAMES,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    max_frames: int | None = None,
    tally: Tally | None = None,
    on_frame: Callable[[np.ndarray, Reading, float | None], None] | None = None,
) -> Tally:
    """Reads each frame and calls on_answer(answer, frame) for each new stable answer, until
    the frames run out or max_frames were read; `tally` counts them even if interrupted.

    on_frame(frame, reading, fps), if given, sees every frame (the live view); it must
    return at once, as it runs on the camera's time."""
    tally = tally or Tally()
    stabiliser, meter = Stabiliser(stable), FpsMeter()
    for grey in frames:
        reading = read_digit(grey, model, min_confidence)
        tally.frames += 1
        fps = meter.tick(time.monotonic())
        if on_frame is not None:
            on_frame(grey, reading, fps)
        if stabiliser.update(reading.text):
            on_answer(Answer(time.time(), tally.frames, reading, fps), grey)
        if max_frames is not None and tally.frames >= max_frames:
            break
    return tally


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (systemd stopping the service) stops watch the way Ctrl-C does."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def signals_held() -> Iterator[None]:
    """A second Ctrl-C or SIGTERM must not cut the camera's release short."""
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
