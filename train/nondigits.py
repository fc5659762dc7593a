"""Synthetic non-digits for outlier exposure, normalised the MNIST way as the device crops them."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from device.vision.mnist28 import to_mnist

CANVAS = 64  # drawn at this size, then cropped to the ink and fitted to 20x20 in 28x28
INK_FLOOR = 0.08  # levels below this do not count as ink when cropping
Rng = np.random.Generator


def normalise(levels: np.ndarray) -> np.ndarray:
    """Float 0-1 ink (any size) -> 28x28 uint8: cropped to the ink, a typical stroke core
    stretched to full ink (as device/normalise.ink_levels does), 20x20 box, centre of mass."""
    ink = levels > INK_FLOOR * max(float(levels.max()), 1e-6)
    rows, cols = np.nonzero(ink)
    if not len(rows) or levels.max() <= 0:
        return np.zeros((28, 28), np.uint8)
    crop = levels[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    core = max(float(np.percentile(levels[ink], 60)), 1e-3)
    return to_mnist(np.clip(crop / core, 0.0, 1.0))


def _canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (CANVAS, CANVAS), 0)
    return image, ImageDraw.Draw(image)


def _levels(image: Image.Image, rng: Rng) -> np.ndarray:
    if rng.random() < 0.5:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.2)))
    return np.asarray(image, np.float32) / 255.0


def _point(rng: Rng, margin: float = 8.0) -> tuple[float, float]:
    return tuple(rng.uniform(margin, CANVAS - margin, 2).tolist())


def blob(rng: Rng) -> np.ndarray:
    """An ink blot: an irregular filled shape, sometimes with a smaller one beside it."""
    image, draw = _canvas()
    for _ in range(rng.integers(1, 3)):
        cx, cy = _point(rng, 16)
        radius = rng.uniform(6, 16)
        angles = np.sort(rng.uniform(0, 2 * math.pi, rng.integers(6, 12)))
        radii = radius * rng.uniform(0.6, 1.3, len(angles))
        polygon = list(zip(cx + radii * np.cos(angles), cy + radii * np.sin(angles), strict=True))
        draw.polygon(polygon, fill=int(rng.integers(150, 256)))
    return normalise(_levels(image, rng))


def dots(rng: Rng) -> np.ndarray:
    """Two to seven pen dots scattered (one dot alone is dropped by the device's shape rules)."""
    image, draw = _canvas()
    for _ in range(rng.integers(2, 8)):
        x, y = _point(rng, 4)
        r = rng.uniform(1.5, 4.5)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=int(rng.integers(160, 256)))
    return normalise(_levels(image, rng))


def scribble(rng: Rng) -> np.ndarray:
    """A pen scribble: a wandering polyline with many sharp turns."""
    image, draw = _canvas()
    steps = rng.integers(8, 22)
    walk = np.cumsum(rng.normal(0, 9, (steps, 2)), axis=0)
    walk = (walk - walk.min(0)) / max(np.ptp(walk, axis=0).max(), 1e-3) * 48 + 8
    draw.line([tuple(p) for p in walk.tolist()], fill=255, width=int(rng.integers(2, 5)))
    return normalise(_levels(image, rng))


def hatching(rng: Rng) -> np.ndarray:
    """Parallel strokes at one angle, sometimes crossed by a second set."""
    image, draw = _canvas()
    for _ in range(1 if rng.random() < 0.6 else 2):
        angle = rng.uniform(0, math.pi)
        dx, dy = math.cos(angle), math.sin(angle)
        count, gap = rng.integers(3, 8), rng.uniform(4, 9)
        for k in range(count):
            off = (k - count / 2) * gap + rng.normal(0, 0.8)
            cx, cy = CANVAS / 2 - dy * off, CANVAS / 2 + dx * off
            half = rng.uniform(12, 26)
            line = [(cx - dx * half, cy - dy * half), (cx + dx * half, cy + dy * half)]
            draw.line(line, fill=int(rng.integers(170, 256)), width=int(rng.integers(2, 4)))
    return normalise(_levels(image, rng))


def stray_line(rng: Rng) -> np.ndarray:
    """One or two straight or bent lines, never near-vertical alone (that is a fair 1)."""
    image, draw = _canvas()
    angle = rng.uniform(-1, 1) * math.radians(50) + (0 if rng.random() < 0.5 else math.pi / 2)
    angle = angle if abs(math.cos(angle)) > math.cos(math.radians(45)) else angle + math.pi / 2
    half = rng.uniform(15, 28)
    start = (32 - half * math.cos(angle), 32 - half * math.sin(angle))
    end = (32 + half * math.cos(angle), 32 + half * math.sin(angle))
    points = [start, end]
    if rng.random() < 0.4:  # a bend or a second stroke crossing
        points.append(_point(rng))
    draw.line(points, fill=int(rng.integers(170, 256)), width=int(rng.integers(2, 5)))
    return normalise(_levels(image, rng))


