"""device.vision.ink: polarity, and an ink mask that survives uneven light, shadows and lines."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from device.vision.ink import (
    MIN_CONTRAST,
    PEAK_RANK,
    RELATIVE_CONTRAST,
    block_reduce,
    ink_contrast,
    ink_is_dark,
    ink_mask,
    ink_threshold,
    reduce_frame,
)


def strokes(shape=(240, 320)) -> np.ndarray:
    """Boolean pen strokes of a digit-sized '4' in the middle of a frame."""
    canvas = Image.new("L", (shape[1], shape[0]), 0)
    draw = ImageDraw.Draw(canvas)
    draw.line([(170, 60), (120, 140), (200, 140)], fill=255, width=6)
    draw.line([(180, 100), (180, 180)], fill=255, width=6)
    return np.asarray(canvas) > 127


def photographed(ink: np.ndarray, seed: int = 0, shadow: float = 0.0) -> np.ndarray:
    """Paper with light falling off from one side, vignetting and sensor noise; optionally a
    shadow over the lower left with a penumbra `shadow` pixels wide (0: none). The ink reflects
    20% of the light."""
    rng = np.random.default_rng(seed)
    rows, cols = ink.shape
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    light = (
        240 * (1 - 0.45 * x / cols) * (1 - 0.3 * ((x / cols - 0.5) ** 2 + (y / rows - 0.5) ** 2))
    )
    if shadow:
        light *= 1 - 0.5 / (1 + np.exp(np.clip((0.8 * x + 40 - y) / shadow, -50, 50)))
    page = light * np.where(ink, 0.2, 0.9) + rng.normal(0, 3, ink.shape)
    return np.clip(page, 0, 255).astype(np.uint8)


def test_polarity_is_detected_both_ways():
    page = photographed(strokes())
    assert ink_is_dark(page)
    assert not ink_is_dark(255 - page)
    mnist_like = np.zeros((28, 28), np.uint8)
    mnist_like[6:22, 12:16] = 255
    assert not ink_is_dark(mnist_like)
    assert ink_is_dark(255 - mnist_like)


@pytest.mark.parametrize("invert", [False, True])
def test_mask_finds_the_strokes_despite_gradient_vignetting_and_shadow(invert):
    ink = strokes()
    page = photographed(ink, shadow=3.0)
    mask = ink_mask(ink_contrast(255 - page if invert else page))
    assert mask[ink].mean() > 0.9  # the strokes are found...
    inner = np.zeros_like(ink)
    inner[16:-16, 16:-16] = True  # where the shadow meets the frame edge, see components
    assert mask[~ink & inner].mean() < 0.001  # ...and nothing else, shadow edge included


def test_faint_ruled_lines_drop_out_beside_strong_ink():
    ink = strokes()
    page = photographed(ink).astype(np.float32)
    page[::30] *= 0.85  # ruled lines: a little darker than the paper
    mask = ink_mask(ink_contrast(page.astype(np.uint8)))
    assert mask[ink].mean() > 0.9
    assert mask[::30][~ink[::30]].mean() < 0.01


def test_blank_paper_has_next_to_no_ink():
    page = photographed(np.zeros((240, 320), bool), seed=3, shadow=3.0)
    mask = ink_mask(ink_contrast(page))
    assert mask[16:-16, 16:-16].mean() < 0.002  # a few specks of noise at most


def test_contrast_is_the_fraction_of_light_absorbed():
    page = np.full((200, 200), 200, np.uint8)
    page[90:110, 50:150] = 50  # absorbs 75% of the light
    contrast = ink_contrast(page)
    assert contrast[100, 100] == pytest.approx(0.75, abs=0.02)
    assert contrast[10, 10] == 0.0


def test_reduce_frame_brings_the_long_side_near_320():
    frame = np.zeros((480, 640), np.uint8)
    small, factor = reduce_frame(frame)
    assert small.shape == (240, 320) and factor == 2
    assert reduce_frame(np.zeros((28, 28), np.uint8))[1] == 1


def test_block_reduce_agrees_with_numpy():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (60, 80), dtype=np.uint8)
    blocks = image.reshape(15, 4, 20, 4)
    assert np.array_equal(block_reduce(image, 4, np.maximum), blocks.max(axis=(1, 3)))
    assert np.array_equal(block_reduce(image, 4, np.minimum), blocks.min(axis=(1, 3)))


@pytest.mark.parametrize("strength", [0.0, 0.3, float(np.float32(0.4)), 0.41, 0.9])
def test_the_ink_threshold_is_a_share_of_the_fifth_strongest_cell(strength):
    """The cut is the floor, or 30% of the 5th-highest cell peak when that is higher,
    however many strong peaks there are (the search looks at the strong ones only)."""
    rng = np.random.default_rng(int(strength * 100))
    contrast = (rng.random((120, 160)) * 0.35).astype(np.float32)
    for count in (0, 3, 4, 5, 6, 40):
        frame = contrast.copy()
        cells = rng.choice(30 * 40, count, replace=False)
        frame[cells // 40 * 4, cells % 40 * 4] = strength + rng.random(count) * 0.05 * strength
        if strength and count:  # one peak exactly where 30% of it first tops the floor
            frame[cells[0] // 40 * 4, cells[0] % 40 * 4] = np.float32(0.4)
        peaks = np.sort(block_reduce(frame, 4, np.maximum).ravel())
        expected = max(MIN_CONTRAST, RELATIVE_CONTRAST * float(peaks[-PEAK_RANK]))
        assert ink_threshold(frame) == pytest.approx(expected, abs=0)
