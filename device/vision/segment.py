"""Recognition-driven segmentation: a glyph too wide for one digit is cut where the classifier
is most confident on every part (as check readers do, LeCun et al. 1998)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from device.vision.cuts import (
    MIN_PIECE_HEIGHT,
    MIN_PIECE_WIDTH,
    SPLIT_WIDTH,
    Cut,
    gap_columns,
    gap_width,
    ink_cuts,
    slanted_columns,
    tallest_block,
)
from device.vision.mnist28 import stroke_width
from device.vision.seams import sheared

Box = tuple[int, int, int, int]  # x, y, w, h

MAX_PIECE_WIDTH = 1.25  # no piece wider than this many heights is one digit ...
LONE_MAX_WIDTH = 1.5  # ... or this many, for a glyph alone on its line read whole (a 2 with a
# long tail); a piece cut from it has others beside it, so it is held to MAX_PIECE_WIDTH
GAP_SPAN_COST = 1.0  # a piece spanning a wide empty gap: a broken digit, rarely
SHORT_COST = 3.0  # the cost of leaving a piece shorter than MIN_PIECE_HEIGHT out, unread
GAP_CUT = 0.04  # an empty column run this wide (in heights) always separates two glyphs
PIECE_COST = 0.15  # -log(probability) added per piece: a cut must pay for itself
CUT_COST = 0.25  # ... and per stroke it cuts through
WIDE = 0.9  # pieces wider than this many heights pay WIDE_COST per height more ...
LONE_WIDE = 1.2  # ... or this many, for a glyph alone on its line read whole: most likely one digit
WIDE_COST = 3.0
# added to -log p(none) of a piece read as no digit: what makes a letter cost less whole than
# cut into unsure digits, and two surely read touching digits less cut apart than whole
NONE_COST = 0.5
FLOOR = 1e-4  # probabilities below this count as this (log of 0)


@dataclass(frozen=True)
class Piece:
    """Ink that may be one digit: its box in working pixels and its own pixels in that box."""

    box: Box
    mask: np.ndarray = field(compare=False, repr=False)  # bool, the box's shape

    def between(self, slanted: np.ndarray, left: Cut, right: Cut) -> Piece | None:
        """The part between two cuts (in slanted columns, see slanted_columns), trimmed to its
        ink; None when it has none."""
        part = self.mask & (slanted >= left.path[:, None]) & (slanted < right.path[:, None])
        rows = np.flatnonzero(part.any(axis=1))
        if rows.size == 0:
            return None
        cols = np.flatnonzero(part.any(axis=0))
        top, bottom, left_col, right_col = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        box = (
            int(self.box[0] + left_col),
            int(self.box[1] + top),
            int(right_col - left_col),
            int(bottom - top),
        )
        return Piece(box, part[top:bottom, left_col:right_col])


@dataclass(frozen=True)
class Verdict:
    """What the classifier said about a piece."""

    digit: int | None  # the best digit class; None when the model's best class is "none"
    confidence: float  # probability of the best class (digit or "none")
    digit_probability: float  # probability of the best digit class
    model_input: np.ndarray = field(compare=False, repr=False)


Judge = Callable[[Piece], Verdict]


Part = tuple[Piece, "Verdict | None"]  # None: left out by its shape, never shown to the model


def _cost(piece: Piece, verdict: Verdict | None, height: float, wide_from: float) -> float:
    if verdict is None:
        return SHORT_COST
    wide = max(0.0, piece.box[2] / height - wide_from)  # as wide as tall: rarely one digit
    cost = -math.log(max(verdict.digit_probability, FLOOR))
    if verdict.digit is None:  # read as no digit at all: a letter is not cut into digits
        cost = min(cost, -math.log(max(verdict.confidence, FLOOR)) + NONE_COST)
    return cost + PIECE_COST + WIDE_COST * wide


def _least_cost(piece: Piece | None, height: float, wide_from: float) -> float:
    """The least _cost a piece can have, whatever the model says of it (or SHORT_COST, all
    a piece left out unread costs, whatever its width)."""
    if piece is None:
        return 0.0
    return min(SHORT_COST, PIECE_COST + WIDE_COST * max(0.0, piece.box[2] / height - wide_from))


def _reaches(piece: Piece, row: int) -> bool:
    """Whether the piece's rows include `row`."""
    return piece.box[1] <= row < piece.box[1] + piece.box[3]


def _may_be_one(width: int, spanned: int, height: float, widest: float) -> bool:
    """Whether ink `width` slanted columns wide, across `spanned` wide gaps, may be one digit:
    across a wide gap only a narrow broken digit, never two digits."""
    if not MIN_PIECE_WIDTH * height <= width <= widest:
        return False
    return not (spanned and width > SPLIT_WIDTH * height)


def _whole_reading(
    piece: Piece,
    width: int,
    spanned: int,
    judge: Judge,
    height: float,
    widest: float,
    wide_from: float,
) -> tuple[Part, bool] | None:
    """The glyph read whole, as the cheapest-cut search in `segment` would read it, and whether
    no cut can beat it: every other reading has two inked pieces or more, each costing at
    least PIECE_COST, so a whole glyph that costs less than two of them is the answer and the
    seams need not be searched (most single digits). None when the search may not take it
    whole. `width`: its ink's, in slanted columns; `spanned`: the wide gaps inside it. The
    glyph's box is tight around its ink, so it is that search's whole piece."""
    if not _may_be_one(width, spanned, height, widest) or piece.box[3] < MIN_PIECE_HEIGHT * height:
        return None
    verdict = judge(piece)
    cost = _cost(piece, verdict, height, wide_from) + GAP_SPAN_COST * spanned
    return (piece, verdict), cost < 2 * PIECE_COST


