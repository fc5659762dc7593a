"""Scores the trained model on MNIST test and held-out letters; writes the report and plots."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

from device.contract import DEFAULT_MIN_CONFIDENCE, LABELS, NONE_THRESHOLD, decide
from train.crops import DeviceCrops
from train.data import Mnist
from train.decision import NONE_CLASS, choose_threshold, rejection
from train.fit import Profile, TrainRun
from train.letters import LetterSplit, per_letter_rejection
from train.mix import NonDigits
from train.report import (
    confusion_matrix,
    per_class_accuracy,
    plot_confusion,
    plot_history,
    write_report,
)

LETTER_TARGET = 0.97  # validation letters the chosen threshold must reject (the gate is 95%)


def predict(model: keras.Model, images: np.ndarray) -> np.ndarray:
    if not len(images):
        return np.zeros((0, len(LABELS)), np.float32)
    return model.predict(images[..., None].astype(np.float32), batch_size=512, verbose=0)


def _answers(model: keras.Model, images: np.ndarray, threshold: float):
    """Label indices under the rule, and whether each answer clears the device's default
    --min-confidence."""
    scores = predict(model, images)
    answers = decide(scores, LABELS, NONE_THRESHOLD, threshold)
    return answers, scores[np.arange(len(answers)), answers] >= DEFAULT_MIN_CONFIDENCE


def _share(flags: np.ndarray) -> float | None:
    return float(np.mean(flags)) if len(flags) else None


def device_figures(model: keras.Model, crops: DeviceCrops, threshold: float) -> dict:
    """How the rule does on the device's crops of the validation digits and letters: digits
    read right at the device's default confidence; letters answered `none`, and "no digit"
    (`none`, or a digit under that confidence)."""
    digits, digits_sure = _answers(model, crops.val_digits, threshold)
    letters, letters_sure = _answers(model, crops.val_letters, threshold)
    right = (digits == crops.val_digit_labels) & digits_sure
    return {
        "validation_device_digits": len(digits),
        "validation_device_digit_accuracy": _share(right),
        "validation_device_letters": len(letters),
        "validation_device_letter_rejection": _share(letters == NONE_CLASS),
        "validation_device_letter_no_digit": _share((letters == NONE_CLASS) | ~letters_sure),
    }


def decision_rule(
    run: TrainRun, nondigits: NonDigits | None, crops: DeviceCrops | None = None
) -> dict:
    """The `none` threshold chosen on validation digits and validation letters (and how it does
    on the device's crops of them, which do not choose it)."""
    if nondigits is None or run.x_val is None:
        return {"decision": NONE_THRESHOLD, "none_threshold": 0.5}
    val_digits = predict(run.model, run.x_val)
    val_others = predict(run.model, nondigits.validation)
    letters = val_others[: nondigits.validation_letters]
    threshold = choose_threshold(val_digits, run.y_val, letters, LETTER_TARGET)
    return {
        "decision": NONE_THRESHOLD,
        "none_threshold": threshold,
        "validation_letter_rejection": rejection(letters, threshold),
        "validation_synthetic_rejection": rejection(
            val_others[nondigits.validation_letters :], threshold
        ),
        "validation_digit_accuracy": float(
            np.mean(decide(val_digits, LABELS, NONE_THRESHOLD, threshold) == run.y_val)
        ),
        **(device_figures(run.model, crops, threshold) if crops is not None else {}),
    }


def score(answers: np.ndarray, truth: np.ndarray, letter_answers: np.ndarray, labels) -> dict:
    """Digit accuracy, per class, letter rejection (overall and per letter), 11x11 confusion."""
    rejected = letter_answers == NONE_CLASS
    truth_all = np.concatenate([truth, np.full(len(letter_answers), NONE_CLASS)])
    confusion = confusion_matrix(
        truth_all, np.concatenate([answers, letter_answers]), classes=len(LABELS)
    )
    return {
        "test_accuracy": float(np.mean(answers == truth)),
        "per_class_accuracy": per_class_accuracy(confusion)[:10],
        "letter_rejection": float(np.mean(rejected)) if len(rejected) else None,
        "per_letter_rejection": per_letter_rejection(labels, rejected) if len(rejected) else {},
        "confusion": confusion.tolist(),
    }


def evaluate_and_report(
    run: TrainRun,
    data: Mnist,
    out_dir: Path,
    profile: Profile,
    letters: LetterSplit | None = None,
    nondigits: NonDigits | None = None,
    crops: DeviceCrops | None = None,
    notes: dict | None = None,
) -> dict:
    """The test set and held-out letters are used here only, after training and after the
    decision rule was chosen on validation data."""
    rule = decision_rule(run, nondigits, crops)
    held = letters.held_out if letters else None
    held_images = held.images if held else np.zeros((0, 28, 28), np.uint8)
    held_labels = held.labels if held else np.zeros(0, str)
    digit_scores, letter_scores = predict(run.model, data.x_test), predict(run.model, held_images)

    def answers(scores: np.ndarray) -> np.ndarray:
        return decide(scores, LABELS, rule["decision"], rule["none_threshold"])

    scored = score(answers(digit_scores), data.y_test, answers(letter_scores), held_labels)
    val_loss = run.history.get("val_loss", [])
    summary = {
        "profile": profile.name,
        "architecture": profile.architecture,
        "epochs": len(run.history.get("loss", [])),
        "kept_epoch": len(run.history.get("loss", [])),
        "lowest_val_loss_epoch": int(np.argmin(val_loss)) + 1 if val_loss else None,
        "parameters": int(run.model.count_params()),
        "labels": list(LABELS),
        **rule,
        **scored,
        "argmax_test_accuracy": float(np.mean(digit_scores.argmax(1) == data.y_test)),
        "argmax_letter_rejection": (
            float(np.mean(letter_scores.argmax(1) == NONE_CLASS)) if len(held_images) else None
        ),
        "test_images": int(len(data.y_test)),
        "held_out_letters": int(len(held_images)),
        "train_letters": len(letters.train) if letters else 0,
        "validation_letters": len(letters.validation) if letters else 0,
        "train_nondigits": int(len(nondigits.train)) if nondigits else 0,
        "device_crops": {"digits": len(crops.digits), "letters": len(crops.letters)}
        if crops is not None
        else None,
        "nondigit_share": profile.nondigit_share,
        "label_smoothing": profile.label_smoothing,
        "elastic": profile.elastic,
        "letters": letters.source if letters else None,
        "train_images": run.train_images,
        "validation_images": run.validation_images,
        "data": data.source,
        "seconds": run.seconds,
        "device": run.device,
        **(notes or {}),  # what the command did beyond training: calibration, a reader
    }
    (out_dir / "history.json").write_text(json.dumps(run.history, indent=2) + "\n")
    plot_history(run.history, out_dir / "history.png")
    title = f"float model: digits {100 * summary['test_accuracy']:.2f}%"
    plot_confusion(np.array(scored["confusion"]), out_dir / "confusion.png", title)
    write_report(summary, out_dir)
    return summary
