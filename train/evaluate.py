"""Scores the trained model on the MNIST test set and writes the report and plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from train.data import Mnist
from train.fit import Profile, TrainRun
from train.report import (
    confusion_matrix,
    per_class_accuracy,
    plot_confusion,
    plot_history,
    write_report,
)


def evaluate_and_report(run: TrainRun, data: Mnist, out_dir: Path, profile: Profile) -> dict:
    """The test set is used here only, after training, never for choosing the model."""
    probabilities = run.model.predict(data.x_test[..., None].astype(np.float32), verbose=0)
    predicted = probabilities.argmax(axis=1)
    confusion = confusion_matrix(data.y_test, predicted)
    accuracy = float(np.mean(predicted == data.y_test))
    val_loss = run.history.get("val_loss", [])
    summary = {
        "profile": profile.name,
        "architecture": profile.architecture,
        "epochs": len(run.history.get("loss", [])),
        "best_epoch": int(np.argmin(val_loss)) + 1 if val_loss else None,
        "parameters": int(run.model.count_params()),
        "test_accuracy": accuracy,
        "test_images": int(len(data.y_test)),
        "per_class_accuracy": per_class_accuracy(confusion),
        "confusion": confusion.tolist(),
        "train_images": run.train_images,
        "validation_images": run.validation_images,
        "data": data.source,
        "seconds": run.seconds,
        "device": run.device,
    }
    (out_dir / "history.json").write_text(json.dumps(run.history, indent=2) + "\n")
    plot_history(run.history, out_dir / "history.png")
    plot_confusion(
        confusion, out_dir / "confusion.png", f"MNIST test, float model: {100 * accuracy:.2f}%"
    )
    write_report(summary, out_dir)
    return summary
