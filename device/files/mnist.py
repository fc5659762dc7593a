"""Reads MNIST from a directory of IDX files or an mnist.npz (numpy only: also used on the Pi)."""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension


class DataError(Exception):
    """A data file is missing, damaged or inconsistent; the message names it."""


@dataclass(frozen=True)
class Mnist:
    x_train: np.ndarray  # (N, 28, 28) uint8, white ink on black
    y_train: np.ndarray  # (N,) uint8
    x_test: np.ndarray
    y_test: np.ndarray
    source: str


def read_idx(path: Path) -> np.ndarray:
    """Reads one IDX file (gzipped or not), checking its magic number and size."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(f"{path}: truncated or corrupt gzip ({exc})") from None
    if len(raw) < 8:
        raise DataError(f"{path}: too short to be an IDX file ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in (IMAGES_MAGIC, LABELS_MAGIC):
        raise DataError(f"{path}: bad magic number 0x{magic:08x}, not an MNIST IDX file")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise DataError(
            f"{path}: header promises {dims} = {expected} bytes, file holds {len(raw) - header}"
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def _find_idx(directory: Path, stem: str) -> Path:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.exists():
            return candidate
    raise DataError(f"{directory}: missing {stem}.gz")


def _checked(x: np.ndarray, y: np.ndarray, images: str, labels: str) -> tuple[np.ndarray, ...]:
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise DataError(f"{images}: images are {x.shape[1:]}, expected 28x28")
    if len(x) != len(y):
        raise DataError(f"{images}: {len(x)} images but {labels} has {len(y)} labels")
    if y.size and y.max() > 9:
        raise DataError(f"{labels}: label {int(y.max())} outside 0-9")
    return x, y


def load_idx_dir(directory: Path) -> Mnist:
    paths = {key: _find_idx(directory, stem) for key, stem in IDX_NAMES.items()}
    arrays = {key: read_idx(path) for key, path in paths.items()}
    x_train, y_train = _checked(
        arrays["x_train"], arrays["y_train"], paths["x_train"], paths["y_train"]
    )
    x_test, y_test = _checked(arrays["x_test"], arrays["y_test"], paths["x_test"], paths["y_test"])
    return Mnist(x_train, y_train, x_test, y_test, source=str(directory))


def load_npz(path: Path) -> Mnist:
    try:
        with np.load(path) as npz:
            arrays = {key: npz[key] for key in IDX_NAMES}
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except KeyError as exc:
        raise DataError(f"{path}: missing array {exc}") from None
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path}: not a readable npz ({exc})".splitlines()[0]) from None
    x_train, y_train = _checked(arrays["x_train"], arrays["y_train"], str(path), str(path))
    x_test, y_test = _checked(arrays["x_test"], arrays["y_test"], str(path), str(path))
    return Mnist(
        x_train.astype(np.uint8), y_train.astype(np.uint8), x_test.astype(np.uint8),
        y_test.astype(np.uint8), source=str(path),
    )  # fmt: skip


def load_local(path: Path) -> Mnist:
    """A directory of the four IDX files (gzipped or not), a directory holding mnist.npz, or
    the npz itself."""
    if path.is_dir() and (path / "mnist.npz").exists() and not any(path.glob("*idx*")):
        return load_npz(path / "mnist.npz")
    if path.is_dir():
        return load_idx_dir(path)
    if path.exists() or path.suffix == ".npz":
        return load_npz(path)
    raise DataError(f"{path}: no such file or directory")
