"""One grey frame to one reading: the single code path behind `predict` and the camera.

ink -> regions -> glyphs -> text lines -> segmentation (each piece normalised and classified)
-> digits in reading order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from device.contract import ARGMAX, IMAGE_SIZE, NONE_LABEL, decide
from device.vision.components import describe
from device.vision.glyphs import find_glyphs, pick_digit
from device.vision.ink import ink_contrast, ink_mask, reduce_frame
from device.vision.lines import line_height, text_lines
from device.vision.mnist28 import ink_levels, to_mnist
from device.vision.reading import Box, DigitRead, Reading
from device.vision.regions import label_runs, region_mask
from device.vision.segment import Piece, Verdict, segment

__all__ = ["Box", "DigitRead", "Reading", "Scorer", "read_digit"]


class Scorer(Protocol):
    def scores(self, digit: np.ndarray) -> np.ndarray: ...


def no_lap(stage: str) -> None:
    """The default stage clock; the benchmark passes one that times each stage as it ends."""


@dataclass(frozen=True)
class Classes:
    """A model's classes and decision rule, looked up once per frame, not once per piece."""

    digits: list[int | None]  # the digit each class index stands for (None for "none")
    labels: list[str]
    rule: str
    none_threshold: float | None

    @classmethod
    def of(cls, model: Scorer) -> Classes:
        """From the model's labels (a model without labels has the ten digits) and metadata."""
        names = getattr(model, "labels", None) or [str(d) for d in range(10)]
        digits = [None if name == NONE_LABEL else int(name) for name in names]
        meta = getattr(model, "metadata", None)
        return cls(
            digits=digits,
            labels=[NONE_LABEL if d is None else str(d) for d in digits],
            rule=getattr(meta, "decision", ARGMAX),
            none_threshold=getattr(meta, "none_threshold", None),
        )


def verdict_of(model: Scorer, model_input: np.ndarray, classes: Classes | None = None) -> Verdict:
    """Classifies one 28x28 input by the model's own decision rule (its metadata's: plain
    argmax, or `none` exactly when p(none) reaches its threshold)."""
    scores = np.asarray(model.scores(model_input), np.float64)
    classes = classes or Classes.of(model)
    digits, labels = classes.digits[: len(scores)], classes.labels[: len(scores)]
    best = int(decide(scores[None], labels, classes.rule, classes.none_threshold)[0])
    is_digit = np.array([d is not None for d in digits])
    best_digit = int(np.argmax(np.where(is_digit, scores, -1.0)))
    return Verdict(
        digit=digits[best],
        confidence=float(scores[best]),
        digit_probability=float(scores[best_digit]),
        model_input=model_input,
    )


@dataclass(frozen=True)
class Judged:
    """A piece and its verdict, with its box in frame pixels and its text line."""

    box: Box
    verdict: Verdict | None  # None: left out by its shape
    line: int


def read_digit(
    grey: np.ndarray, model: Scorer, min_confidence: float, lap: Callable[[str], None] = no_lap
) -> Reading:
    """Reads the digits in a 2-D uint8 grey frame: a number, a single digit or none."""
    if grey.ndim != 2 or grey.dtype != np.uint8:
        raise ValueError(f"expected a 2-D uint8 grey frame, got {grey.ndim}-D {grey.dtype}")
    if grey.shape == (IMAGE_SIZE, IMAGE_SIZE):
        return assemble(_judge_mnist_like(grey, model), min_confidence)
    judged, crowded = _judge_frame(grey, model, lap)
    if not crowded:
        return assemble(judged, min_confidence)
    kept = _likeliest_line(judged)
    return assemble(kept, min_confidence, crowded=True, left_out=len(judged) - len(kept))


def _judge_frame(
    grey: np.ndarray, model: Scorer, lap: Callable[[str], None]
) -> tuple[list[Judged], bool]:
    small, factor = reduce_frame(grey)
    contrast = ink_contrast(small)
    mask = ink_mask(contrast)
    lap("threshold")
    runs = label_runs(mask)
    found = find_glyphs(describe(runs, contrast), contrast.shape)
    lines = text_lines(found.glyphs)
    lap("components")
    classes = Classes.of(model)

    def judge(piece: Piece) -> Verdict:
        x, y, w, h = piece.box
        levels = ink_levels(contrast[y : y + h, x : x + w], piece.mask)
        return verdict_of(model, to_mnist(levels), classes)

    judged = []
    for number, line in enumerate(lines):
        height = line_height(line)
        for glyph in line:
            piece = Piece(glyph.box, region_mask(runs, glyph.labels, glyph.box))
            reach = max(height, 0.8 * glyph.box[3])
            for part, verdict in segment(piece, judge, reach, alone=len(line) == 1):
                box = tuple(v * factor for v in part.box)
                judged.append(Judged(box, verdict, number))  # type: ignore[arg-type]
    lap("segment and classify")
    return judged, found.crowded


def _judge_mnist_like(grey: np.ndarray, model: Scorer) -> list[Judged]:
    """A 28x28 frame is taken as already normalised (MNIST-style): the model sees it as it is,
    only turned white-on-black and its paper level taken to 0, if need be."""
    contrast = ink_contrast(grey)
    runs = label_runs(ink_mask(contrast))
    digit = pick_digit(describe(runs, contrast), contrast.shape)
    if digit is None:
        return []
    model_input = np.round(contrast * 255.0).astype(np.uint8)
    return [Judged(digit.box, verdict_of(model, model_input), 0)]


def _likeliest_line(judged: list[Judged]) -> list[Judged]:
    """On a crowded page only the most digit-like line is read: the one whose pieces the model
    finds most digit-like, on average."""
    by_line: dict[int, list[Judged]] = {}
    for j in judged:
        by_line.setdefault(j.line, []).append(j)
    if not by_line:
        return []

    def digit_likeness(line: list[Judged]) -> float:
        sure = [
            j.verdict.digit_probability for j in line if j.verdict and j.verdict.digit is not None
        ]
        return sum(sure) / len(line)

    return by_line[max(by_line, key=lambda n: digit_likeness(by_line[n]))]


def assemble(
    judged: list[Judged], min_confidence: float, crowded: bool = False, left_out: int = 0
) -> Reading:
    """The reading: the pieces read as digits, in order, and how many were left out."""
    digits: list[DigitRead] = []
    unsure: list[Judged] = []
    lines: dict[int, int] = {}  # text lines renumbered over those with a digit
    for j in judged:
        v = j.verdict
        if v is None or v.digit is None or v.confidence < min_confidence:
            unsure.append(j)
            continue
        line = lines.setdefault(j.line, len(lines))
        digits.append(DigitRead(v.digit, v.confidence, j.box, line, v.model_input))
    rejected = len(judged) - len(digits) + left_out
    if len(digits) == 1:
        d = digits[0]
        return Reading(d.digit, d.confidence, d.box, d.model_input, "read", (d,), rejected, crowded)
    if digits:
        return Reading(None, None, None, None, "read", tuple(digits), rejected, crowded)
    doubtful = [j for j in unsure if j.verdict is not None and j.verdict.digit is not None]
    if doubtful:  # the model's best guess, too unsure to report
        j = max(doubtful, key=lambda j: j.verdict.confidence)
        v = j.verdict
        return Reading(None, v.confidence, j.box, v.model_input, "low confidence", (), rejected,
                       crowded)  # fmt: skip
    reason = "not a digit" if any(j.verdict for j in unsure) else "no plausible digit"
    return Reading(None, None, None, None, reason, (), rejected, crowded)
