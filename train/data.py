"""Loads MNIST for training: a directory of IDX files, an mnist.npz, or the Keras download."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from device.files.mnist import DataError, Mnist, load_local, read_idx

__all__ = ["DataError", "Mnist", "load_mnist", "read_idx", "split_validation"]


def load_mnist(location: str | Path | None = None) -> Mnist:
    """MNIST from `location`, else $MNIST_DIR, else the Keras download (needs internet)."""
    location = location or os.environ.get("MNIST_DIR")
    if location:
        return load_local(Path(location))
    import keras  # only here: the download is the one path that needs the training stack

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as exc:  # Keras raises a bare Exception wrapping the URL error
        raise DataError(
            f"MNIST download failed ({exc}); pass --data DIR or set MNIST_DIR"
        ) from None
    return Mnist(x_train, y_train, x_test, y_test, source="keras.datasets.mnist")


def split_validation(
    x: np.ndarray, y: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A seeded random split: the same seed always gives the same validation images."""
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = int(round(len(x) * fraction))
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]
