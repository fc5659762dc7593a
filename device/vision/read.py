"""One grey frame to one reading: the single code path behind `predict` and the camera."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from device.contract import IMAGE_SIZE
from device.vision.glyphs import describe, pick_digit
from device.vision.ink import ink_contrast, ink_mask, reduce_frame
from device.vision.mnist28 import ink_levels, to_mnist
from device.vision.regions import label_runs, region_mask

Box = tuple[int, int, int, int]  # x, y, w, h in the frame's pixels


class Scorer(Protocol):
    def scores(self, digit: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Reading:
    digit: int | None  # None: no digit (nothing plausible found, or not confident enough)
    confidence: float | None  # the model's probability for its best class; None: no region found
    box: Box | None  # the region the model was shown
    model_input: np.ndarray | None  # the 28x28 uint8 the model saw
    reason: str  # "read", "no plausible digit" or "low confidence"

    def fields(self) -> dict:
        """digit, confidence (4 places) and box as JSON-ready values, for every output format."""
        confidence = None if self.confidence is None else round(self.confidence, 4)
        box = None if self.box is None else [int(v) for v in self.box]
        return {"digit": self.digit, "confidence": confidence, "box": box}


@dataclass(frozen=True)
class Located:
    box: Box
    model_input: np.ndarray


def no_lap(stage: str) -> None:
    """The default stage clock; the benchmark passes one that times each stage as it ends."""


def locate_digit(grey: np.ndarray, lap: Callable[[str], None] = no_lap) -> Located | None:
    """Finds the digit in a grey frame and normalises it to the model's 28x28 input."""
    if grey.shape == (IMAGE_SIZE, IMAGE_SIZE):
        return _locate_in_mnist_like(grey)
    small, factor = reduce_frame(grey)
    contrast = ink_contrast(small)
    mask = ink_mask(contrast)
    lap("threshold")
    runs = label_runs(mask)
    digit = pick_digit(describe(runs, contrast), contrast.shape)
    lap("components")
    if digit is None:
        return None
    x, y, w, h = digit.box
    levels = ink_levels(contrast[y : y + h, x : x + w], region_mask(runs, digit.labels, digit.box))
    box = (x * factor, y * factor, w * factor, h * factor)
    located = Located(box=box, model_input=to_mnist(levels))
    lap("crop and normalise")
    return located


def _locate_in_mnist_like(grey: np.ndarray) -> Located | None:
    """A 28x28 frame is taken as already normalised (MNIST-style): the model sees it as it is,
    only turned white-on-black and its paper level taken to 0, if need be."""
    contrast = ink_contrast(grey)
    runs = label_runs(ink_mask(contrast))
    digit = pick_digit(describe(runs, contrast), contrast.shape)
    if digit is None:
        return None
    return Located(box=digit.box, model_input=np.round(contrast * 255.0).astype(np.uint8))


def read_digit(
    grey: np.ndarray, model: Scorer, min_confidence: float, lap: Callable[[str], None] = no_lap
) -> Reading:
    """Locates, normalises and classifies the digit in a 2-D uint8 grey frame."""
    if grey.ndim != 2 or grey.dtype != np.uint8:
        raise ValueError(f"expected a 2-D uint8 grey frame, got {grey.ndim}-D {grey.dtype}")
    located = locate_digit(grey, lap)
    if located is None:
        return Reading(None, None, None, None, "no plausible digit")
    scores = model.scores(located.model_input)
    lap("interpreter")
    best = int(np.argmax(scores))
    confidence = float(scores[best])
    if confidence < min_confidence:
        return Reading(None, confidence, located.box, located.model_input, "low confidence")
    return Reading(best, confidence, located.box, located.model_input, "read")
