"""Chooses the `none` threshold of the decision rule on validation data, and scores answers."""

from __future__ import annotations

import numpy as np

from device.contract import LABELS, NONE_LABEL, NONE_THRESHOLD, decide

NONE_CLASS = LABELS.index(NONE_LABEL)
GRID = np.round(np.arange(0.30, 0.951, 0.01), 2)


def rejection(scores: np.ndarray, threshold: float) -> float:
    """Share of non-digit score rows answered `none` under the threshold rule."""
    if not len(scores):
        return float("nan")
    return float(np.mean(decide(scores, LABELS, NONE_THRESHOLD, threshold) == NONE_CLASS))


def digit_accuracy(scores: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    """Share of digits answered with their own digit (`none` counts as wrong)."""
    return float(np.mean(decide(scores, LABELS, NONE_THRESHOLD, threshold) == labels))


def choose_threshold(
    digit_scores: np.ndarray, digit_labels: np.ndarray, letter_scores: np.ndarray, target: float
) -> float:
    """The highest p(none) threshold that still rejects `target` of the validation letters (a
    higher threshold turns fewer real digits into `none`); ties in digit accuracy keep the
    higher threshold. If no threshold reaches the target, the one rejecting the most."""
    rejections = np.array([rejection(letter_scores, t) for t in GRID])
    ok = rejections >= target
    if not ok.any():
        return float(GRID[int(np.argmax(rejections))])
    candidates = GRID[ok]
    accuracies = np.array([digit_accuracy(digit_scores, digit_labels, t) for t in candidates])
    best = np.flatnonzero(accuracies == accuracies.max())
    return float(candidates[best[-1]])
