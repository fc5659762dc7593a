"""The convert stage: quantize, verify int8 against float on MNIST test, then install."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np
from tqdm import tqdm

from convert.install import install, install_model
from convert.quantize import calibration_images, float_predictions, quantize_int8
from convert.version import code_version
from device.contract import LABELS, ModelMetadata, metadata_path, sha256_of
from device.model.interpreter import DigitModel, describe_model
from train.data import Mnist

REPORT_FILES = ("report.md", "history.png", "confusion.png")


@dataclass(frozen=True)
class Outcome:
    metadata: ModelMetadata
    installed: bool
    staged_path: Path


def training_summary(keras_path: Path) -> dict:
    report = keras_path.parent / "report.json"
    if not report.exists():
        return {}
    keep = ("profile", "architecture", "epochs", "train_images", "validation_images", "data")
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
    max_drop_points: float = 0.3,
    calibration_count: int = 1000,
    seed: int = 0,
    stage_dir: Path = Path("build/convert"),
) -> Outcome:
    """Writes out_path and its JSON only when int8 is within max_drop_points of float."""
    model = keras.models.load_model(keras_path)
    tflite = quantize_int8(model, calibration_images(data.x_train, calibration_count, seed))
    staged = stage_dir / out_path.name
    install({staged: tflite})
    training = training_summary(keras_path) | {"calibration_images": calibration_count}
    metadata = ModelMetadata(
        model_file=out_path.name,
        sha256=sha256_of(staged),
        size_bytes=len(tflite),
        parameters=int(model.count_params()),
        labels=list(LABELS),
        float_accuracy=float(np.mean(float_predictions(model, data.x_test) == data.y_test)),
        int8_accuracy=0.0,  # measured below (NaN is not valid metadata)
        test_images=int(len(data.y_test)),
        code_version=code_version(),
        training=training,
        **describe_model(staged),
    )
    install({metadata_path(staged): metadata.to_json().encode()})
    progress = tqdm(data.x_test, desc="int8 test", leave=False, disable=None)
    int8 = DigitModel(staged).classes(progress)
    metadata = replace(metadata, int8_accuracy=float(np.mean(int8 == data.y_test)))
    install({metadata_path(staged): metadata.to_json().encode()})
    drop = 100 * (metadata.float_accuracy - metadata.int8_accuracy)
    if drop > max_drop_points:
        return Outcome(metadata, installed=False, staged_path=staged)
    reports = {
        out_path.parent / name: (keras_path.parent / name).read_bytes()
        for name in REPORT_FILES
        if (keras_path.parent / name).exists()
    }
    install_model(out_path, tflite, metadata.to_json().encode())  # old pair or new, never mixed
    install(reports)
    shutil.rmtree(stage_dir, ignore_errors=True)
    return Outcome(metadata, installed=True, staged_path=staged)
