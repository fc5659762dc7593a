"""How readings leave digitcam: rows for predict and answers for watch, as table, JSONL or CSV.

Standard library only at import, so that the commands can name the formats cheaply.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import numpy as np

    from device.vision.read import Reading

FILE_FORMATS = ("table", "jsonl", "csv")  # predict: one row per file
ANSWER_FORMATS = ("table", "jsonl")  # watch: one line per answer
# JSONL: every field; CSV: the flat ones, the original five first (then text, rejected, crowded)
FIELDS = ("path", "text", "digit", "confidence", "box", "digits", "rejected", "crowded", "error")
CSV_FIELDS = ("path", "digit", "confidence", "box", "error", "text", "rejected", "crowded")


@dataclass(frozen=True)
class FileReading:
    """What one file gave: a reading (box in the file's upright pixels) or an error."""

    path: str
    reading: Reading | None
    error: str | None
    trace: str | None = None  # the traceback, when the error was a bug rather than the file


@dataclass(frozen=True)
class Answer:
    """A stable answer of `watch`: the reading of one frame, when and how fast."""

    t: float  # Unix time of the frame
    frame: int  # its number, from 1
    reading: Reading
    fps: float | None  # recent frame rate; None until two frames were read


def caption(reading: Reading) -> str:
    """'2025 (0.97)' (the weakest digit's confidence), '3 (0.99)', 'no digit (unsure: 0.41)'
    or 'no digit', with ', crowded' when only part of a full page was read."""
    crowded = ", crowded" if reading.crowded else ""
    if reading.text is not None:
        return f"{reading.text} ({reading.weakest:.2f}{crowded})"
    if reading.confidence is not None:
        return f"no digit (unsure: {reading.confidence:.2f}{crowded})"
    return "no digit" + (" (crowded)" if crowded else "")


def shown_path(path: str) -> str:
    """A file name as text, the same in every format: a byte that is not valid UTF-8 (which
    Python keeps as a lone surrogate) is written as \\xHH; everything else is kept as it is."""
    try:
        raw = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that no file name decodes to
        return path.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


# The table is for people and keeps one line per file: control characters become \xHH too.
TABLE_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(32), 127)}


def table_path(path: str) -> str:
    """A file name as the table shows it: shown_path, and control characters as \\xHH."""
    return shown_path(path).translate(TABLE_ESCAPES)


def record(result: FileReading) -> dict:
    """The fields every format carries; text null means "no digit" (see --help)."""
    if result.reading:
        read = result.reading.fields()
    else:
        read = dict.fromkeys(FIELDS[1:-1]) | {"digits": [], "rejected": 0, "crowded": False}
    return {"path": shown_path(result.path), **read, "error": result.error}


class JsonLinesSink:
    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, result: FileReading) -> None:
        self.stream.write(json.dumps(record(result)) + "\n")


class CsvSink:
    """CSV with a header; box is "x y w h", crowded 0 or 1, empty fields stand for null."""

    def __init__(self, stream: TextIO):
        self.writer = csv.writer(stream, lineterminator="\n")
        self.writer.writerow(CSV_FIELDS)

    def write(self, result: FileReading) -> None:
        row = record(result)
        row["box"] = None if row["box"] is None else " ".join(map(str, row["box"]))
        row["crowded"] = int(row["crowded"])
        self.writer.writerow("" if row[f] is None else row[f] for f in CSV_FIELDS)


class TableSink:
    """Aligned columns, written as results arrive (so the path goes last, unpadded)."""

    LAYOUT = "{text:<12}  {confidence:>10}  {box:<19}  {path}"

    def __init__(self, stream: TextIO):
        self.stream = stream
        header = {"text": "text", "confidence": "confidence", "box": "box", "path": "path"}
        self.stream.write(self.LAYOUT.format(**header) + "\n")

    def write(self, result: FileReading) -> None:
        """text (+ when crowded), the weakest digit's confidence, the box around the digits."""
        reading = result.reading
        if result.error is not None or reading is None:
            text, path = "error", f"{table_path(result.path)}: {result.error}"
            confidence, box = None, None
        else:
            text = "no digit" if reading.text is None else reading.text
            text += "+" if reading.crowded else ""
            path, confidence = table_path(result.path), reading.weakest
            box = reading.outline
        shown = "-" if confidence is None else f"{confidence:.3f}"
        where = "-" if box is None else " ".join(map(str, box))
        line = self.LAYOUT.format(text=text, confidence=shown, box=where, path=path)
        self.stream.write(line + "\n")


def make_sink(name: str, stream: TextIO) -> JsonLinesSink | CsvSink | TableSink:
    return {"table": TableSink, "jsonl": JsonLinesSink, "csv": CsvSink}[name](stream)


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


def format_table(answer: Answer) -> str:
    clock = time.strftime("%H:%M:%S", time.localtime(answer.t))
    fps = "" if answer.fps is None else f"  {answer.fps:.1f} fps"
    return f"{clock}  {caption(answer.reading)}{fps}"


class Reporter:
    """Writes each answer as a flushed line (a service pipes it to a log) and, when given a
    snapshot writer (watch --save), the annotated frame behind it.

    When the output cannot be written (a full disk, an I/O error) watch goes on reading: the
    answers meanwhile are dropped (counted in `lost`), and the output is tried again every
    RETRY_SECONDS with the latest answer. A closed pipe (BrokenPipeError) still stops watch."""

    RETRY_SECONDS = 30.0

    def __init__(
        self,
        fmt: str,
        stream: TextIO,
        snapshot: Callable[[Answer, np.ndarray], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.format = format_jsonl if fmt == "jsonl" else format_table
        self.stream, self.snapshot, self.clock = stream, snapshot, clock
        self.unsaved = 0
        self.lost = 0  # answers not written
        self.failure: str | None = None  # why the output failed, while it does
        self.retry_at = 0.0

    def __call__(self, answer: Answer, grey: np.ndarray) -> None:
        self._write(self.format(answer) + "\n")
        if self.snapshot is None:
            return
        try:
            self.snapshot(answer, grey)
        except OSError as exc:
            self.unsaved += 1
            if self.unsaved == 1:  # a full disk would otherwise fill the log too
                print(f"digitcam watch: snapshot not saved ({exc})", file=sys.stderr)

    def _write(self, line: str) -> None:
        if self.failure is not None and self.clock() < self.retry_at:
            self.lost += 1
            return
        try:
            if self.failure is not None:
                self.stream.flush()  # what the failed attempt left buffered goes first
            # One write per line: a signal between print()'s two writes could leave half a line.
            self.stream.write(line)
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            self.lost += 1
            if self.failure is None:
                self.failure = exc.strerror or str(exc)
                print(
                    f"digitcam watch: cannot write answers ({self.failure}); still reading, "
                    f"trying again every {self.RETRY_SECONDS:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
            self.retry_at = self.clock() + self.RETRY_SECONDS
            return
        if self.failure is not None:
            print(
                f"digitcam watch: answers written again ({self.lost} lost meanwhile)",
                file=sys.stderr,
                flush=True,
            )
            self.failure = None
