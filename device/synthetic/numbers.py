"""Synthetic photos of handwritten numbers and of pages with no digit: letters, scribbles, blobs."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from device.synthetic.photos import INKS, _absorb, _expose, _light, _pen_strokes, _sheet, draw_pen

NON_DIGIT_PAGES = ("letters", "scribble", "blob")


def _written(glyphs: list[np.ndarray], rng: np.random.Generator, height: float) -> np.ndarray:
    """Coverage (0-1) of 28x28 glyphs written in a row as a person writes them: each a little
    taller or shorter, gaps that vary (some glyphs touch), the row slanted and drifting; all
    with one pen, as a person writes a number (a fine-pen 1 beside marker digits is no one's)."""
    blur = rng.uniform(0.3, 1.2)
    pen = draw_pen(rng)
    side = int(round(height * 28 / 20))
    pieces = []
    for glyph in glyphs:
        own = int(round(side * rng.uniform(0.88, 1.1)))
        coverage = _pen_strokes(glyph, rng, own, blur, pen)
        cols = np.flatnonzero(coverage.max(axis=0) > 0.3)
        if cols.size == 0:
            continue
        pieces.append((coverage[:, cols[0] : cols[-1] + 1], own))
    gaps = [
        rng.uniform(-0.06, 0.0) if rng.random() < 0.15 else rng.uniform(0.04, 0.45) for _ in pieces
    ]
    width = sum(p.shape[1] for p, _ in pieces) + int(sum(max(g, 0) for g in gaps) * height) + 8
    drift = rng.uniform(-0.12, 0.12) * height  # the baseline wanders up or down along the row
    canvas = np.zeros((int(side * 1.4 + abs(drift)) + 4, max(width, 8)), np.float32)
    x = 2
    for i, ((coverage, own), gap) in enumerate(zip(pieces, gaps, strict=True)):
        along = i / max(len(pieces) - 1, 1)
        y = int(
            2 + (side - own) * 0.8 + max(0, -drift) + drift * along + rng.normal(0, 0.03) * side
        )
        y = min(max(y, 0), canvas.shape[0] - coverage.shape[0])
        w = min(coverage.shape[1], canvas.shape[1] - x)
        if w <= 0:
            break
        target = canvas[y : y + coverage.shape[0], x : x + w]
        np.maximum(target, coverage[:, :w], out=target)
        x += w + int(gap * height)
    image = Image.fromarray(np.round(canvas * 255).astype(np.uint8))
    shear = rng.uniform(-0.25, 0.2)  # slant, as italic handwriting
    image = image.transform(
        image.size, Image.AFFINE, (1, shear, -shear * image.height / 2, 0, 1, 0), Image.BILINEAR
    )
    image = image.rotate(rng.uniform(-4, 4), Image.BILINEAR, expand=True)
    return np.asarray(image, np.float32) / 255.0


def _place(rng, coverage: np.ndarray, rows: int, cols: int) -> tuple[int, int, np.ndarray]:
    """Where the written row goes on the page (shrunk first if it does not fit)."""
    fit = min(1.0, 0.92 * cols / coverage.shape[1], 0.9 * rows / coverage.shape[0])
    if fit < 1.0:
        size = (max(1, int(coverage.shape[1] * fit)), max(1, int(coverage.shape[0] * fit)))
        coverage = np.asarray(Image.fromarray(coverage).resize(size, Image.BILINEAR))
    top = int(rng.integers(0, rows - coverage.shape[0] + 1))
    left = int(rng.integers(0, cols - coverage.shape[1] + 1))
    return top, left, coverage


def _photo(rng, coverage: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    rows, cols = size
    top, left, coverage = _place(rng, coverage, rows, cols)
    box = (left, top, coverage.shape[1], coverage.shape[0])
    reflectance = _sheet(rng, rows, cols, rng.random() < 0.5, rng.uniform(0.3, 1.2), avoid=box)
    ink = INKS[rng.integers(len(INKS))]
    h, w = coverage.shape
    _absorb(reflectance[top : top + h, left : left + w], coverage, ink)
    light = _light(rng, rows, cols, shadow=rng.uniform(0.2, 0.5) if rng.random() < 0.3 else 0.0)
    return _expose(rng, reflectance, light)


def photo_of_number(
    digits: list[np.ndarray], rng: np.random.Generator, size: tuple[int, int] = (480, 640)
) -> np.ndarray:
    """An RGB photo of 28x28 MNIST-style digits handwritten in a row on paper."""
    rows, cols = size
    most = 0.9 * cols / (0.75 * len(digits) + 0.2 * (len(digits) - 1)) * 20 / 28
    height = min(rng.uniform(0.1, 0.3) * rows, most)
    return _photo(rng, _written(digits, rng, height), size)


def _scribble(rng: np.random.Generator, side: int) -> np.ndarray:
    """A scribble, hatching or a filled ink blob, side x side 28-style white on black."""
    image = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(image)
    width = max(2, int(side * rng.uniform(0.04, 0.09)))
    kind = rng.integers(3)
    if kind == 0:  # a loop-de-loop scribble
        t = np.linspace(0, rng.uniform(3, 7) * math.pi, 120)
        r = side * 0.3
        pts = np.stack(
            [
                side / 2 + r * np.cos(t) + np.linspace(-r, r, t.size),
                side / 2 + r * 0.6 * np.sin(rng.uniform(0.8, 1.6) * t),
            ],
            axis=1,
        )
        draw.line([tuple(p) for p in pts], 255, width, joint="curve")
    elif kind == 1:  # hatching
        for i in range(int(rng.integers(4, 9))):
            x = side * (0.15 + 0.7 * i / 8)
            draw.line([(x, side * 0.15), (x + side * 0.25, side * 0.85)], 255, width)
    else:  # a blob, roughly round, filled
        r = side * rng.uniform(0.2, 0.4)
        c = side / 2
        angles = np.linspace(0, 2 * math.pi, 12, endpoint=False)
        radii = r * rng.uniform(0.7, 1.2, 12)
        draw.polygon(
            [
                (c + q * math.cos(a), c + q * math.sin(a))
                for a, q in zip(angles, radii, strict=True)
            ],
            255,
        )
    return np.asarray(image.filter(ImageFilter.GaussianBlur(1)).resize((28, 28), Image.BILINEAR))


def photo_without_digits(
    rng: np.random.Generator,
    kind: str,
    letters: np.ndarray | None = None,
    size: tuple[int, int] = (480, 640),
) -> np.ndarray:
    """An RGB photo of a page with no digit: a handwritten word from `letters` (28x28 EMNIST
    letters, white on black), or scribbles, hatching and blobs."""
    if kind not in NON_DIGIT_PAGES:
        raise ValueError(f"kind must be one of {NON_DIGIT_PAGES}, not {kind!r}")
    count = int(rng.integers(1, 6))
    if kind == "letters":
        if letters is None or len(letters) == 0:
            raise ValueError("a page of letters needs letter images")
        glyphs = [letters[i] for i in rng.integers(0, len(letters), count)]
    else:
        glyphs = [_scribble(rng, 112) for _ in range(min(count, 3))]
    rows = size[0]
    height = min(rng.uniform(0.12, 0.3) * rows, 0.9 * size[1] / (count * 0.95) * 20 / 28)
    return _photo(rng, _written(glyphs, rng, height), size)
