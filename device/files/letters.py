"""EMNIST handwritten letters (shared/data/nondigit/letters.npz) and their held-out part."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from device.files.mnist import DataError

# One split, used by training (train/letters.py) and by every measurement here: a fixed seeded
# permutation, independent of the training seed, so the held-out letters never move.
SPLIT_SEED = 9
HELD_OUT_FRACTION = 0.15  # never trained on: the convert gate, the report, the synthetic pages
VALIDATION_FRACTION = 0.05  # chooses the decision threshold during training


def split_rows(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted row indices (train, validation, held out) of a letters file of n rows."""
    order = np.random.default_rng(SPLIT_SEED).permutation(n)
    n_held = int(round(n * HELD_OUT_FRACTION))
    n_val = int(round(n * VALIDATION_FRACTION))
    held, val, train = order[:n_held], order[n_held : n_held + n_val], order[n_held + n_val :]
    return np.sort(train), np.sort(val), np.sort(held)


def heldout_rows(n: int) -> np.ndarray:
    """Indices of the held-out rows of a letters file of n rows."""
    return split_rows(n)[2]


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
