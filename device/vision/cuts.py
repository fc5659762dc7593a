"""Where a glyph may be cut into digits: its slant taken out, the empty column runs inside
it, and seams through ink where digits touch. Segmentation chooses among these cuts."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from device.vision.seams import find_seams

SPLIT_WIDTH = 0.8  # glyphs wider than this many heights may be several digits
MIN_PIECE_WIDTH = 0.06  # no piece narrower than this many heights (a 1 is a few stroke widths)
MIN_PIECE_HEIGHT = 0.45  # a shorter piece (a 2's long tail, a dot) is no digit of its own
CUT_INK = 0.34  # a candidate cut crosses at most this much ink (fraction of the height)
CUT_SPACING = 0.1  # candidate cuts closer than this (in heights) are one cut
SEAM_REACH = 0.15  # a cut may wander this far (in heights) from a straight line
MAX_CUTS = 24  # candidate cuts per glyph: bounds the classifier calls


@dataclass(frozen=True)
class Cut:
    """A cut through a glyph from top to bottom: pixels at or right of `path` (a slanted column
    per row) lie right of it."""

    at: int  # where it lies, in slanted columns
    path: np.ndarray = field(compare=False, repr=False)
    crossed: float = 0.0  # ink pixels it crosses

    @classmethod
    def straight(cls, at: int, rows: int) -> Cut:
        return cls(at, np.full(rows, at, np.int64))


SLANTS = (-0.4, -0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4)  # shifts per row tried


def slanted_columns(mask: np.ndarray) -> np.ndarray:
    """Each pixel's column once the glyph's slant is taken out, from 0: the shear whose column
    profile is peakiest (upright strokes pile up in few columns), so that italic digits which
    overlap in plain columns are apart in slanted ones."""
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return np.zeros(mask.shape, np.int64)
    middle = (mask.shape[0] - 1) / 2
    # every slant's profile in one bincount: slant i's columns from i * span on
    slants = np.array(SLANTS)[:, None]
    shifted = np.floor(xs - slants * (ys - middle) + 0.5).astype(np.int64)
    shifted -= shifted.min(axis=1, keepdims=True)
    span = int(shifted.max()) + 1
    profiles = np.bincount((shifted + span * np.arange(len(SLANTS))[:, None]).ravel())
    profiles = np.pad(profiles, (0, span * len(SLANTS) - profiles.size))
    peakiness = (profiles.reshape(len(SLANTS), span).astype(np.float64) ** 2).sum(axis=1)
    best = max(SLANTS, key=lambda s: (peakiness[SLANTS.index(s)], -abs(s)))
    rows, cols = np.indices(mask.shape)
    # floor(x + 0.5), not round: halves rounded to even would fold a row's pixels in pairs
    shifted = np.floor(cols - best * (rows - middle) + 0.5).astype(np.int64)
    return shifted - shifted[mask].min()


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[False], flags, [False]]).astype(np.int8)))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


def gap_columns(profile: np.ndarray) -> list[int]:
    """The middle column of each empty column run inside the glyph."""
    return [(a + b) // 2 for a, b in _runs(profile == 0) if a > 0 and b < len(profile)]


def tallest_block(ink: np.ndarray, gaps: list[int]) -> float:
    """The height of the tallest block of ink between gap columns: a number written as one
    glyph has the height of its digits, not of its box, which its baseline's drift makes
    taller."""
    edges = [0, *gaps, ink.shape[1]]
    tallest = 0
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        rows = np.flatnonzero(ink[:, a:b].any(axis=1))
        if rows.size:
            tallest = max(tallest, int(rows[-1] - rows[0] + 1))
    return float(tallest)


def ink_cuts(gaps: list[int], ink: np.ndarray, height: float, stroke: float) -> list[Cut]:
    """Cuts through ink: inside the blocks of ink between the gap columns that are too wide
    for one digit, the seams (see seams.py) that cross little ink, fewer than their neighbours
    (touching digits); narrow blocks get no ink cut, which keeps the model calls few."""
    width = ink.shape[1]
    margin = max(1, int(MIN_PIECE_WIDTH * height))
    spacing = max(2, int(CUT_SPACING * height))
    reach = max(1, int(SEAM_REACH * height))
    before = np.pad(np.cumsum(ink, axis=1), ((0, 0), (1, 0)))  # ink left of each column
    rows = np.arange(ink.shape[0])
    least = stroke * MIN_PIECE_HEIGHT * height / 2  # on each side of a seam: see below
    cuts: list[Cut] = []
    for a, b in zip([0, *gaps], [*gaps, width], strict=True):
        if b - a <= SPLIT_WIDTH * height or b - a <= 2 * margin:
            continue
        starts = np.arange(a + margin, b - margin, 2)  # neighbours' seams mostly meet
        found = find_seams(ink, starts, reach, (a, b))
        crossed = found.crossed
        smooth = np.convolve(np.pad(crossed, 1, mode="edge"), np.ones(3) / 3, mode="valid")
        around = np.pad(smooth, 1, constant_values=np.inf)
        low = (smooth <= CUT_INK * height) & (smooth <= around[:-2]) & (smooth <= around[2:])
        block_ink = (before[:, b] - before[:, a]).sum()
        # of cuts crossing as much ink, the most even first (judged by the straight line at
        # the start: a seam is traced only when it may be kept)
        straight_left = (before[:, starts] - before[:, a : a + 1]).sum(axis=0)
        evenness = np.minimum(straight_left, block_ink - straight_left)
        kept: list[tuple[int, np.ndarray, float]] = []  # start index, path, ink on its left
        for i in sorted(np.flatnonzero(low), key=lambda i: (crossed[i], -evenness[i])):
            if len(kept) == max(2, int((b - a) / (0.4 * height))):  # ~2 per digit it may hold
                break
            if any(abs(starts[i] - starts[k]) < spacing for k, _, _ in kept):
                continue
            path = found.path(int(i))
            left = float((before[rows, path] - before[:, a]).sum())
            # on each side at least half a stroke as tall as a digit piece: a 2's tail may be
            # cut off (and left out as short), a sliver shaved off a stroke's edge may not;
            # the same ink on the left: the same cut
            if min(left, block_ink - left) >= least and all(left != k[2] for k in kept):
                kept.append((int(i), path, left))
        cuts += [Cut(int(round(path.mean())), path, float(crossed[i])) for i, path, _ in kept]
    return sorted(cuts, key=lambda c: c.at)[:MAX_CUTS]


def gap_width(profile: np.ndarray, column: int) -> int:
    """Width of the empty column run around `column`."""
    left = right = column
    while left > 0 and profile[left - 1] == 0:
        left -= 1
    while right < len(profile) and profile[right] == 0:
        right += 1
    return right - left
