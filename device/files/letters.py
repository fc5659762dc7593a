"""EMNIST handwritten letters (shared/data/nondigit/letters.npz) and their held-out part."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from device.files.mnist import DataError

HELDOUT_EVERY = 5  # rows 0, 5, 10, ... are held out: never for training, only for measuring


def heldout_rows(n: int) -> np.ndarray:
    """Indices of the held-out rows of a letters file of n rows: every 5th, from row 0."""
    return np.arange(0, n, HELDOUT_EVERY)


def load_letters(path: Path | str, heldout: bool = True) -> np.ndarray:
    """(N, 28, 28) uint8 letters, white on black: the held-out rows, or all the others."""
    try:
        with np.load(Path(path)) as data:
            images = data["images"]
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path}: cannot read letters ({exc})".splitlines()[0]) from None
    rows = heldout_rows(len(images))
    if heldout:
        return images[rows]
    return np.delete(images, rows, axis=0)
