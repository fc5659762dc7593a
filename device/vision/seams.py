"""Seams: top-to-bottom paths crossing the least ink, to cut digits apart where they touch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from device.vision.ink import block_reduce

STRAIGHTNESS = (
    0.4  # the most a path's sideways steps may cost in all: of equal seams, the straightest
)
MAX_ROWS = 64  # a taller glyph is searched on coarser cells: the work grows as rows x width x reach


@dataclass(frozen=True)
class Seams:
    """The cheapest path of every start column, found together (on cells of `scale` x `scale`
    pixels for a tall glyph); `path` traces one back, in pixels."""

    columns: np.ndarray  # (starts, offsets): the cell column each offset from each start is
    costs: np.ndarray  # (rows, starts, offsets): the cheapest path from the top to that point
    crossed: np.ndarray  # (starts,): ink pixels the cheapest path of each start crosses (about)
    sideways: float  # the cost of a step to the next column
    scale: int  # pixels a cell is wide and tall
    shape: tuple[int, int]  # the ink's, in pixels

    def path(self, start: int) -> np.ndarray:
        """The column of start `start`'s cheapest path on every row, traced back from the
        bottom, straight on where two ways cost the same. Plain Python: a few paths are
        traced, and per row that is cheaper than numpy calls."""
        costs = self.costs[:, start].tolist()
        k = min(range(len(costs[-1])), key=costs[-1].__getitem__)
        offsets = [k]
        for above in reversed(costs[:-1]):
            best = above[k]
            for side in (k - 1, k + 1):
                if 0 <= side < len(above) and above[side] + self.sideways < best:
                    best, k = above[side] + self.sideways, side
            offsets.append(k)
        cells = self.columns[start, offsets[::-1]]
        centres = np.repeat(cells * self.scale + self.scale // 2, self.scale)[: self.shape[0]]
        return np.minimum(centres, self.shape[1] - 1)


def sheared(mask: np.ndarray, slanted: np.ndarray) -> np.ndarray:
    """The ink (0/1) laid out by row and slanted column: the glyph with its slant taken out."""
    ink = np.zeros((mask.shape[0], int(slanted[mask].max(initial=0)) + 1), np.float32)
    rows, cols = np.nonzero(mask)
    ink[rows, slanted[rows, cols]] = 1.0
    return ink


def find_seams(ink: np.ndarray, starts: np.ndarray, reach: int, within: tuple[int, int]) -> Seams:
    """For each start column, the path (a column per row, moving at most one column a row, at
    most `reach` from the start and inside the columns `within`, [first, end)) that crosses
    the fewest ink pixels.

    A dynamic programme over rows, every start at once: costs[row, i, k] is the cheapest path
    of start i down to offset k on that row. Written out because no library routine does seams
    held to bands; each row is a few whole-array operations."""
    inside = not starts.size or (within[0] <= starts.min() and starts.max() < within[1])
    if ink.ndim != 2 or not ink.size or reach < 0 or not inside:
        raise ValueError(f"seams need 2-D ink and starts in {within}, reach >= 0")
    shape = ink.shape
    scale = -(-shape[0] // MAX_ROWS)
    if scale > 1:  # a cell is ink when any of its pixels is
        padded = np.zeros((-(-shape[0] // scale) * scale, -(-shape[1] // scale) * scale), ink.dtype)
        padded[: shape[0], : shape[1]] = ink
        ink = block_reduce(padded, scale, np.maximum)
        starts, reach = starts // scale, max(1, reach // scale)
        within = (within[0] // scale, -(-within[1] // scale))
    rows = ink.shape[0]
    offsets = np.arange(-reach, reach + 1)
    columns = starts[:, None] + offsets[None, :]
    inside = (columns >= within[0]) & (columns < within[1])
    clipped = np.clip(columns, within[0], within[1] - 1)
    # a sideways step, and starting a column away from the start, cost this; all of them
    # together less than STRAIGHTNESS
    sideways = STRAIGHTNESS / (rows + reach)
    steps = ink[:, clipped] + np.where(inside, 0.0, np.inf)
    # padded with an infinite offset on each side, so that a row is four whole-array steps
    padded = np.full((rows, len(starts), len(offsets) + 2), np.inf)
    costs = padded[:, :, 1:-1]
    costs[0] = steps[0] + sideways * np.abs(offsets)
    aside = np.empty(padded.shape[1:])
    for row in range(1, rows):
        np.add(padded[row - 1], sideways, out=aside)
        np.minimum(aside[:, :-2], aside[:, 2:], out=costs[row])  # from offset k-1 or k+1
        np.minimum(costs[row], costs[row - 1], out=costs[row])  # or straight down
        costs[row] += steps[row]
    crossed = np.floor(costs[-1].min(axis=1)) * scale  # whole cells; the steps add under 1
    return Seams(columns, costs, crossed, sideways, scale, shape)
