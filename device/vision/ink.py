"""Grey frame to ink contrast and ink mask: polarity, uneven light and shadows taken out."""

from __future__ import annotations

import numpy as np
from PIL import Image

from device.vision.filters import square_filter

# Frames are worked on at about this long side: a digit needs a few hundred pixels at most.
WORK_SIDE = 320

CELL = 4  # the paper level is estimated per CELL x CELL pixels of the working frame
CLOSING = 0.09  # ... by a closing of this radius (fraction of the short side, 5 cells at 240 px):
# it must outreach the widest stroke, which for a digit filling the frame is ~15% of its height
POLARITY_CELLS = 4  # neighbourhood, in cells (16 px), in which ink is judged the minority
DARK_INK_PRIOR = 0.3  # photos of paper are the usual case: weak evidence (a blank page) says dark
SMALL_FRAME = 128  # below this short side the light is taken as even: one paper level
MIN_CONTRAST = 0.12  # ink absorbs at least this fraction of the local paper brightness
RELATIVE_CONTRAST = 0.3  # and at least this fraction of the frame's strongest ink
PEAK_RANK = 5  # the strongest ink is the 5th-highest cell peak: a few specks do not count


def reduction(size: tuple[int, int], side: int = WORK_SIDE) -> int:
    """Integer factor that brings the long side down to about `side` (at least `side`)."""
    return max(1, max(size) // side)


def reduce_frame(grey: np.ndarray, side: int = WORK_SIDE) -> tuple[np.ndarray, int]:
    """Box-reduces a frame by an integer factor so its long side is near `side` (as decoding
    does for files; camera frames arrive full size)."""
    factor = reduction(grey.shape, side)
    if factor == 1:
        return grey, 1
    return np.asarray(Image.fromarray(grey).reduce(factor)), factor


def block_reduce(image: np.ndarray, block: int, reduce: np.ufunc) -> np.ndarray:
    """Max or min of each whole block x block cell (a remainder strip is ignored).

    Strided elementwise passes: an order of magnitude faster than reshape(...).max(axis).
    """
    rows, cols = image.shape[0] // block * block, image.shape[1] // block * block
    out = image[0:rows:block, :cols].copy()
    for i in range(1, block):
        reduce(out, image[i:rows:block, :cols], out=out)
    tall = out[:, 0::block].copy()
    for i in range(1, block):
        reduce(tall, out[:, i::block], out=tall)
    return tall


def whole_cells(grey: np.ndarray) -> np.ndarray:
    """The frame padded (edges repeated) to a whole number of cells."""
    rows, cols = grey.shape
    extra_rows, extra_cols = -rows % CELL, -cols % CELL
    if extra_rows or extra_cols:
        return np.pad(grey, ((0, extra_rows), (0, extra_cols)), "edge")
    return grey


def grey_percentiles(grey: np.ndarray, percents: tuple[float, ...]) -> np.ndarray:
    """Percentiles of a uint8 image from its histogram (much faster than np.percentile)."""
    cumulative = np.cumsum(np.bincount(grey.ravel(), minlength=256))
    ranks = np.asarray(percents) / 100.0 * (cumulative[-1] - 1)
    return np.searchsorted(cumulative, ranks, side="right").astype(np.float32)


def ink_is_dark(grey: np.ndarray, cells: tuple[np.ndarray, np.ndarray] | None = None) -> bool:
    """Dark ink on light paper (True) or light ink on dark: ink is the minority, so it lies in
    the histogram's longer tail, and in neighbourhoods holding ink the mean sits nearer the
    paper. `cells`: the (darkest, lightest) pixel of each cell, if already known.

    Both tests look at one pixel per cell (a 4x4 sample) for the histogram and the means.
    """
    sample = grey[::CELL, ::CELL]
    low, median, high = grey_percentiles(sample, (1.0, 50.0, 99.0))
    overall = ((median - low) - (high - median)) / max(high - low, 1.0)
    if min(grey.shape) < 2 * POLARITY_CELLS * CELL:  # a crop: one neighbourhood, all of it
        darkest, lightest = grey.min(keepdims=True), grey.max(keepdims=True)
        mean = np.float32(grey.mean())
    else:
        darkest, lightest = cells or cell_extremes(whole_cells(grey))
        darkest = block_reduce(darkest, POLARITY_CELLS, np.minimum)
        lightest = block_reduce(lightest, POLARITY_CELLS, np.maximum)
        rows, cols = darkest.shape
        sampled = sample[: rows * POLARITY_CELLS, : cols * POLARITY_CELLS].astype(np.int32)
        # a sum of integers is exact in any order: as np.mean, faster than its 4-D reshape
        mean = block_reduce(sampled, POLARITY_CELLS, np.add) / float(POLARITY_CELLS**2)
    lean = (mean - darkest) - (lightest - mean)
    local = float(lean.sum()) / max(float(np.abs(lean).sum()), 1.0)
    return overall + local >= -DARK_INK_PRIOR


def cell_extremes(padded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Darkest and lightest pixel of each cell of a frame padded to whole cells."""
    return block_reduce(padded, CELL, np.minimum), block_reduce(padded, CELL, np.maximum)


def paper_cells(lightest: np.ndarray) -> np.ndarray:
    """Paper brightness per cell without the ink (paper side up): a grey closing of the cells'
    lightest pixels. It keeps light gradients and shadow edges, which are wider than strokes,
    and drops strokes narrower than the closing."""
    radius = max(2, round(CLOSING * min(lightest.shape)))
    closed = square_filter(lightest, np.maximum, radius, edge="edge")
    # Eroded one cell further than a closing: where a shadow edge cuts a cell, the cell takes
    # the shadow's side, as underestimating the paper hides ink but overestimating invents it.
    return square_filter(closed, np.minimum, radius + 1, edge="edge")


def ink_contrast(grey: np.ndarray) -> np.ndarray:
    """float32 in [0, 1]: the fraction of local paper brightness each pixel's ink absorbs,
    less the sensor and JPEG noise (which in a deep shadow would otherwise look like ink)."""
    rows, cols = grey.shape
    padded = whole_cells(grey)
    darkest, lightest = cell_extremes(padded)
    dark_ink = ink_is_dark(grey, (darkest, lightest))
    if not dark_ink:  # turn the paper side up: ink dark, paper light
        padded = 255 - padded
        darkest, lightest = 255 - lightest, 255 - darkest
    if min(rows, cols) < SMALL_FRAME:  # a crop: even light, one paper level
        level = np.full_like(lightest, grey_percentiles(padded, (90.0,))[0])
    else:
        level = paper_cells(lightest)
    # contrast = (level - margin - pixel) / max(level, floor), with the per-cell parts
    # computed on the cells, widened to pixel columns and broadcast over each cell's rows:
    # (cell rows, CELL, columns), whose long rows numpy runs through fast
    margin = noise_margin(level.astype(np.float32) - padded[::CELL, ::CELL])
    floor = max(0.3 * float(grey_percentiles(level, (50.0,))[0]), 1.0)  # deep shadow: no ~0
    scale = 1.0 / np.maximum(level.astype(np.float32), floor)
    offset = (level - np.float32(margin)) * scale
    pixels = padded.reshape(level.shape[0], CELL, padded.shape[1])
    contrast = np.multiply(pixels, np.repeat(scale, CELL, axis=1)[:, None], dtype=np.float32)
    np.subtract(np.repeat(offset, CELL, axis=1)[:, None], contrast, out=contrast)
    np.clip(contrast, 0.0, 1.0, out=contrast)
    return contrast.reshape(padded.shape)[:rows, :cols]


def noise_margin(shortfall: np.ndarray) -> float:
    """How far plain paper falls below its estimated level: twice the median shortfall of a
    sample of pixels (one per cell). Most of any frame is paper, not ink."""
    sample = np.clip(shortfall, 0, 255).astype(np.uint8)
    return 2.0 * float(grey_percentiles(sample, (50.0,))[0])


def ink_threshold(contrast: np.ndarray) -> float:
    """The mask's contrast cut: an absolute floor, raised by strong ink to drop faint lines."""
    peaks = block_reduce(contrast, CELL, np.maximum).ravel()
    if peaks.size == 0:
        peaks = contrast.ravel()
    rank = min(PEAK_RANK, peaks.size)
    # only peaks strong enough to raise the floor can change it: fewer to partition
    strong = peaks[RELATIVE_CONTRAST * peaks.astype(np.float64) > MIN_CONTRAST]
    if strong.size < rank:
        return MIN_CONTRAST
    strongest = float(np.partition(strong, strong.size - rank)[strong.size - rank])
    return max(MIN_CONTRAST, RELATIVE_CONTRAST * strongest)


def ink_mask(contrast: np.ndarray) -> np.ndarray:
    """Boolean ink mask of a contrast frame."""
    return contrast > ink_threshold(contrast)
