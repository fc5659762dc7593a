"""Handwritten letters (EMNIST, MNIST-normalised) as real non-digits, split train/val/held-out."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from device.files.letters import split_rows
from device.files.mnist import DataError

LETTERS_FILE = Path("nondigit") / "letters.npz"


@dataclass(frozen=True)
class Letters:
    images: np.ndarray  # (N, 28, 28) uint8, white ink on black
    labels: np.ndarray  # (N,) the character, e.g. "A"

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, index: np.ndarray) -> Letters:
        return Letters(self.images[index], self.labels[index])


@dataclass(frozen=True)
class LetterSplit:
    train: Letters
    validation: Letters
    held_out: Letters
    source: str


def default_location() -> Path | None:
    """$DIGITCAM_LETTERS, else letters.npz beside $MNIST_DIR (shared/data), else None."""
    if os.environ.get("DIGITCAM_LETTERS"):
        return Path(os.environ["DIGITCAM_LETTERS"])
    mnist = os.environ.get("MNIST_DIR")
    candidates = [Path(mnist).parent / LETTERS_FILE] if mnist else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data" / LETTERS_FILE)
    return next((path for path in candidates if path.exists()), None)


def load_letters(location: str | Path | None = None) -> Letters:
    """The letters.npz arrays; DataError with a one-line reason when missing or malformed."""
    path = Path(location) if location else default_location()
    if path is None:
        raise DataError("letters.npz not found: set DIGITCAM_LETTERS or pass --letters")
    try:
        with np.load(path) as data:
            images, labels = data["images"], data["labels"]
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path}: unreadable letters file ({exc})") from None
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise DataError(f"{path}: expected (N, 28, 28) images with N labels")
    return Letters(images.astype(np.uint8), labels.astype(str))


def split_letters(letters: Letters, source: str = "letters.npz") -> LetterSplit:
    """The one split of device/files/letters.py: 80% train, 5% validation, 15% held out for
    the report and the convert gate."""
    train, val, held = split_rows(len(letters))
    return LetterSplit(letters.subset(train), letters.subset(val), letters.subset(held), source)


def load_split(location: str | Path | None = None) -> LetterSplit:
    path = Path(location) if location else default_location()
    return split_letters(load_letters(path), str(path))


def per_letter_rejection(labels: np.ndarray, rejected: np.ndarray) -> dict[str, float]:
    """Share answered `none`, per character, sorted by character."""
    return {
        str(char): float(np.mean(rejected[labels == char])) for char in sorted(set(labels.tolist()))
    }
