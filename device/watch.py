"""Read digits from the camera continuously and report each new stable answer."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from device.answers import FORMATS, Answer, Reporter
from device.batch import load_model
from device.camera import RETRIES
from device.cli import MODEL_ENV, add_model_arguments, default_model_path, whole_number
from device.contract import MetadataError
from device.interpreter import ModelError
from device.pipeline import DEFAULT_MIN_CONFIDENCE, Scorer, read_digit
from device.sources import (
    EXIT_CAMERA_BUSY,
    EXIT_CAMERA_STOPPED,
    EXIT_NO_CAMERA,
    EXIT_UNAVAILABLE,
    UNSUPPORTED_HELP,
    SourceError,
    open_source,
    parse_source,
)
from device.stability import DEFAULT_STABLE_FRAMES, Stabiliser

EXIT_STOPPED, EXIT_USAGE = 0, 2
FPS_WINDOW = 30  # frames over which the reported frame rate is measured

DESCRIPTION = f"""\
Read digits from the camera continuously and report each new stable answer.

Every frame goes through the same pipeline as 'digitcam predict'. An answer is reported once
it has been the same for --stable frames in a row, and again each time it changes. "No digit"
(blank paper, or nothing the model is sure of) is an answer too.

Sources (--source):
  picamera      the Raspberry Pi camera through picamera2 (the default), read as 640x480 grey
  dir:FOLDER    the pictures in FOLDER as frames, sorted by name (--loop plays them again)
  synthetic     seeded photos of font-drawn digits and of blank paper (--seed), for demos
{UNSUPPORTED_HELP}

Output: a line per answer for people ("text", the default on a terminal), or with
--format jsonl (the default when piped) one JSON object per answer, flushed at once:
  {{"t": 1714567890.123, "digit": 3, "confidence": 0.9961, "box": [x, y, w, h], "fps": 29.8}}
t is the Unix time of the frame; digit null means "no digit" (confidence then says how sure
the model was of its best guess, or is null when nothing digit-like was found); box is the
region read, in the frame's pixels, or null; fps is the recent frame rate (null at first).
Start, end and problems are reported on stderr. --save DIR keeps an annotated JPEG of the
frame behind each answer (box, answer and the 28x28 image the model saw).

Exit status:
  {EXIT_STOPPED}  stopped: Ctrl-C, SIGTERM, --frames reached, or the folder played to its end
  {EXIT_USAGE}  wrong usage, an unusable model, or a --save folder that cannot be made
  {EXIT_UNAVAILABLE}  no source: picamera2 missing, camera will not start, no pictures in folder
  {EXIT_NO_CAMERA}  no camera found
  {EXIT_CAMERA_BUSY}  the camera is in use by another process
  {EXIT_CAMERA_STOPPED}  the camera stopped delivering frames (after {RETRIES} tries)

The model is --model, else ${MODEL_ENV}, else the shipped one (as for 'digitcam predict').
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        type=parse_source,
        default=parse_source("picamera"),
        metavar="SOURCE",
        help="picamera (default), dir:FOLDER or synthetic",
    )
    parser.add_argument("--loop", action="store_true", help="dir: play the pictures again")
    parser.add_argument(
        "--seed",
        type=whole_number(0),
        default=0,
        metavar="N",
        help="synthetic: the seed (default 0)",
    )
    parser.add_argument(
        "--stable",
        type=whole_number(1),
        default=DEFAULT_STABLE_FRAMES,
        metavar="N",
        help="frames in a row an answer must last to be reported; 1 reports at once "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--frames", type=whole_number(1), metavar="N", help="stop after N frames (default: never)"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="text (the default on a terminal) or jsonl (the default when piped)",
    )
    parser.add_argument(
        "--save", type=Path, metavar="DIR", help="keep an annotated JPEG of each answer's frame"
    )
    add_model_arguments(parser, "interpreter threads")


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
) -> Tally:
    """Reads each frame and calls on_answer(answer, frame) for each new stable answer, until
    the frames run out or max_frames were read; `tally` counts them even if interrupted."""
    tally = tally or Tally()
    stabiliser, meter = Stabiliser(stable), FpsMeter()
    for grey in frames:
        reading = read_digit(grey, model, min_confidence)
        tally.frames += 1
        fps = meter.tick(time.monotonic())
        if stabiliser.update(reading.digit):
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


def _say(message: str) -> None:
    print(f"digitcam watch: {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        model = load_model(args.model or default_model_path(), threads=args.threads)
    except (ModelError, MetadataError) as exc:
        _say(str(exc))
        return EXIT_USAGE
    if args.save:
        try:
            args.save.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _say(f"{args.save}: cannot create ({exc.strerror})")
            return EXIT_USAGE
    fmt = args.format or ("text" if sys.stdout.isatty() else "jsonl")
    with sigterm_as_interrupt():
        return _watch_source(args, model, Reporter(fmt, args.save, sys.stdout))


def _watch_source(args: argparse.Namespace, model: Scorer, reporter: Reporter) -> int:
    tally, source, ending = Tally(), None, "stopped"
    try:
        source = open_source(args.source, loop=args.loop, seed=args.seed)
        _say(f"reading {source.description}; answers after {args.stable} equal frame(s)")
        tally.started = time.monotonic()  # the camera's settling is not frame time
        watch(source, model, reporter, args.stable, args.min_confidence, args.frames, tally)
        ending = "done" if args.frames and tally.frames >= args.frames else "no more frames"
    except KeyboardInterrupt:
        ending = "stopped"
    except SourceError as exc:
        _say(str(exc))
        return exc.exit_code
    except BrokenPipeError:
        # stdout's reader went away (`| head`): stop quietly, and keep Python's final flush of
        # the dead pipe from printing an error of its own.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        ending = "output closed"
    finally:
        if source is not None:
            with signals_held():
                source.close()
    _say(f"{ending} after {tally.frames} frame(s), {tally.fps():.1f} fps; source closed")
    return EXIT_STOPPED