def segment(
    piece: Piece, judge: Judge, height: float | None = None, alone: bool = False
) -> list[Part]:
    """The pieces a glyph is read as, left to right, with their verdicts: the glyph itself when
    it is narrow enough for one digit, else the cheapest cut into digit-wide pieces (a piece
    too short for a digit gets no verdict). `alone`: the glyph is alone on its line, so read
    whole it may be wider (LONE_MAX_WIDTH, LONE_WIDE); its pieces may not."""
    height = float(height or piece.box[3])
    if piece.box[2] <= SPLIT_WIDTH * height and piece.mask.any(axis=0).all():
        return [(piece, judge(piece))]  # narrow, no gap: one digit at most
    slanted = slanted_columns(piece.mask)
    ink = sheared(piece.mask, slanted)
    profile = ink.sum(axis=0)  # ink pixels per slanted column
    gaps = gap_columns(profile)
    if gaps:  # digits written apart: measured by their own height, not the drifting line's
        height = min(height, tallest_block(ink, gaps))
    rows = piece.mask.shape[0]
    widest, wide_from = MAX_PIECE_WIDTH * height, WIDE
    whole_widest = (LONE_MAX_WIDTH if alone else MAX_PIECE_WIDTH) * height
    whole_wide_from = LONE_WIDE if alone else WIDE
    gap_cuts = [Cut.straight(c, rows) for c in gaps]
    wide_gaps = [c for c in gap_cuts if gap_width(profile, c.at) >= GAP_CUT * height]
    whole = _whole_reading(
        piece, len(profile), len(wide_gaps), judge, height, whole_widest, whole_wide_from
    )
    if whole is not None and whole[1]:
        return [whole[0]]
    stroke = max(1.0, stroke_width(piece.mask))
    through_ink = ink_cuts(gaps, ink, height, stroke)
    if not gaps and not through_ink and len(profile) <= SPLIT_WIDTH * height:
        return [whole[0] if whole else (piece, judge(piece))]
    inner = sorted(gap_cuts + through_ink, key=lambda c: c.at)
    cuts = [Cut.straight(0, rows), *inner, Cut.straight(len(profile), rows)]
    must = np.array([any(c is gap for gap in wide_gaps) for c in cuts])
    cut_cost = [0.0] + [CUT_COST * c.crossed / stroke for c in cuts[1:-1]] + [0.0]
    middle = piece.box[1] + piece.box[3] // 2  # every digit of a glyph reaches across it
    shapes: dict[tuple[int, int], tuple[Piece | None, int]] = {}
    judged: dict[tuple[int, int], Part | None] = {}
    if whole is not None:  # judged above, not sure enough to skip the cuts
        judged[(0, len(cuts) - 1)] = whole[0]

    def shape(a: int, b: int) -> tuple[Piece | None, int]:
        """The piece between cuts a and b, and its ink's width in slanted columns."""
        if (a, b) not in shapes:
            sub = piece.between(slanted, cuts[a], cuts[b])
            width = cuts[b].at - cuts[a].at
            if sub is not None:
                x, y = sub.box[0] - piece.box[0], sub.box[1] - piece.box[1]
                own = slanted[y : y + sub.box[3], x : x + sub.box[2]][sub.mask]
                width = int(own.max() - own.min() + 1)
            shapes[(a, b)] = sub, width
        return shapes[(a, b)]

    def part(a: int, b: int) -> Part | None:
        if (a, b) not in judged:
            sub, _ = shape(a, b)
            if sub is None:
                judged[(a, b)] = None
            elif sub.box[3] < MIN_PIECE_HEIGHT * height or not _reaches(sub, middle):
                judged[(a, b)] = (sub, None)
            else:
                judged[(a, b)] = (sub, judge(sub))
        return judged[(a, b)]

    best = [math.inf] * len(cuts)  # cheapest reading of columns [0, cuts[i])
    back = [0] * len(cuts)
    best[0] = 0.0
    for b in range(1, len(cuts)):
        for a in range(b - 1, -1, -1):
            if cuts[b].at - cuts[a].at > 2 * whole_widest:
                break  # farther apart still: bounds the pieces tried
            if best[a] == math.inf:
                continue
            is_whole = a == 0 and b == len(cuts) - 1
            width = shape(a, b)[1]  # the ink's, not the cuts': a gap's cut lies mid-gap
            spanned = int(must[a + 1 : b].sum())
            if not _may_be_one(width, spanned, height, whole_widest if is_whole else widest):
                continue
            cost = cut_cost[a] + GAP_SPAN_COST * spanned
            wide_from_here = whole_wide_from if is_whole else wide_from
            least = _least_cost(shape(a, b)[0], height, wide_from_here)
            if best[a] + (cost + least) >= best[b]:  # added as below: rounding cannot flip it
                continue  # it cannot beat the reading found: no model call for it
            judged_part = part(a, b)
            if judged_part is not None:
                cost += _cost(*judged_part, height, wide_from_here)
            if best[a] + cost < best[b]:
                best[b], back[b] = best[a] + cost, a
    if best[-1] == math.inf:  # no reading fits the widths (a long stroke, a row of scribble)
        if piece.box[2] > whole_widest:
            return [(piece, None)]  # wider than any digit: never one confident digit
        return [(piece, judge(piece))]
    found, b = [], len(cuts) - 1
    while b > 0:
        a = back[b]
        if judged.get((a, b)) is not None:
            found.append(judged[(a, b)])
        b = a
    return found[::-1]
