"""Labelled ink runs to components: box, ink and moments of each, from closed-form sums."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from device.vision.regions import Runs

Box = tuple[int, int, int, int]  # x, y, w, h


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

    def _covariance(self) -> tuple[float, float, float]:
        """Variances of x and y and their covariance, each pixel a unit square."""
        sx, sy, sxx, syy, sxy = (m / self.area for m in self.moments)
        return sxx - sx * sx + 1 / 12, syy - sy * sy + 1 / 12, sxy - sx * sy

    def _axes(self) -> tuple[float, float, float]:
        """Variance along the major and minor axes, and the major axis angle from x (deg)."""
        vxx, vyy, vxy = self._covariance()
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
    def width(self) -> float:
        """Width across the major axis, as for a uniform bar."""
        return math.sqrt(12 * self._axes()[1])

    @property
    def axis_deg(self) -> float:
        """Angle of the major axis from x, -90-90 (y pointing down)."""
        return self._axes()[2]

    def width_across(self, normal: tuple[float, float]) -> float:
        """Width along the unit vector `normal` (across a line at right angles to it), as for
        a uniform bar."""
        vxx, vyy, vxy = self._covariance()
        nx, ny = normal
        return math.sqrt(max(0.0, 12 * (vxx * nx * nx + 2 * vxy * nx * ny + vyy * ny * ny)))

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


def box_gap(a: Box, b: Box) -> int:
    """Chessboard distance between two boxes, 0 when they overlap."""
    gap_y = max(0, b[1] - (a[1] + a[3]), a[1] - (b[1] + b[3]))
    return max(box_gap_x(a, b), gap_y)


def box_gap_x(a: Box, b: Box) -> int:
    """Columns between two boxes, 0 when their columns overlap."""
    return max(0, b[0] - (a[0] + a[2]), a[0] - (b[0] + b[2]))


def union_box(a: Box, b: Box) -> Box:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


def vertical_overlap(a: Component, b: Component) -> float:
    """Vertical overlap of two glyphs as a fraction of the shorter one's height."""
    top, bottom = max(a.box[1], b.box[1]), min(a.box[1] + a.box[3], b.box[1] + b.box[3])
    return max(0, bottom - top) / max(1, min(a.box[3], b.box[3]))
