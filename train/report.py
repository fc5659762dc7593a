"""Training report: test accuracy, per-class accuracy, curves and confusion matrix as files."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: the report is written to files, never shown
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, classes: int = 10) -> np.ndarray:
    """counts[t, p]: how often true class t was predicted as p."""
    flat = truth.astype(np.int64) * classes + predicted.astype(np.int64)
    return np.bincount(flat, minlength=classes * classes).reshape(classes, classes)


def per_class_accuracy(confusion: np.ndarray) -> list[float]:
    totals = confusion.sum(axis=1)
    return [float(c) for c in np.diag(confusion) / np.maximum(totals, 1)]


def plot_history(history: dict[str, list[float]], path: Path) -> None:
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = np.arange(1, len(history.get("loss", [])) + 1)
    for key, ax in (("loss", loss_ax), ("accuracy", acc_ax)):
        ax.plot(epochs, history.get(key, []), label=f"train {key}")
        ax.plot(epochs, history.get(f"val_{key}", []), label=f"validation {key}")
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    loss_ax.set_yscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusion(confusion: np.ndarray, path: Path, title: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 5.5))
    # log colour scale: the off-diagonal mistakes are what a reader looks for
    ax.imshow(np.log1p(confusion), cmap="Blues")
    for (t, p), count in np.ndenumerate(confusion):
        if count:
            colour = "white" if t == p else "black"
            ax.text(p, t, str(count), ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(summary: dict, out_dir: Path) -> None:
    """report.json for programs and report.md for people."""
    (out_dir / "report.json").write_text(json.dumps(summary, indent=2) + "\n")
    per_class = " | ".join(f"{100 * a:.2f}" for a in summary["per_class_accuracy"])
    lines = [
        f"# Training report ({summary['profile']} profile)",
        "",
        f"- Test accuracy (float, {summary['test_images']} MNIST test images): "
        f"**{100 * summary['test_accuracy']:.2f}%**",
        f"- Training images: {summary['train_images']} "
        f"(+ {summary['validation_images']} held out for validation), from {summary['data']}",
        f"- Architecture: {summary['architecture']}, {summary['parameters']:,} parameters",
        f"- Epochs: {summary['epochs']}, best by validation loss: epoch {summary['best_epoch']}",
        f"- Training time: {summary['seconds'] / 60:.1f} min on {summary['device']}",
        "",
        "| digit | " + " | ".join(str(d) for d in range(10)) + " |",
        "|---" * 11 + "|",
        f"| accuracy % | {per_class} |",
        "",
        "![loss and accuracy](history.png)",
        "![confusion matrix](confusion.png)",
        "",
    ]
    (out_dir / "report.md").write_text("\n".join(lines))
