"""Scores answers against labels: accuracy per kind of label, per class, per folder; confusion."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import PurePath

from device.eval.labels import NONE

DIGITS = tuple(str(d) for d in range(10))
CLASSES = (*DIGITS, NONE)  # rows and columns of the confusion matrix
SEVERAL = "several"  # the matrix's column for an answer of more than one digit


def answer_of(reading) -> str | None:
    """The answer that is scored: "7", "2025" (lines joined by a space) or None (no digit)."""
    return None if reading is None else reading.text


@dataclass(frozen=True)
class Scored:
    """One labelled picture: its label, the answer (None: no digit) and why it has none."""

    file: str  # relative to the evaluated folder
    label: str  # "7", "2025" or "none"
    answer: str | None
    confidence: float | None
    box: list[int] | None
    error: str | None  # the picture could not be read

    @property
    def right(self) -> bool:
        return self.error is None and (self.answer or NONE) == self.label

    @property
    def kind(self) -> str:
        """'digit', 'number' (several digits) or 'none': what the label asks for."""
        if self.label == NONE:
            return NONE
        return "digit" if len(self.label) == 1 else "number"


def _rate(hits: int, total: int) -> float | None:
    return hits / total if total else None


def group_of(file: str) -> str:
    """The subfolder a file is in (its first path part), '' at the top of the folder."""
    parts = PurePath(file).parts
    return parts[0] if len(parts) > 1 else ""


def summarise(scored: list[Scored]) -> dict:
    """The figures of an evaluation, as JSON-ready numbers (rates 0-1, None when undefined)."""
    by_kind = {kind: [s for s in scored if s.kind == kind] for kind in ("digit", "number", NONE)}
    has_digits = by_kind["digit"] + by_kind["number"]
    read = [s for s in scored if s.error is None]
    figures = {
        "pictures": len(scored),
        "unreadable": len(scored) - len(read),
        "accuracy": _rate(sum(s.right for s in scored), len(scored)),
        "digits": len(by_kind["digit"]),
        "digit_accuracy": _rate(sum(s.right for s in by_kind["digit"]), len(by_kind["digit"])),
        "numbers": len(by_kind["number"]),
        "number_accuracy": _rate(sum(s.right for s in by_kind["number"]), len(by_kind["number"])),
        "no_digit_pages": len(by_kind[NONE]),
        "no_digit_accuracy": _rate(sum(s.right for s in by_kind[NONE]), len(by_kind[NONE])),
        # wrong in two different ways: a digit missed, or a digit seen where there is none
        "no_digit_rate_on_digits": _rate(
            sum(s.error is None and s.answer is None for s in has_digits), len(has_digits)
        ),
        "wrong_digit_rate_on_digits": _rate(
            sum(s.error is None and s.answer is not None and not s.right for s in has_digits),
            len(has_digits),
        ),
        "false_digit_rate_on_none": _rate(
            sum(s.error is None and s.answer is not None for s in by_kind[NONE]),
            len(by_kind[NONE]),
        ),
    }
    per_class = {}
    for label in CLASSES:
        rows = [s for s in scored if s.label == label]
        if rows:
            per_class[label] = {
                "pictures": len(rows),
                "accuracy": _rate(sum(s.right for s in rows), len(rows)),
            }
    groups = {}
    for name in sorted({group_of(s.file) for s in scored} - {""}):
        rows = [s for s in scored if group_of(s.file) == name]
        groups[name] = {
            "pictures": len(rows),
            "accuracy": _rate(sum(s.right for s in rows), len(rows)),
        }
    return figures | {"per_class": per_class, "per_folder": groups}


def confusion(scored: list[Scored]) -> tuple[list[str], list[str], list[list[int]]]:
    """Counts of answer (columns) per label (rows), for single-digit and 'none' labels that
    were read; the columns gain SEVERAL when some answer had more than one digit."""
    pairs = Counter(
        (s.label, s.answer or NONE if s.answer is None or len(s.answer) == 1 else SEVERAL)
        for s in scored
        if s.error is None and s.kind != "number"
    )
    rows = [label for label in CLASSES if any(key[0] == label for key in pairs)]
    columns = [*CLASSES, SEVERAL] if any(key[1] == SEVERAL for key in pairs) else list(CLASSES)
    return rows, columns, [[pairs[(r, c)] for c in columns] for r in rows]
