"""Components to glyphs: strokes grouped into glyphs, implausible ones left out."""

from __future__ import annotations

import math
from dataclasses import dataclass

from device.vision.components import Component, box_gap, box_gap_x, vertical_overlap
from device.vision.ink import SMALL_FRAME  # a crop of one digit: only size and contrast count

MIN_SIZE_PX = 6  # a digit's longer side, in working pixels
MIN_SIZE_FRACTION = 0.05  # ... and as a fraction of the frame's short side
MIN_MEAN_CONTRAST = 0.2  # pen ink is strong; shadow edges and noise are faint
BLOB_FILL, BLOB_ELONGATION = 0.72, 2.5  # filled and roundish ...
BLOB_MAX_SIZE = 0.15  # ... and small (fraction of the short side): a dot or a smudge
# A stray stroke, not a 1: long for its width and lying down, beyond the 45 deg MNIST's
# training 1s lean and the ~8 deg a camera turns them; or leaning and thinner for its length
# than those 1s (leaning over 30 deg they are at most 10.7 times as long as wide, at MNIST's
# pen: a thick-pen stroke leaning so is taken for a 1, and a fine-pen 1 for a stroke).
LINE_ELONGATION, LYING_TILT_DEG = 7.0, 55.0
LEANING_ELONGATION, LEANING_TILT_DEG = 12.0, 35.0
MAX_ELONGATION = 40.0  # too thin for any handwritten digit
# Printed rules (a margin, ruled lines) are thin lines too long for a digit or cut by the
# frame edge; a faint one breaks into dashes as tall as a 1. A piece is a dash of a rule when
# its centre is within half the rule's width and AXIS_SLACK of its axis and it is no wider
# than the rule and WIDTH_SLACK. Pen strokes of digits are wider than PRINTED_WIDTH at the
# working size, but for the smallest (a fine pen, a digit near the size floor).
PRINTED_WIDTH = 2.5
AXIS_SLACK, WIDTH_SLACK = 1.0, 0.5
MAX_LINES = 24  # rules looked at, one per axis, longest first (a page has ~20 ruled lines)
STROKE_MAX_LENGTH = 0.35  # a longer line (fraction of the short side) is never part of a digit
GROUP_GAP = 0.35  # strokes closer than this fraction of the larger one's size form one glyph
SPECK_AREA = 0.03  # fraction of the largest stroke's area below which a piece is noise
SPECK_PX = 8  # and an absolute floor, in working pixels: a cloud of noise specks is no glyph
MAX_GROUPED = 40  # strokes considered for grouping, by ink: bounds the pairwise work
MAX_GLYPHS = 32  # glyphs read per frame, by ink: a full sheet of text must not stall a frame
LINE_OVERLAP = 0.45  # vertical overlap, as a fraction of the shorter glyph, of neighbours in a line
LINE_GAP = 2.5  # a wider horizontal gap (in glyph heights) starts a new line, even at one height
# A glyph under the size floor is still read when it stands in a line with a glyph at least
# NEIGHBOUR_HEIGHT of its height (or the other way round): a digit of a number written small,
# where a speck stands alone or far smaller than its neighbours.
NEIGHBOUR_HEIGHT = 0.6


def rejection(
    component: Component, frame_shape: tuple[int, int], size_floor: bool = True
) -> str | None:
    """Why a component (or group) cannot be a digit, or None when it could be. `size_floor`:
    held to the floor relative to the frame (MIN_SIZE_FRACTION), not only to MIN_SIZE_PX."""
    short = min(frame_shape)
    if component.size < max(MIN_SIZE_PX, MIN_SIZE_FRACTION * short if size_floor else 0):
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
    tilt, elongation = component.tilt_deg, component.elongation
    if elongation > LINE_ELONGATION and tilt > LYING_TILT_DEG:
        return "a line"
    if elongation > LEANING_ELONGATION and tilt > LEANING_TILT_DEG:
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


@dataclass(frozen=True)
class PrintedLine:
    """A printed rule (a page's margin, a ruled line): thin, and too long for a digit or cut
    by the frame edge. Its axis and width, to find the dashes the threshold broke it into."""

    centre: tuple[float, float]
    normal: tuple[float, float]  # unit vector at right angles to the axis
    width: float

    @classmethod
    def of(cls, line: Component) -> PrintedLine:
        angle = math.radians(line.axis_deg)
        return cls(line.centre, (-math.sin(angle), math.cos(angle)), line.width)

    def holds(self, piece: Component) -> bool:
        """Whether a piece lies on the axis and is no wider than the line (a pen stroke a
        pixel wider is not the line; one as thin, exactly on its axis, cannot be told from it)."""
        (x, y), (cx, cy), (nx, ny) = piece.centre, self.centre, self.normal
        if abs((x - cx) * nx + (y - cy) * ny) > self.width / 2 + AXIS_SLACK:
            return False
        return piece.width_across(self.normal) <= self.width + WIDTH_SLACK


