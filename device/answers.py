"""How `digitcam watch` reports an answer: a flushed line of text or JSON, and a snapshot."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from device.annotate import caption, save_snapshot
from device.pipeline import Reading

FORMATS = ("text", "jsonl")


@dataclass(frozen=True)
class Answer:
    t: float  # Unix time of the frame
    frame: int  # its number, from 1
    reading: Reading
    fps: float | None  # recent frame rate; None until two frames were read


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def format_jsonl(answer: Answer) -> str:
    reading = answer.reading
    return json.dumps(
        {
            "t": round(answer.t, 3),
            **reading.fields(),
            "fps": _rounded(answer.fps, 1),
        }
    )


def format_text(answer: Answer) -> str:
    clock = time.strftime("%H:%M:%S", time.localtime(answer.t))
    fps = "" if answer.fps is None else f"  {answer.fps:.1f} fps"
    return f"{clock}  {caption(answer.reading)}{fps}"


class Reporter:
    """Writes each answer as a flushed line (a service pipes it to a log) and its snapshot."""

    def __init__(self, fmt: str, save_dir: Path | None, stream: TextIO):
        self.format = format_jsonl if fmt == "jsonl" else format_text
        self.save_dir, self.stream = save_dir, stream
        self.unsaved = 0

    def __call__(self, answer: Answer, grey: np.ndarray) -> None:
        # One write per line: a signal between print()'s two writes could leave half a line.
        self.stream.write(self.format(answer) + "\n")
        self.stream.flush()
        if self.save_dir is None:
            return
        try:
            save_snapshot(self.save_dir, answer.t, answer.frame, grey, answer.reading)
        except OSError as exc:
            self.unsaved += 1
            if self.unsaved == 1:  # a full disk would otherwise fill the log too
                print(f"digitcam watch: snapshot not saved ({exc})", file=sys.stderr)
