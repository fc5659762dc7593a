"""Glyphs to text lines: grouped by height and overlap, each ordered left to right."""

from __future__ import annotations

from device.vision.components import Component, vertical_overlap
from device.vision.glyphs import LINE_GAP, LINE_OVERLAP

MIN_HEIGHT = 0.4  # glyphs shorter than this fraction of the tallest line's are not digits of it


def _follows(line: list[Component], glyph: Component) -> float:
    """How well `glyph` continues `line` (whose last glyph is nearest on its left): the
    overlap with that glyph, 0 when too far away. Comparing neighbours only lets a line
    drift up or down, slanted or uneven, over its length."""
    last = line[-1]
    gap = glyph.box[0] - (last.box[0] + last.box[2])
    if gap > LINE_GAP * max(last.box[3], glyph.box[3]):
        return 0.0
    overlap = vertical_overlap(last, glyph)
    return overlap if overlap >= LINE_OVERLAP else 0.0


def text_lines(glyphs: list[Component]) -> list[list[Component]]:
    """The glyphs as lines of text, top to bottom, each left to right; glyphs much smaller
    than the text (a dot, a speck that passed the shape rules) are left out."""
    if not glyphs:
        return []
    lines: list[list[Component]] = []
    for glyph in sorted(glyphs, key=lambda g: (g.box[0], g.box[1])):
        fits = [(_follows(line, glyph), i) for i, line in enumerate(lines)]
        score, best = max(fits, default=(0.0, -1))
        if score > 0:
            lines[best].append(glyph)
        else:
            lines.append([glyph])
    tallest = max(line_height(line) for line in lines)
    kept = [[g for g in line if g.box[3] >= MIN_HEIGHT * tallest] for line in lines]
    kept = [line for line in kept if line]
    return sorted(kept, key=lambda line: sum(g.centre[1] for g in line) / len(line))


def line_height(line: list[Component]) -> float:
    """A line's digit height: the median of its glyphs' heights."""
    heights = sorted(g.box[3] for g in line)
    return float(heights[len(heights) // 2])
