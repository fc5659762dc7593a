"""device.vision.mnist28: a digit crop becomes a 28x28 input made the way MNIST was made."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from device.vision.mnist28 import CENTRE, ink_levels, stroke_width, to_mnist


def ink_box(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(image)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    total = image.sum()
    return (rows * image).sum() / total, (cols * image).sum() / total


def test_fits_the_longer_side_to_20_keeping_the_aspect_ratio():
    tall = np.ones((90, 30), np.float32)  # 3:1
    digit = to_mnist(tall)
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    assert ink_box(digit) == (20, 7)
    wide = to_mnist(np.ones((20, 60), np.float32))
    assert ink_box(wide) == (7, 20)


def test_centres_the_mass_not_the_box():
    rng = np.random.default_rng(0)
    for _ in range(20):
        blob = (rng.random((int(rng.integers(20, 80)), int(rng.integers(20, 80)))) ** 3).astype(
            np.float32
        )
        row, col = centre_of_mass(to_mnist(blob).astype(np.float64))
        assert abs(row - CENTRE) <= 0.5 and abs(col - CENTRE) <= 0.5


def test_renormalising_an_mnist_digit_barely_changes_it(mnist):
    changed = []
    for digit in mnist.x_test[:500]:
        rows, cols = np.nonzero(digit)
        crop = digit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1] / 255.0
        changed.append(np.abs(to_mnist(crop).astype(int) - digit).mean())
    assert np.mean(changed) < 0.5  # grey levels out of 255, per pixel
    assert np.median(changed) == 0.0


def ring(size: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    canvas = Image.new("L", (size, size), 0)
    ImageDraw.Draw(canvas).ellipse([2, 2, size - 3, size - 3], outline=255, width=width)
    mask = np.asarray(canvas) > 127
    return mask.astype(np.float32) * 0.6, mask


def test_stroke_width_estimate():
    for width in (3, 6, 10):
        assert stroke_width(ring(120, width)[1]) == pytest.approx(width, rel=0.25)


def test_thin_pen_strokes_are_thickened_to_mnist_weight_and_saturated():
    contrast, mask = ring(160, 3)  # a fine pen: 2% of the digit's height
    digit = to_mnist(ink_levels(contrast, mask))
    weight = stroke_width(digit > 127)
    assert 2.0 <= weight <= 3.5  # MNIST's strokes are about 2.6 px wide
    assert digit.max() == 255


def test_ink_outside_the_digit_region_is_dropped():
    contrast, mask = ring(100, 14)  # as bold as MNIST: no thickening, no padding
    contrast = contrast.copy()
    contrast[48:52, :] = 0.9  # a ruled line crossing the crop, not part of the digit
    levels = ink_levels(contrast, mask)
    assert levels[50, 50] == 0.0 and levels[mask].min() > 0.9
