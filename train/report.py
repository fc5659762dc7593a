"""Training report: test accuracy, per-class accuracy, curves and confusion matrix as files."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: the report is written to files, never shown
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from device.contract import LABELS  # noqa: E402

TRIED = Path(__file__).with_name("tried.md")  # measured alternatives, kept by hand


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
    """Rows: true class (the `none` row: held-out letters); columns: the model's answer."""
    labels = list(LABELS[: len(confusion)])
    fig, ax = plt.subplots(figsize=(6.5, 6))
    # log colour scale: the off-diagonal mistakes are what a reader looks for
    ax.imshow(np.log1p(confusion), cmap="Blues")
    for (t, p), count in np.ndenumerate(confusion):
        if count:
            colour = "white" if t == p else "black"
            ax.text(p, t, str(count), ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def confusion_table(confusion: list[list[int]]) -> list[str]:
    """Markdown rows: true class down, answer across; the `none` row is the held-out letters."""
    labels = LABELS[: len(confusion)]
    lines = ["| true \\ answer | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for i, (label, row) in enumerate(zip(labels, confusion, strict=True)):
        cells = [f"**{c}**" if i == j else str(c) for j, c in enumerate(row)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def figures_section(figures: dict, title: str) -> list[str]:
    """Digit accuracy, per class, letter rejection per letter and the confusion table."""
    per_class = " | ".join(f"{100 * a:.2f}" for a in figures["per_class_accuracy"])
    lines = [
        f"## {title}",
        "",
        f"- Digit accuracy ({figures['test_images']} MNIST test images, `none` counts as wrong): "
        f"**{100 * figures['test_accuracy']:.2f}%**",
    ]
    if figures.get("letter_rejection") is not None:
        lines.append(
            f"- Held-out letters answered `none`: **{100 * figures['letter_rejection']:.2f}%** "
            f"of {figures['held_out_letters']}"
        )
    lines += [
        "",
        "| digit | " + " | ".join(str(d) for d in range(10)) + " |",
        "|---" * 11 + "|",
        f"| accuracy % | {per_class} |",
        "",
    ]
    per_letter = figures.get("per_letter_rejection") or {}
    if per_letter:
        lines += [
            "| letter | " + " | ".join(per_letter) + " |",
            "|---" * (len(per_letter) + 1) + "|",
            "| `none` % | " + " | ".join(f"{100 * v:.0f}" for v in per_letter.values()) + " |",
            "",
        ]
    return [*lines, *confusion_table(figures["confusion"]), ""]


def device_crop_lines(summary: dict) -> list[str]:
    """What the device-made crops were, and how the rule does on the validation ones."""
    crops = summary.get("device_crops")
    if not crops:
        return []
    lines = [
        f"- Device-made crops (training digits and letters photographed on synthetic paper and "
        f"cut out by the device pipeline): {crops['digits']} digits, {crops['letters']} letters"
    ]
    if summary.get("validation_device_digit_accuracy") is not None:
        lines.append(
            f"- On the device's crops of the validation set: digits read right with p >= 0.5 "
            f"{100 * summary['validation_device_digit_accuracy']:.2f}% "
            f"(of {summary['validation_device_digits']}), letters answered `none` "
            f"{100 * summary['validation_device_letter_rejection']:.2f}%, "
            f"'no digit' {100 * summary['validation_device_letter_no_digit']:.2f}% "
            f"(of {summary['validation_device_letters']})"
        )
    return lines


def temperature_lines(temperature: float | None) -> list[str]:
    if temperature is None:
        return []
    return [
        f"- Probabilities calibrated: logits divided by T = {temperature:g}, the temperature "
        "that best predicts the validation digits and non-digits (label smoothing had capped "
        "the best probability near 0.9)"
    ]


def reader_lines(reader: dict | None) -> list[str]:
    if not reader:
        return []
    own = reader.get("int8_accuracy")
    figures = f", int8 {100 * own:.2f}% of the test digits on its own" if own is not None else ""
    return [
        f"- Paired with the digit reader {reader['file']} ({reader['sha256'][:12]}{figures}): "
        "the reader names the digit, the network trained here says whether there is one; "
        "the parameters below are both networks'"
    ]


def write_report(summary: dict, out_dir: Path) -> None:
    """report.json for programs and report.md for people."""
    (out_dir / "report.json").write_text(json.dumps(summary, indent=2) + "\n")
    rule = summary.get("decision", "argmax")
    if summary.get("none_threshold") is not None:
        rule += f", `none` when p(none) >= {summary['none_threshold']:.2f}"
    lines = [
        f"# Training report ({summary['profile']} profile)",
        "",
        f"- Training images: {summary['train_images']} "
        f"(+ {summary['validation_images']} held out for validation), from {summary['data']}",
        f"- Non-digits (`none`): {summary.get('train_nondigits', 0)} in training "
        f"({summary.get('train_letters', 0)} letters + synthetic shapes), "
        f"{100 * summary.get('nondigit_share', 0):.0f}% of each batch on average; "
        f"letters split {summary.get('train_letters', 0)}/{summary.get('validation_letters', 0)}"
        f"/{summary.get('held_out_letters', 0)} (train/validation/held out) from "
        f"{summary.get('letters')}",
        *device_crop_lines(summary),
        f"- Decision rule: {rule} (chosen on the validation digits and letters)",
        *temperature_lines(summary.get("temperature")),
        *reader_lines(summary.get("reader")),
        f"- Architecture: {summary['architecture']}, {summary['parameters']:,} parameters",
        f"- Epochs: {summary['epochs']}, the last one kept (lowest validation loss: epoch "
        f"{summary['lowest_val_loss_epoch']})",
        f"- Training time: {summary['seconds'] / 60:.1f} min on {summary['device']}",
        "",
        *figures_section(summary, "Float model (Keras)"),
        "![loss and accuracy](history.png)",
        "![confusion matrix](confusion.png)",
        "",
    ]
    if TRIED.exists():
        lines += [TRIED.read_text().strip(), ""]
    (out_dir / "report.md").write_text("\n".join(lines))
