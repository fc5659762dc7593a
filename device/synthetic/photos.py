"""Synthetic photos of a digit handwritten on paper (or of paper with no digit), for tests."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from device.vision.mnist28 import to_mnist

Box = tuple[int, int, int, int]
NO_DIGIT_KINDS = ("blank", "dot", "stray-line", "ruled", "shadow")
# Reflectances (0-1, RGB) of what a phone or Pi camera sees on a desk.
PAPERS = ((0.92, 0.92, 0.90), (0.93, 0.89, 0.78), (0.70, 0.70, 0.68), (0.88, 0.90, 0.93))
INKS = ((0.10, 0.10, 0.12), (0.14, 0.20, 0.58), (0.10, 0.12, 0.35))  # black, blue, dark blue
RULE_BLUE, MARGIN_RED = (0.62, 0.76, 0.95), (0.88, 0.40, 0.42)
# The digit's MNIST 20x20 box as a fraction of the frame height: a digit that fills a good part
# of the picture; (0.06, 0.1) makes the "small digits" set.
DIGIT_HEIGHT = (0.2, 0.5)
FIELD_STEP = 4  # light and shadow are smooth: computed on a grid this much coarser, then resized


def _coarse_grid(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Pixel coordinates (y column, x row vectors) of a coarse grid covering the frame."""
    size = (-(-cols // FIELD_STEP) + 1, -(-rows // FIELD_STEP) + 1)
    y = np.arange(size[1], dtype=np.float32)[:, None] * FIELD_STEP
    x = np.arange(size[0], dtype=np.float32)[None, :] * FIELD_STEP
    return y, x, size


def _to_frame(field: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """A coarse field resized (bilinear) to the frame."""
    big = Image.fromarray(field.astype(np.float32))
    scale = (big.width - 1) * FIELD_STEP, (big.height - 1) * FIELD_STEP
    big = big.resize(scale, Image.BILINEAR)
    return np.asarray(big)[:rows, :cols]


def _light(rng: np.random.Generator, rows: int, cols: int, shadow: float) -> np.ndarray:
    """Brightness (0-255 for white paper): exposure, a gradient from one side, vignetting, and
    optionally a soft-edged shadow (a hand, a phone) darkening part of the frame by `shadow`."""
    y, x = _coarse_grid(rows, cols)[:2]
    angle = rng.uniform(0, 2 * math.pi)
    along = ((x - cols / 2) * math.cos(angle) + (y - rows / 2) * math.sin(angle)) / max(rows, cols)
    radius2 = ((x - cols / 2) ** 2 + (y - rows / 2) ** 2) / ((cols / 2) ** 2 + (rows / 2) ** 2)
    field = (1.0 + rng.uniform(0.0, 0.6) * along) * (1.0 - rng.uniform(0.0, 0.35) * radius2)
    if shadow:
        angle = rng.uniform(0, 2 * math.pi)
        nx, ny = math.cos(angle), math.sin(angle)
        extent = abs(nx) * cols + abs(ny) * rows
        edge = (x - cols / 2) * nx + (y - rows / 2) * ny - (0.5 - rng.uniform(0.15, 0.5)) * extent
        inside = 1.0 / (1.0 + np.exp(-np.clip(edge / rng.uniform(4.0, 40.0), -30, 30)))
        field = field * (1.0 - shadow * inside)
    return _to_frame(field * rng.uniform(210, 290), rows, cols)


def _ruling(rng: np.random.Generator, rows: int, cols: int) -> Image.Image:
    """Coverage ("L", 0-255) of the blue lines of ruled paper: maybe squared, a bit tilted."""
    spacing, thickness = rng.uniform(0.06, 0.09) * rows, rng.uniform(1.0, 2.5)
    side = int(math.hypot(rows, cols)) + 2  # drawn larger, then rotated and cut to the frame
    distance = np.mod(np.arange(side, dtype=np.float32) - rng.uniform(0, spacing), spacing)
    distance = np.minimum(distance, spacing - distance)
    profile = np.clip(thickness / 2 + 0.5 - distance, 0, 1) * rng.uniform(0.5, 1.0)
    lines = np.broadcast_to(profile[:, None], (side, side))
    if rng.random() < 0.15:
        lines = np.maximum(lines, profile[None, :])
    image = Image.fromarray(np.round(lines * 255).astype(np.uint8))
    image = image.rotate(rng.uniform(-2.5, 2.5), Image.BILINEAR)
    top, left = (side - rows) // 2, (side - cols) // 2
    return image.crop((left, top, left + cols, top + rows))


def _absorb(reflectance: np.ndarray, coverage: np.ndarray, ink) -> None:
    """Ink absorbs light: reflectance *= 1 - coverage * (1 - ink reflectance), in place."""
    reflectance *= 1.0 - coverage[..., None] * (1.0 - np.asarray(ink, np.float32))


def _sheet(rng, rows: int, cols: int, ruled: bool, blur: float, avoid: Box | None) -> np.ndarray:
    """RGB reflectance of a sheet of paper, plain or ruled; a red margin line never crosses
    the `avoid` box (people write beside the margin)."""
    paper = np.asarray(PAPERS[rng.integers(len(PAPERS))], np.float32) * rng.uniform(0.94, 1.04)
    reflectance = np.empty((rows, cols, 3), np.float32)
    reflectance[:] = paper
    if not ruled:
        return reflectance
    lines = _ruling(rng, rows, cols).filter(ImageFilter.GaussianBlur(blur))
    _absorb(reflectance, np.asarray(lines, np.float32) / 255.0, RULE_BLUE)
    margin = rng.uniform(0.08, 0.2) * cols
    if rng.random() < 0.3 and (avoid is None or margin < avoid[0] - 4):
        x = np.arange(cols, dtype=np.float32)
        line = np.clip(rng.uniform(1.0, 2.5) / 2 + 0.5 - np.abs(x - margin), 0, 1)
        reflectance *= 1.0 - line[None, :, None] * (1.0 - np.asarray(MARGIN_RED, np.float32))
    return reflectance


def _expose(rng: np.random.Generator, reflectance: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Reflectance under the light, plus sensor noise, clipped to 8 bits."""
    radiance = reflectance * light[..., None]
    noise = rng.standard_normal(light.shape, dtype=np.float32) * rng.uniform(1.5, 6.0)
    radiance += noise[..., None]
    return np.clip(radiance, 0, 255, out=radiance).astype(np.uint8)


@dataclass(frozen=True)
class Pen:
    """How a pen writes: how fine its line (a higher coverage cut: finer), whether it is a
    marker (thicker than MNIST by this share of the digit's side; 0: not one), how dark."""

    cut: float
    marker: float
    strength: float


def draw_pen(rng: np.random.Generator) -> Pen:
    """A pen at random: a marker 30% of the time, a line from fine to broad, more or less dark."""
    marker = rng.uniform(0.01, 0.03) if rng.random() < 0.3 else 0.0
    return Pen(cut=rng.uniform(0.3, 0.8), marker=marker, strength=rng.uniform(0.85, 1.0))


def _pen_strokes(
    digit: np.ndarray, rng: np.random.Generator, side: int, blur: float, pen: Pen | None = None
):
    """Coverage (0-1, side x side) of a 28x28 MNIST-style digit written with a pen (one drawn
    at random when not given): scaled, tilted, and thinner or thicker than MNIST's strokes
    without breaking them."""
    soft = digit.astype(np.float32) / 255.0
    peak = np.asarray(Image.fromarray(soft).filter(ImageFilter.MaxFilter(3)))
    ridge = soft / np.maximum(peak, 0.35)  # every stroke's core at 1: thinning cannot cut it
    big = Image.fromarray(np.round(ridge * 255).astype(np.uint8)).resize(
        (side, side), Image.BICUBIC
    )
    big = big.filter(ImageFilter.GaussianBlur(0.5 * side / 28)).rotate(rng.uniform(-8, 8))
    pen = pen or draw_pen(rng)
    if pen.marker:
        reach = max(1, int(pen.marker * side))
        big = big.filter(ImageFilter.MaxFilter(2 * reach + 1))
    level = np.asarray(big, np.float32) / 255.0
    coverage = np.clip((level - pen.cut) / 0.12 + 0.5, 0.0, 1.0) * pen.strength
    lens = Image.fromarray(np.round(coverage * 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(blur)
    )
    return np.asarray(lens, np.float32) / 255.0


def photo_and_box(
    digit: np.ndarray,
    rng: np.random.Generator,
    size: tuple[int, int] = (480, 640),
    height: tuple[float, float] = DIGIT_HEIGHT,
) -> tuple[np.ndarray, Box]:
    """An RGB photo of `digit` (28x28 uint8, white on black) handwritten on paper, and the box
    (x, y, w, h) of the digit's 20x20 MNIST area in it, whose height is a fraction of the
    frame's drawn from `height` (low, high).

    Paper white, cream, grey or bluish, plain or ruled; black or blue pen of varying width;
    light uneven (gradient, vignetting), a shadow in 40% of photos; lens blur and sensor noise.
    Save it with jpeg_bytes() for JPEG artefacts.
    """
    rows, cols = size
    height = rng.uniform(*height) * rows  # the digit's 20-pixel MNIST box, in photo pixels
    side = int(round(height * 28 / 20))
    left, top = int(rng.integers(0, cols - side + 1)), int(rng.integers(0, rows - side + 1))
    box = (left + round(side * 4 / 28), top + round(side * 4 / 28), round(height), round(height))
    blur = rng.uniform(0.3, 1.4)
    reflectance = _sheet(rng, rows, cols, rng.random() < 0.5, blur, avoid=(left, top, side, side))
    ink = INKS[rng.integers(len(INKS))]
    _absorb(
        reflectance[top : top + side, left : left + side], _pen_strokes(digit, rng, side, blur), ink
    )
    light = _light(rng, rows, cols, shadow=rng.uniform(0.2, 0.55) if rng.random() < 0.4 else 0.0)
    return _expose(rng, reflectance, light), box


def photo_of_digit(
    digit: np.ndarray,
    rng: np.random.Generator,
    size: tuple[int, int] = (480, 640),
    height: tuple[float, float] = DIGIT_HEIGHT,
) -> np.ndarray:
    """An RGB uint8 photo of a 28x28 white-on-black digit handwritten on paper."""
    return photo_and_box(digit, rng, size, height)[0]


def _mark(rng: np.random.Generator, rows: int, cols: int, kind: str, blur: float) -> np.ndarray:
    """Coverage (0-1) of a pen dot or of one straight stray stroke somewhere on the page."""
    image = Image.new("L", (cols, rows), 0)
    cx, cy = rng.uniform(0.2, 0.8) * cols, rng.uniform(0.2, 0.8) * rows
    if kind == "dot":
        radius = rng.uniform(1.5, 8)
        ImageDraw.Draw(image).ellipse([cx - radius, cy - radius, cx + radius, cy + radius], 255)
    else:
        angle, half = rng.uniform(0, math.pi), rng.uniform(0.15, 0.6) * cols / 2
        dx, dy = math.cos(angle) * half, math.sin(angle) * half
        ImageDraw.Draw(image).line(
            [(cx - dx, cy - dy), (cx + dx, cy + dy)], 255, int(rng.integers(2, 9))
        )
    return np.asarray(image.filter(ImageFilter.GaussianBlur(blur)), np.float32) / 255.0


def photo_without_digit(
    rng: np.random.Generator, kind: str, size: tuple[int, int] = (480, 640)
) -> np.ndarray:
    """An RGB photo of paper with no digit on it: one of NO_DIGIT_KINDS."""
    if kind not in NO_DIGIT_KINDS:
        raise ValueError(f"kind must be one of {NO_DIGIT_KINDS}, not {kind!r}")
    rows, cols = size
    blur = rng.uniform(0.3, 1.4)
    reflectance = _sheet(rng, rows, cols, ruled=kind == "ruled", blur=blur, avoid=None)
    if kind in ("dot", "stray-line"):
        _absorb(reflectance, _mark(rng, rows, cols, kind, blur), INKS[rng.integers(len(INKS))])
    shadow = rng.uniform(0.3, 0.65) if kind == "shadow" else (0.3 if rng.random() < 0.3 else 0.0)
    return _expose(rng, reflectance, _light(rng, rows, cols, shadow))


# A handwriting-style stroke font: each digit as pen strokes through points in a unit box
# (x right, y down), smoothed when drawn. Printed fonts' 1, 6 and 9 do not look like MNIST's.
STROKES = {
    0: [[(0.5, 0), (0.15, 0.2), (0.1, 0.6), (0.35, 0.98), (0.7, 0.95), (0.9, 0.55),
         (0.82, 0.15), (0.5, 0)]],
    1: [[(0.55, 0), (0.45, 1)]],
    2: [[(0.1, 0.25), (0.35, 0.02), (0.7, 0.03), (0.85, 0.3), (0.6, 0.6), (0.1, 1),
         (0.9, 0.97)]],
    3: [[(0.1, 0.12), (0.5, 0), (0.85, 0.15), (0.75, 0.4), (0.4, 0.5), (0.85, 0.62),
         (0.88, 0.88), (0.5, 1), (0.08, 0.88)]],
    4: [[(0.55, 0), (0.1, 0.65), (0.95, 0.65)], [(0.7, 0.3), (0.68, 1)]],
    5: [[(0.85, 0), (0.25, 0), (0.18, 0.45), (0.6, 0.38), (0.88, 0.62), (0.8, 0.9),
         (0.45, 1), (0.1, 0.88)]],
    6: [[(0.75, 0), (0.35, 0.25), (0.12, 0.65), (0.25, 0.95), (0.6, 1), (0.85, 0.8),
         (0.75, 0.55), (0.45, 0.5), (0.15, 0.68)]],
    7: [[(0.08, 0.02), (0.92, 0), (0.35, 1)]],
    8: [[(0.6, 0.02), (0.25, 0.1), (0.25, 0.35), (0.5, 0.5), (0.8, 0.7), (0.7, 0.95),
         (0.35, 0.98), (0.2, 0.75), (0.5, 0.5), (0.75, 0.3), (0.72, 0.08), (0.6, 0.02)]],
    9: [[(0.82, 0.25), (0.5, 0.45), (0.2, 0.35), (0.3, 0.05), (0.65, 0), (0.82, 0.25),
         (0.72, 1)]],
}  # fmt: skip


def _smooth(points: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Chaikin corner cutting: a polyline turned into a smooth pen path through its points."""
    for _ in range(rounds):
        a, b = points[:-1], points[1:]
        cut = np.stack([0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b], axis=1).reshape(-1, 2)
        points = np.vstack([points[:1], cut, points[-1:]])
    return points


def font_digit(digit: int, rng: np.random.Generator) -> np.ndarray:
    """A handwritten-looking 28x28 MNIST-style digit (white on black) from a stroke font, with
    random wobble, slant, width and pen weight: needs no MNIST."""
    canvas = Image.new("L", (160, 160), 0)
    draw = ImageDraw.Draw(canvas)
    width, slant = rng.uniform(0.45, 0.75), rng.uniform(-0.25, 0.15)
    for stroke in STROKES[digit]:
        points = np.asarray(stroke, np.float64) + rng.normal(0, 0.03, (len(stroke), 2))
        points = points * [width, 1.0] * 100
        points[:, 0] += 80 - 50 * width - slant * (points[:, 1] - 50)
        path = _smooth(points) + [0, 30]
        draw.line([tuple(p) for p in path], fill=255, width=int(rng.integers(9, 16)), joint="curve")
    levels = np.asarray(canvas, np.float32) / 255.0
    rows, cols = np.nonzero(levels > 0.1)
    return to_mnist(levels[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1])


def jpeg_bytes(photo: np.ndarray, quality: int) -> bytes:
    """A photo as the JPEG file a camera would write."""
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