def printed_lines(left_out: list[Component], frame_shape: tuple[int, int]) -> list[PrintedLine]:
    """The printed rules among components that may not join a digit, one per axis, longest
    first, at most MAX_LINES: faint marks and short pieces are no evidence of a rule."""
    short = min(frame_shape)
    lines: list[PrintedLine] = []
    for c in sorted(left_out, key=lambda c: -c.length):
        if c.ink < MIN_MEAN_CONTRAST * c.area or c.width > PRINTED_WIDTH:
            continue
        if c.elongation < LINE_ELONGATION:
            continue
        if not (c.touches_border or c.length > STROKE_MAX_LENGTH * short):
            continue
        if not any(line.holds(c) for line in lines):
            lines.append(PrintedLine.of(c))
            if len(lines) == MAX_LINES:
                break
    return lines


def _strokes(components: list[Component], frame_shape: tuple[int, int]) -> list[Component]:
    """The components that may be strokes of a digit, most ink first: specks and the dashes
    of printed rules left out."""
    strokes, left_out = [], []
    for c in components:
        if may_join_glyph(c, frame_shape):
            if c.area >= SPECK_PX:
                strokes.append(c)
        elif c.size >= MIN_SIZE_PX:
            left_out.append(c)
    if left_out:
        lines = printed_lines(left_out, frame_shape)
        # a stroke wider than any rule is no dash: most strokes are spared the axis tests
        thin = PRINTED_WIDTH + WIDTH_SLACK
        strokes = [c for c in strokes if c.width > thin or not any(ln.holds(c) for ln in lines)]
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
    grouped = _grouped(strokes[:MAX_GROUPED])
    reasons = [glyph_rejection(g, frame_shape) for g in grouped]
    glyphs = [g for g, reason in zip(grouped, reasons, strict=True) if reason is None]
    small = [
        g
        for g, reason in zip(grouped, reasons, strict=True)
        if reason == "too small" and glyph_rejection(g, frame_shape, size_floor=False) is None
    ]
    glyphs += _level_with_glyphs(small, glyphs)
    glyphs.sort(key=lambda g: -g.ink)
    crowded = len(strokes) > MAX_GROUPED or len(glyphs) > MAX_GLYPHS
    return Glyphs(glyphs[:MAX_GLYPHS], crowded)


def _level_with_glyphs(small: list[Component], kept: list[Component]) -> list[Component]:
    """The small glyphs in a line with a kept glyph of about their height, or with a small one
    that is, and still of about the kept glyph's height (NEIGHBOUR_HEIGHT): a chain of ever
    smaller marks stops. Each round compares the glyphs left with those found last only."""
    found: list[Component] = []
    todo = list(small)
    last = [(k, k.box[3]) for k in kept]  # a glyph and the height of the kept one it stands by
    while todo and last:
        latest = []
        for g in todo:
            anchor = next((h for f, h in last if _level(g, f) and _alike(g.box[3], h)), None)
            if anchor is not None:
                latest.append((g, anchor))
        found += [g for g, _ in latest]
        todo = [g for g in todo if all(g is not f for f, _ in latest)]
        last = latest
    return found


def _alike(a: float, b: float) -> bool:
    """Whether two heights are about one (the shorter at least NEIGHBOUR_HEIGHT of the other)."""
    return min(a, b) >= NEIGHBOUR_HEIGHT * max(a, b)


def _level(a: Component, b: Component) -> bool:
    """Whether two glyphs of about one height stand side by side on one line."""
    high = max(a.box[3], b.box[3])
    return (
        _alike(a.box[3], b.box[3])
        and vertical_overlap(a, b) >= LINE_OVERLAP
        and box_gap_x(a.box, b.box) <= LINE_GAP * high
    )


def glyph_rejection(
    glyph: Component, frame_shape: tuple[int, int], size_floor: bool = True
) -> str | None:
    """rejection() for a glyph; one of several strokes (digits written close together) is
    judged on size, contrast and the frame edge only: its outline is no single stroke's."""
    if min(glyph.box[2], glyph.box[3]) <= 1:
        return "a hairline"  # a ruled line's or the paper edge's remnant, no pen stroke
    if len(glyph.labels) == 1:
        return rejection(glyph, frame_shape, size_floor)
    reason = rejection(glyph, frame_shape, size_floor)
    return reason if reason in ("too small", "too faint", "cut by the frame edge") else None


def pick_digit(components: list[Component], frame_shape: tuple[int, int]) -> Component | None:
    """The most plausible digit among the glyphs the components form, or None."""
    glyphs = [g for g in group_glyphs(components, frame_shape) if rejection(g, frame_shape) is None]
    if not glyphs:
        return None
    return max(glyphs, key=lambda g: plausibility(g, frame_shape))
