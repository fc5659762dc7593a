"""Digit crop to the model's 28x28 input, made the way MNIST was: 20x20 box, centre of mass."""

from __future__ import annotations

import numpy as np
from PIL import Image

from device.contract import IMAGE_SIZE
from device.vision.filters import square_filter

FIT_SIZE = 20  # MNIST fitted each digit's longer side to 20 pixels, keeping its aspect ratio
MNIST_STROKE = 2.6  # median MNIST stroke width in pixels (2 * area / boundary, ink > 127)
CENTRE = 14.0  # where MNIST test digits' centre of mass sits on average (row and column)


def grow(mask: np.ndarray, radius: int = 1) -> np.ndarray:
    """Binary dilation by a square (so a stroke's soft edge stays in)."""
    return square_filter(mask, np.maximum, radius, edge="zero")


def stroke_width(mask: np.ndarray) -> float:
    """Typical stroke width in pixels: twice the area over the boundary length."""
    core = mask[1:-1, 1:-1]  # pixels on the mask's edge always count as boundary
    inner = core & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    area = np.count_nonzero(mask)
    return 2.0 * float(area) / max(area - np.count_nonzero(inner), 1)


def ink_levels(contrast: np.ndarray, region: np.ndarray) -> np.ndarray:
    """float32 0-1 ink of one digit: strokes saturate and are as wide (relative to the digit) as
    MNIST's, and everything that is not the digit's own ink is dark.

    contrast: the crop's ink contrast; region: its boolean mask of the digit's own pixels.
    """
    inside = contrast[region]
    if inside.size == 0:
        return np.zeros_like(contrast, dtype=np.float32)
    rank = int(0.6 * (inside.size - 1))
    full = max(float(np.partition(inside, rank)[rank]), 1e-3)  # a typical stroke core: to 1
    levels = np.clip(contrast / np.float32(full), 0.0, 1.0).astype(np.float32, copy=False)
    levels *= grow(region)
    target = MNIST_STROKE * max(region.shape) / FIT_SIZE
    reach = int(round((target - stroke_width(region)) / 2))
    if reach <= 0:
        return levels
    return square_filter(np.pad(levels, reach), np.maximum, reach, edge="zero")


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the intensity centre of mass; the middle for an empty image."""
    total = float(image.sum())
    if total <= 0:
        return (image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2
    rows = np.arange(image.shape[0], dtype=np.float64)
    cols = np.arange(image.shape[1], dtype=np.float64)
    return (
        float(image.sum(axis=1) @ rows) / total,
        float(image.sum(axis=0) @ cols) / total,
    )


def to_mnist(levels: np.ndarray) -> np.ndarray:
    """A digit's ink levels (float 0-1, any size) to a 28x28 uint8 MNIST-style input."""
    rows, cols = levels.shape
    scale = FIT_SIZE / max(rows, cols)
    size = (max(1, round(cols * scale)), max(1, round(rows * scale)))
    fitted = Image.fromarray(levels.astype(np.float32, copy=False)).resize(size, Image.BILINEAR)
    patch = np.clip(np.asarray(fitted) * 255.0, 0, 255)
    com_row, com_col = centre_of_mass(patch)
    top = min(max(round(CENTRE - com_row), 0), IMAGE_SIZE - size[1])
    left = min(max(round(CENTRE - com_col), 0), IMAGE_SIZE - size[0])
    digit = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    digit[top : top + size[1], left : left + size[0]] = np.round(patch).astype(np.uint8)
    return digit
