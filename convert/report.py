"""The int8 part of models/report.md: what the installed model scores, under its decision rule."""

from __future__ import annotations

import numpy as np

from device.contract import ModelMetadata, none_index
from train.report import confusion_matrix, figures_section, per_class_accuracy


def int8_section(
    meta: ModelMetadata, truth: np.ndarray, answers: np.ndarray, letter_answers: np.ndarray
) -> str:
    """Markdown appended to the training report: int8 digit accuracy, per class and per letter,
    and the confusion table whose `none` row is the held-out letters."""
    classes = len(meta.labels)
    none = none_index(meta.labels)
    truth_all = np.concatenate([truth, np.full(len(letter_answers), none if none else 0)])
    answers_all = np.concatenate([answers, letter_answers])
    if none is None:  # a digits-only model: its confusion has no `none` row
        truth_all, answers_all = truth, answers
    confusion = confusion_matrix(truth_all, answers_all, classes=classes)
    rule = meta.decision
    if meta.none_threshold is not None:
        rule += f", `none` when p(none) >= {meta.none_threshold:.2f}"
    figures = {
        "test_images": meta.test_images,
        "test_accuracy": meta.int8_accuracy,
        "per_class_accuracy": per_class_accuracy(confusion)[:10],
        "letter_rejection": meta.nondigits.get("int8_letter_rejection"),
        "held_out_letters": meta.nondigits.get("held_out_letters"),
        "per_letter_rejection": meta.nondigits.get("per_letter_rejection", {}),
        "confusion": confusion.tolist(),
    }
    drop = 100 * (meta.float_accuracy - meta.int8_accuracy)
    lines = [
        "",
        *figures_section(figures, "Installed int8 model (TFLite, LiteRT)"),
        f"- Decision rule (in the metadata, applied by device/): {rule}",
        f"- Float digit accuracy under the same rule {100 * meta.float_accuracy:.2f}%, "
        f"int8 {100 * meta.int8_accuracy:.2f}% ({-drop:+.2f} points); "
        f"`.tflite` {meta.size_bytes:,} bytes",
        "",
    ]
    return "\n".join(lines)
