"""Writes readings to stdout as an aligned table, JSON lines or CSV, one row per input file."""

from __future__ import annotations

import csv
import json
from typing import TextIO

from device.batch import FileReading

FORMATS = ("table", "jsonl", "csv")
FIELDS = ("path", "digit", "confidence", "box", "error")


def record(result: FileReading) -> dict:
    """The five fields every format carries; digit null means "no digit" (see --help)."""
    read = result.reading.fields() if result.reading else dict.fromkeys(FIELDS[1:4])
    return {"path": result.path, **read, "error": result.error}


class JsonLinesSink:
    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, result: FileReading) -> None:
        self.stream.write(json.dumps(record(result)) + "\n")


class CsvSink:
    """CSV with a header; box is "x y w h", empty fields stand for null."""

    def __init__(self, stream: TextIO):
        self.writer = csv.writer(stream, lineterminator="\n")
        self.writer.writerow(FIELDS)

    def write(self, result: FileReading) -> None:
        row = record(result)
        row["box"] = None if row["box"] is None else " ".join(map(str, row["box"]))
        self.writer.writerow("" if row[f] is None else row[f] for f in FIELDS)


class TableSink:
    """Aligned columns, written as results arrive (so the path goes last, unpadded)."""

    LAYOUT = "{digit:<8}  {confidence:>10}  {box:<19}  {path}"

    def __init__(self, stream: TextIO):
        self.stream = stream
        header = {f: f for f in FIELDS}
        self.stream.write(self.LAYOUT.format(**header) + "\n")

    def write(self, result: FileReading) -> None:
        row = record(result)
        if row["error"] is not None:
            digit, path = "error", f"{row['path']}: {row['error']}"
        else:
            digit = "no digit" if row["digit"] is None else str(row["digit"])
            path = row["path"]
        confidence = "-" if row["confidence"] is None else f"{row['confidence']:.3f}"
        box = "-" if row["box"] is None else " ".join(map(str, row["box"]))
        line = self.LAYOUT.format(digit=digit, confidence=confidence, box=box, path=path)
        self.stream.write(line + "\n")


def make_sink(name: str, stream: TextIO) -> JsonLinesSink | CsvSink | TableSink:
    return {"table": TableSink, "jsonl": JsonLinesSink, "csv": CsvSink}[name](stream)
