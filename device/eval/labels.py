"""labels.csv for `digitcam eval`: which answer each picture should get, and notes on bad rows."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from device.regular import read_regular

NONE = "none"  # the label of a picture with no digit on it
# A digit ("7"), or a number as digits ("2025", "0792"); lines of a number written on several
# lines are separated by one space ("12 34").
LABEL = re.compile(r"[0-9]+( [0-9]+)*")
MAX_LABELS_BYTES = 64 << 20  # a million rows is about 20 MB


class LabelsError(Exception):
    """The labels file as a whole cannot be used (missing, unreadable, no file,label header)."""


@dataclass
class Labels:
    """The labelled pictures (path -> label, in the file's order) and one note per bad row."""

    pictures: dict[Path, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("missing file", "unknown label", "duplicate row", "outside the folder", "no label"),
            0,
        )
    )

    def note(self, kind: str, text: str) -> None:
        self.counts[kind] += 1
        self.notes.append(text)


def parse_label(text: str) -> str | None:
    """The label in canonical form ("7", "2025", "12 34" or "none"), or None if it is not one."""
    cleaned = " ".join(text.split())
    if cleaned.lower() == NONE:
        return NONE
    return cleaned if LABEL.fullmatch(cleaned) else None


def read_labels(labels_path: Path, folder: Path) -> Labels:
    """Reads a `file,label` CSV (file relative to `folder`); bad rows become notes, not errors."""
    try:
        text = read_regular(labels_path, MAX_LABELS_BYTES).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except FileNotFoundError:
        raise LabelsError(
            f"{labels_path}: no labels file (columns file,label; see --help)"
        ) from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LabelsError(f"{labels_path}: cannot read ({exc})".splitlines()[0]) from None
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    if "file" not in header or "label" not in header:
        raise LabelsError(f"{labels_path}: the first row must name the columns file,label")
    file_at, label_at = header.index("file"), header.index("label")
    labels = Labels()
    first_line: dict[Path, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        name = row[file_at].strip() if len(row) > file_at else ""
        raw = row[label_at] if len(row) > label_at else ""
        where = f"{labels_path.name} line {line}"
        label = parse_label(raw)
        if not name or label is None:
            labels.note(
                "unknown label",
                f"{where}: label {raw.strip()!r} for {name or '(no file)'} is not a digit, "
                "a digit string or 'none'; row skipped",
            )
            continue
        path = folder / name
        try:
            inside = path.resolve().is_relative_to(folder.resolve())
        except (OSError, RuntimeError):  # a name too long, a symlink loop
            inside = False
        if not inside:
            labels.note("outside the folder", f"{where}: {name} is not inside {folder}; skipped")
            continue
        path = Path(os.path.normpath(path))  # a.png and sub/../a.png are one picture
        if path in first_line:
            labels.note(
                "duplicate row",
                f"{where}: {name} already labelled on line {first_line[path]}; row skipped",
            )
            continue
        first_line[path] = line
        if not _regular(path):
            labels.note("missing file", f"{where}: {name} not found in {folder}; row skipped")
            continue
        labels.pictures[path] = label
    return labels


def _regular(path: Path) -> bool:
    """A regular file (not a FIFO or a device, which could block or never end)."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def note_unlabelled(labels: Labels, pictures: list[Path], folder: Path) -> None:
    """A note for each picture in the folder that no row labels (it is not scored)."""
    for picture in pictures:
        if picture not in labels.pictures:
            labels.note("no label", f"{picture.relative_to(folder)}: no label; not scored")
