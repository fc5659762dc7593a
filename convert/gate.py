"""The install gate: int8 digit accuracy and its loss, held-out letter rejection, file size."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from device.contract import (
    ARGMAX,
    DEFAULT_NONE_THRESHOLD,
    DIGIT_LABELS,
    LABELS,
    NONE_THRESHOLD,
    ModelMetadata,
    none_index,
)
from train.letters import Letters, per_letter_rejection


@dataclass(frozen=True)
class Gates:
    """Thresholds in percent (points for the drop), the size in kB of 1,000 bytes."""

    max_drop_points: float = 0.1
    min_digit_accuracy: float = 99.5
    min_letter_rejection: float = 95.0
    max_size_kb: float = 150.0  # kB of 1,000 bytes; 0: no limit


@dataclass(frozen=True)
class Rule:
    labels: list[str]
    decision: str
    none_threshold: float | None


def rule_for(classes: int, training: dict) -> Rule:
    """Labels from the model's output width; the decision rule as training chose it."""
    if classes == len(DIGIT_LABELS):
        return Rule(list(DIGIT_LABELS), ARGMAX, None)
    if classes != len(LABELS):
        raise ValueError(f"a model with {classes} outputs fits no known label set")
    threshold = training.get("none_threshold", DEFAULT_NONE_THRESHOLD)
    return Rule(list(LABELS), training.get("decision", NONE_THRESHOLD), threshold)


def letter_figures(
    labels: list[str], letters: Letters | None, float_answers: np.ndarray, int8_answers: np.ndarray
) -> dict:
    """Held-out letter rejection, float and int8, overall and per letter (int8)."""
    if letters is None or not len(letters):
        return {}
    where = none_index(labels)
    float_rejected = float_answers == where if where is not None else np.zeros(len(letters), bool)
    int8_rejected = int8_answers == where if where is not None else np.zeros(len(letters), bool)
    return {
        "held_out_letters": len(letters),
        "float_letter_rejection": float(np.mean(float_rejected)),
        "int8_letter_rejection": float(np.mean(int8_rejected)),
        "per_letter_rejection": per_letter_rejection(letters.labels, int8_rejected),
    }


def failures(meta: ModelMetadata, gates: Gates) -> list[str]:
    """Why the model may not be installed: one short reason per failed gate, or none."""
    found = []
    drop = 100 * (meta.float_accuracy - meta.int8_accuracy)
    if drop > gates.max_drop_points:
        found.append(f"int8 loses {drop:.2f} points against float (max {gates.max_drop_points})")
    if 100 * meta.int8_accuracy < gates.min_digit_accuracy:
        found.append(
            f"int8 digit accuracy {100 * meta.int8_accuracy:.2f}% < {gates.min_digit_accuracy}%"
        )
    rejection = meta.nondigits.get("int8_letter_rejection")
    if gates.min_letter_rejection > 0 and rejection is None:
        found.append("no held-out letters to measure rejection on")
    elif rejection is not None and 100 * rejection < gates.min_letter_rejection:
        found.append(
            f"held-out letters answered none {100 * rejection:.2f}% < {gates.min_letter_rejection}%"
        )
    # bytes / 1000 is exact to the byte for a limit given to three decimals; 1000 * kB is not
    if gates.max_size_kb > 0 and meta.size_bytes / 1000 > gates.max_size_kb:
        found.append(f"the .tflite file is {meta.size_bytes:,} bytes > {gates.max_size_kb:g} kB")
    return found


DEFAULT_GATES = Gates()
