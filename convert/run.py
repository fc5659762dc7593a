"""The convert stage: quantize, verify int8 against float on MNIST test, then install."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np
from tqdm import tqdm

from convert.equalize import equalize
from convert.gate import DEFAULT_GATES, Gates, failures, letter_figures, rule_for
from convert.install import install, install_model
from convert.quantize import calibration_images, float_scores, quantize_int8
from convert.report import int8_section
from convert.version import code_version
from device.contract import ModelMetadata, decide, metadata_path, sha256_of
from device.model.interpreter import DigitModel, describe_model
from train.data import Mnist
from train.letters import Letters

REPORT_FILES = ("report.md", "history.png", "confusion.png")


@dataclass(frozen=True)
class Outcome:
    metadata: ModelMetadata
    installed: bool
    staged_path: Path
    failures: tuple[str, ...] = ()


def training_summary(keras_path: Path) -> dict:
    report = keras_path.parent / "report.json"
    if not report.exists():
        return {}
    keep = (
        *("profile", "architecture", "epochs", "train_images", "validation_images", "data"),
        *("decision", "none_threshold", "nondigit_share", "label_smoothing", "train_nondigits"),
        *("train_letters", "validation_letters", "letters", "device_crops"),
        *("validation_device_digit_accuracy", "validation_device_letter_rejection"),
        *("temperature", "reader", "elastic"),
    )
    summary = json.loads(report.read_text())
    return {key: summary[key] for key in keep if key in summary} | {
        "minutes": round(summary.get("seconds", 0) / 60, 1),
        "device": summary.get("device"),
    }


def convert(
    keras_path: Path,
    data: Mnist,
    out_path: Path,
    *,
    letters: Letters | None = None,
    calibration_nondigits: np.ndarray | None = None,
    gates: Gates = DEFAULT_GATES,
    calibration_count: int = 1000,
    seed: int = 0,
    stage_dir: Path = Path("build/convert"),
) -> Outcome:
    """Writes out_path and its JSON only when the int8 model passes every gate: digit accuracy,
    its loss against float, rejection of the held-out letters (under the same rule) and the
    file's size."""
    model = keras.models.load_model(keras_path)
    # The activation ranges are calibrated on what the device shows the model: digits and,
    # for a model with `none`, training letters too (never the held-out ones the gate uses),
    # so that a letter's activations are not clipped to ranges seen only on digits.
    calibration = calibration_images(data.x_train, calibration_count, seed)
    if calibration_nondigits is not None and int(model.output_shape[-1]) > 10:
        others = calibration_images(calibration_nondigits, calibration_count // 4, seed)
        calibration = np.concatenate([calibration, others])
    try:
        equalize(model, calibration)
    except ValueError as exc:  # an architecture it does not understand: quantize as it is
        print(f"digitcam-convert: {exc}; quantizing without equalizing", file=sys.stderr)
    tflite = quantize_int8(model, calibration)
    staged = stage_dir / out_path.name
    install({staged: tflite})
    training = training_summary(keras_path) | {"calibration_images": len(calibration)}
    rule = rule_for(int(model.output_shape[-1]), training)
    held = letters.images if letters is not None else np.zeros((0, 28, 28), np.uint8)

    def float_answers(images: np.ndarray) -> np.ndarray:
        return decide(float_scores(model, images), rule.labels, rule.decision, rule.none_threshold)

    metadata = ModelMetadata(
        model_file=out_path.name,
        sha256=sha256_of(staged),
        size_bytes=len(tflite),
        parameters=int(model.count_params()),
        labels=rule.labels,
        float_accuracy=float(np.mean(float_answers(data.x_test) == data.y_test)),
        int8_accuracy=0.0,  # measured below (NaN is not valid metadata)
        test_images=int(len(data.y_test)),
        code_version=code_version(),
        training=training,
        decision=rule.decision,
        none_threshold=rule.none_threshold,
        **describe_model(staged),
    )
    install({metadata_path(staged): metadata.to_json().encode()})
    int8_model = DigitModel(staged)
    progress = tqdm(data.x_test, desc="int8 test", leave=False, disable=None)
    int8 = int8_model.classes(progress)
    int8_held = int8_model.classes(held)
    nondigits = letter_figures(rule.labels, letters, float_answers(held), int8_held)
    metadata = replace(
        metadata, int8_accuracy=float(np.mean(int8 == data.y_test)), nondigits=nondigits
    )
    install({metadata_path(staged): metadata.to_json().encode()})
    failed = tuple(failures(metadata, gates))
    if failed:
        return Outcome(metadata, installed=False, staged_path=staged, failures=failed)
    reports = {
        out_path.parent / name: (keras_path.parent / name).read_bytes()
        for name in REPORT_FILES
        if (keras_path.parent / name).exists()
    }
    report_md = out_path.parent / "report.md"
    if report_md in reports:
        section = int8_section(metadata, data.y_test, int8, int8_held)
        reports[report_md] += section.encode()
    install_model(out_path, tflite, metadata.to_json().encode())  # old pair or new, never mixed
    install(reports)
    shutil.rmtree(stage_dir, ignore_errors=True)
    return Outcome(metadata, installed=True, staged_path=staged)
