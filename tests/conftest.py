"""Shared fixtures: real MNIST from MNIST_DIR (required under CI), synthetic digits."""

from __future__ import annotations

import gzip
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from device.synthetic.photos import font_digit
from tests import fake_picamera2
from tests.fake_picamera2 import Plan

REPO = Path(__file__).resolve().parents[1]
SHIPPED_MODEL = REPO / "models" / "digitcam.tflite"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    location = os.environ.get("MNIST_DIR")
    if location and Path(location).exists():
        return Path(location)
    message = f"real MNIST needed: set MNIST_DIR (now {location!r})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def shared_data(relative: str) -> Path:
    """A folder or file of ../shared/data beside the checkout: a failure under CI=true when
    missing, else a skip."""
    location = REPO.parent / "shared" / "data" / relative
    if location.exists():
        return location
    message = f"shared data needed: {location}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """../shared/data/real: photos people published (photos/, numbers/, nondigits/)."""
    return shared_data("real")


@pytest.fixture(scope="session")
def letters_file() -> Path:
    return shared_data("nondigit/letters.npz")


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    from train.data import load_mnist

    return load_mnist(mnist_dir)


@pytest.fixture(scope="session")
def held_out_letters():
    """The held-out part of the seeded split of letters.npz (required under CI)."""
    from train.letters import default_location, load_split

    location = default_location()
    if location is None:
        message = "letters.npz needed: set DIGITCAM_LETTERS or keep ../shared/data beside MNIST"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return load_split(location).held_out


def write_idx(path: Path, array: np.ndarray, *, magic: int | None = None, count: int | None = None):
    """An MNIST IDX .gz file of `array` (magic and item count may be set wrong on purpose)."""
    dims = list(array.shape)
    if count is not None:
        dims[0] = count
    magic = magic if magic is not None else 0x0800 | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def font_digits(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-like 28x28 white-on-black digits drawn with Pillow's font (no MNIST needed)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count).astype(np.uint8)
    return np.stack([font_digit(int(label), rng) for label in labels]), labels


@pytest.fixture
def fake_camera(monkeypatch):
    """Installs a fake picamera2 following a Plan; returns the function that does it."""

    def install(plan: Plan) -> Plan:
        monkeypatch.setitem(sys.modules, "picamera2", fake_picamera2.module(plan))
        return plan

    return install