def ruled(rng: Rng) -> np.ndarray:
    """Ruled-paper lines as a crop catches them: long, nearly horizontal, faint."""
    image, draw = _canvas()
    tilt = math.tan(math.radians(rng.uniform(-6, 6)))
    count, gap = rng.integers(1, 4), rng.uniform(10, 22)
    fill, width = int(rng.integers(90, 230)), int(rng.integers(1, 4))
    for k in range(count):
        y = 32 + (k - (count - 1) / 2) * gap
        draw.line([(0, y - 32 * tilt), (CANVAS, y + 32 * tilt)], fill=fill, width=width)
    if rng.random() < 0.3:  # a margin line crossing them
        x = rng.uniform(8, 56)
        draw.line([(x, 0), (x, CANVAS)], fill=fill, width=width)
    return normalise(_levels(image, rng))


def shadow(rng: Rng) -> np.ndarray:
    """A shadow's soft edge: a broad grey ramp over part of the crop."""
    y, x = np.mgrid[0:CANVAS, 0:CANVAS].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    along = (x - 32) * math.cos(angle) + (y - 32) * math.sin(angle) - rng.uniform(-16, 16)
    ramp = 1.0 / (1.0 + np.exp(-along / rng.uniform(2.0, 10.0)))
    levels = ramp * rng.uniform(0.25, 0.8)
    rows, cols = int(rng.uniform(24, 64)), int(rng.uniform(24, 64))
    crop = levels[:rows, :cols]
    return normalise(crop if crop.max() > 2 * INK_FLOOR else levels)


def _ink_box(digit: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(digit > 20 * float(digit.max()) / 255)
    if not len(rows):
        return digit
    return digit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def fragment(rng: Rng, digits: np.ndarray) -> np.ndarray:
    """The top or bottom third to half of a digit, as a crop at a frame edge catches it.

    Tall, bar-like pieces (the top of a 1 or a 4) are drawn again: they would be a fair 1.
    """
    for _ in range(8):
        digit = _ink_box(digits[rng.integers(len(digits))]).astype(np.float32) / 255.0
        rows = digit.shape[0]
        keep = max(2, round(rows * rng.uniform(0.3, 0.55)))
        piece = _ink_box(digit[:keep] if rng.random() < 0.5 else digit[rows - keep :])
        if piece.shape[0] <= 1.4 * piece.shape[1]:
            break
    return normalise(piece)


def glued_pair(rng: Rng, digits: np.ndarray) -> np.ndarray:
    """Two digits touching or overlapping, squeezed into one 20x20 box like a single glyph."""
    first, second = (_ink_box(digits[i]) for i in rng.integers(len(digits), size=2))
    height = max(first.shape[0], second.shape[0])
    overlap = int(rng.integers(0, max(2, min(first.shape[1], second.shape[1]) // 2)))
    width = first.shape[1] + second.shape[1] - overlap
    pair = np.zeros((height + 4, width), np.float32)
    drop = int(rng.integers(0, 5))
    pair[drop : drop + first.shape[0], : first.shape[1]] = first
    right = pair[4 - drop : 4 - drop + second.shape[0], width - second.shape[1] :]
    np.maximum(right, second, out=right)
    squeeze = rng.uniform(0.45, 1.0)  # how far the pair is squashed towards one glyph's width
    size = (max(2, round(width * squeeze)), height + 4)
    squashed = np.asarray(Image.fromarray(pair / 255.0).resize(size, Image.BILINEAR))
    return normalise(squashed)


Generator = Callable[[Rng], np.ndarray]
SHAPES: dict[str, tuple[float, Generator]] = {
    "blob": (0.08, blob),
    "dots": (0.08, dots),
    "scribble": (0.14, scribble),
    "hatching": (0.1, hatching),
    "stray-line": (0.08, stray_line),
    "ruled": (0.07, ruled),
    "shadow": (0.05, shadow),
}
FROM_DIGITS = {"fragment": (0.15, fragment), "glued-pair": (0.25, glued_pair)}
KINDS = (*SHAPES, *FROM_DIGITS)


def make_one(kind: str, rng: Rng, digits: np.ndarray) -> np.ndarray:
    if kind in FROM_DIGITS:
        return FROM_DIGITS[kind][1](rng, digits)
    return SHAPES[kind][1](rng)


def make_nondigits(count: int, digits: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """count synthetic non-digits (uint8, 28x28, white on black) and the kind index of each.

    digits: training digits (never validation or test ones) for fragments and glued pairs.
    """
    rng = np.random.default_rng(seed)
    weights = np.array([w for w, _ in (*SHAPES.values(), *FROM_DIGITS.values())])
    kinds = rng.choice(len(KINDS), size=count, p=weights / weights.sum())
    images = np.stack([make_one(KINDS[k], rng, digits) for k in kinds]) if count else None
    if images is None:
        return np.zeros((0, 28, 28), np.uint8), kinds
    return images, kinds
