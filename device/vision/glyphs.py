"""Ink mask to glyphs: connected components, grouped into glyphs, implausible ones left out."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from device.vision.ink import SMALL_FRAME  # a crop of one digit: only size and contrast count
from device.vision.regions import Runs

Box = tuple[int, int, int, int]  # x, y, w, h

MIN_SIZE_PX = 6  # a digit's longer side, in working pixels
MIN_SIZE_FRACTION = 0.05  # ... and as a fraction of the frame's short side
MIN_MEAN_CONTRAST = 0.2  # pen ink is strong; shadow edges and noise are faint
BLOB_FILL, BLOB_ELONGATION = 0.72, 2.5  # filled and roundish ...
BLOB_MAX_SIZE = 0.15  # ... and small (fraction of the short side): a dot or a smudge
LINE_ELONGATION, LINE_TILT_DEG = 7.0, 35.0  # long, thin and lying down: a stray stroke, not a 1
MAX_ELONGATION = 40.0  # too thin for any handwritten digit
STROKE_MAX_LENGTH = 0.35  # a longer line (fraction of the short side) is never part of a digit
GROUP_GAP = 0.35  # strokes closer than this fraction of the larger one's size form one glyph
SPECK_AREA = 0.03  # fraction of the largest stroke's area below which a piece is noise
SPECK_PX = 8  # and an absolute floor, in working pixels: a cloud of noise specks is no glyph
MAX_GROUPED = 40  # strokes considered for grouping, by ink: bounds the pairwise work
MAX_GLYPHS = 32  # glyphs read per frame, by ink: a full sheet of text must not stall a frame


@dataclass(frozen=True)
class Component:
    """One connected ink region, or a group of them: box, ink and raw moments."""

    labels: tuple[int, ...]
    box: Box
    area: float
    ink: float  # summed contrast
    moments: tuple[float, float, float, float, float]  # sums of x, y, x^2, y^2, x*y
    touches_border: bool

    @property
    def centre(self) -> tuple[float, float]:
        return self.moments[0] / self.area, self.moments[1] / self.area

    def _axes(self) -> tuple[float, float, float]:
        """Variance along the major and minor axes, and the major axis angle from x (deg)."""
        sx, sy, sxx, syy, sxy = (m / self.area for m in self.moments)
        vxx, vyy, vxy = sxx - sx * sx + 1 / 12, syy - sy * sy + 1 / 12, sxy - sx * sy
        half_sum, root = (vxx + vyy) / 2, math.hypot((vxx - vyy) / 2, vxy)
        angle = math.degrees(0.5 * math.atan2(2 * vxy, vxx - vyy))
        return half_sum + root, max(half_sum - root, 1 / 12), angle

    @property
    def elongation(self) -> float:
        """Length over width of the equivalent ellipse: 1 for a disc, large for a line."""
        major, minor, _ = self._axes()
        return math.sqrt(major / minor)

    @property
    def length(self) -> float:
        """Length along the major axis, as for a uniform bar."""
        return math.sqrt(12 * self._axes()[0])

    @property
    def tilt_deg(self) -> float:
        """Angle of the major axis from vertical, 0-90."""
        return 90.0 - abs(self._axes()[2])

    @property
    def fill(self) -> float:
        return self.area / (self.box[2] * self.box[3])

    @property
    def size(self) -> int:
        return max(self.box[2], self.box[3])

    def merged(self, other: Component) -> Component:
        return Component(
            labels=self.labels + other.labels,
            box=union_box(self.box, other.box),
            area=self.area + other.area,
            ink=self.ink + other.ink,
            moments=tuple(a + b for a, b in zip(self.moments, other.moments, strict=True)),
            touches_border=self.touches_border or other.touches_border,
        )


def _sum_of_squares(n: np.ndarray) -> np.ndarray:
    """0^2 + 1^2 + ... + (n-1)^2."""
    return (n - 1) * n * (2 * n - 1) / 6.0


def describe(runs: Runs, contrast: np.ndarray) -> list[Component]:
    """Box, ink and moments of each labelled component, from closed-form sums over its runs."""
    if len(runs.row) == 0:
        return []
    rows, cols = contrast.shape
    row, start, end, label = runs.row, runs.start, runs.end, runs.label
    count = int(label.max()) + 1
    run_length = end - start
    length = run_length.astype(np.float64)
    y = row.astype(np.float64)
    sum_x = length * (start + end - 1) / 2.0
    sum_xx = _sum_of_squares(end.astype(np.float64)) - _sum_of_squares(start.astype(np.float64))
    # contrast of the ink pixels only, run after run, then summed per run
    first = np.cumsum(run_length) - run_length
    pixel = np.repeat(row * cols + start - first, run_length) + np.arange(run_length.sum())
    run_ink = np.add.reduceat(contrast.ravel()[pixel], first).astype(np.float64)
    totals = [
        np.bincount(label, weights=w, minlength=count)
        for w in (length, run_ink, sum_x, length * y, sum_xx, length * y * y, sum_x * y)
    ]
    top, left = np.full(count, rows), np.full(count, cols)
    bottom, right = np.zeros(count, np.int64), np.zeros(count, np.int64)
    np.minimum.at(top, label, row)
    np.maximum.at(bottom, label, row)
    np.minimum.at(left, label, start)
    np.maximum.at(right, label, end)
    components = []
    for i in range(count):
        x, y0, w, h = (
            int(left[i]),
            int(top[i]),
            int(right[i] - left[i]),
            int(bottom[i] - top[i] + 1),
        )
        components.append(
            Component(
                labels=(i,),
                box=(x, y0, w, h),
                area=float(totals[0][i]),
                ink=float(totals[1][i]),
                moments=tuple(float(t[i]) for t in totals[2:]),
                touches_border=x == 0 or y0 == 0 or x + w == cols or y0 + h == rows,
            )
        )
    return components


def rejection(component: Component, frame_shape: tuple[int, int]) -> str | None:
    """Why a component (or group) cannot be a digit, or None when it could be."""
    short = min(frame_shape)
    if component.size < max(MIN_SIZE_PX, MIN_SIZE_FRACTION * short):
        return "too small"
    if component.ink < MIN_MEAN_CONTRAST * component.area:
        return "too faint"
    if short < SMALL_FRAME:
        return None  # a crop of a digit: it may touch the edges, and a lone stroke is a 1
    if component.touches_border:
        return "cut by the frame edge"  # or the edge of the paper, or a shadow's corner
    if (
        component.fill > BLOB_FILL
        and component.elongation < BLOB_ELONGATION
        and component.size < BLOB_MAX_SIZE * short
    ):
        return "a blob"
    if component.elongation > MAX_ELONGATION:
        return "a line"
    if component.elongation > LINE_ELONGATION and component.tilt_deg > LINE_TILT_DEG:
        return "a line"
    return None


def may_join_glyph(component: Component, frame_shape: tuple[int, int]) -> bool:
    """Whether a component may be one stroke of a digit: a broken stroke, the bar of a 5."""
    short = min(frame_shape)
    if component.ink < MIN_MEAN_CONTRAST * component.area:
        return False
    if short >= SMALL_FRAME and component.touches_border:
        return False
    return (
        component.length <= STROKE_MAX_LENGTH * short or rejection(component, frame_shape) is None
    )


def plausibility(component: Component, frame_shape: tuple[int, int]) -> float:
    """How likely a component is the digit: its ink, less when far from the middle."""
    rows, cols = frame_shape
    dx = (component.centre[0] - cols / 2) / (cols / 2)
    dy = (component.centre[1] - rows / 2) / (rows / 2)
    return component.ink * (1.0 - 0.4 * min(math.hypot(dx, dy), 1.5))


def box_gap(a: Box, b: Box) -> int:
    """Chessboard distance between two boxes, 0 when they overlap."""
    gap_x = max(0, b[0] - (a[0] + a[2]), a[0] - (b[0] + b[2]))
    gap_y = max(0, b[1] - (a[1] + a[3]), a[1] - (b[1] + b[3]))
    return max(gap_x, gap_y)


def union_box(a: Box, b: Box) -> Box:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


def _reach(c: Component) -> int:
    """How far a stroke reaches for its partners: its size; a group's by its height only, so a
    line of digits grouped into one glyph does not swallow the line above it."""
    return c.size if len(c.labels) == 1 else c.box[3]


def _belong_together(a: Component, b: Component) -> bool:
    return box_gap(a.box, b.box) <= GROUP_GAP * max(_reach(a), _reach(b))


def _linked(glyphs: list[Component]) -> list[Component]:
    """One round of single-linkage: every pair that belongs together is joined."""
    parent = list(range(len(glyphs)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, a in enumerate(glyphs):
        for j in range(i + 1, len(glyphs)):
            if _belong_together(a, glyphs[j]):
                parent[root(j)] = root(i)
    joined: dict[int, Component] = {}
    for i, glyph in enumerate(glyphs):
        r = root(i)
        joined[r] = joined[r].merged(glyph) if r in joined else glyph
    return list(joined.values())


def _strokes(components: list[Component], frame_shape: tuple[int, int]) -> list[Component]:
    """The components that may be strokes of a digit, specks left out, most ink first."""
    strokes = [c for c in components if may_join_glyph(c, frame_shape)]
    if not strokes:
        return []
    smallest = max(SPECK_PX, SPECK_AREA * max(c.area for c in strokes))
    return sorted((c for c in strokes if c.area >= smallest), key=lambda c: -c.ink)


def _grouped(strokes: list[Component]) -> list[Component]:
    """Single-linkage repeated until stable, since a grown glyph reaches further: the pieces of
    a digit written with a fine, faint pen are each small, but together digit-sized."""
    glyphs = strokes
    while True:
        joined = _linked(glyphs)
        if len(joined) == len(glyphs):
            return joined
        glyphs = joined


def group_glyphs(components: list[Component], frame_shape: tuple[int, int]) -> list[Component]:
    """Joins strokes that lie close together into glyphs (a broken 8, a 5 and its bar); digits
    written close together become one glyph, which segmentation splits again."""
    return _grouped(_strokes(components, frame_shape)[:MAX_GROUPED])


@dataclass(frozen=True)
class Glyphs:
    """Every plausible glyph of a frame, most ink first, and whether some were left unread."""

    glyphs: list[Component]
    crowded: bool  # more strokes or glyphs than a frame reads: a page of text, not a number


def find_glyphs(components: list[Component], frame_shape: tuple[int, int]) -> Glyphs:
    """The plausible digit glyphs of a frame, at most MAX_GLYPHS of them (by ink)."""
    strokes = _strokes(components, frame_shape)
    glyphs = [g for g in _grouped(strokes[:MAX_GROUPED]) if glyph_rejection(g, frame_shape) is None]
    glyphs.sort(key=lambda g: -g.ink)
    crowded = len(strokes) > MAX_GROUPED or len(glyphs) > MAX_GLYPHS
    return Glyphs(glyphs[:MAX_GLYPHS], crowded)


def glyph_rejection(glyph: Component, frame_shape: tuple[int, int]) -> str | None:
    """rejection() for a glyph; one of several strokes (digits written close together) is
    judged on size, contrast and the frame edge only: its outline is no single stroke's."""
    if min(glyph.box[2], glyph.box[3]) <= 1:
        return "a hairline"  # a ruled line's or the paper edge's remnant, no pen stroke
    if len(glyph.labels) == 1:
        return rejection(glyph, frame_shape)
    reason = rejection(glyph, frame_shape)
    return reason if reason in ("too small", "too faint", "cut by the frame edge") else None


def pick_digit(components: list[Component], frame_shape: tuple[int, int]) -> Component | None:
    """The most plausible digit among the glyphs the components form, or None."""
    glyphs = [g for g in group_glyphs(components, frame_shape) if rejection(g, frame_shape) is None]
    if not glyphs:
        return None
    return max(glyphs, key=lambda g: plausibility(g, frame_shape))
