"""Cut paths between touching digits: from each start column, the top-to-bottom path through a
narrow band that crosses the least ink (a seam, as in seam carving), so that digits whose boxes
overlap, or that touch at one point, are cut where they touch and not through a stroke."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STRAIGHTNESS = 0.4  # the most all of a path's sideways steps may cost: of equal seams, the
# straightest


@dataclass(frozen=True)
class Seams:
    """The cheapest path of every start column, found together; `path` traces one back."""

    columns: np.ndarray  # (starts, offsets): the column each offset from each start stands for
    costs: np.ndarray  # (rows, starts, offsets): the cheapest path from the top to that point
    crossed: np.ndarray  # (starts,): ink pixels the cheapest path of each start crosses
    sideways: float  # the cost of a step to the next column

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
        return self.columns[start, offsets[::-1]]


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
    rows = ink.shape[0]
    offsets = np.arange(-reach, reach + 1)
    columns = starts[:, None] + offsets[None, :]
    inside = (columns >= within[0]) & (columns < within[1])
    clipped = np.clip(columns, within[0], within[1] - 1)
    # a sideways step, and starting a column away from the start, cost this; all of them
    # together less than STRAIGHTNESS
    sideways = STRAIGHTNESS / (rows + reach)
    steps = ink[:, clipped] + np.where(inside, 0.0, np.inf)
    costs = np.empty(steps.shape)
    costs[0] = steps[0] + sideways * np.abs(offsets)
    for row in range(1, rows):
        cost = costs[row - 1].copy()
        aside = costs[row - 1] + sideways
        np.minimum(cost[:, 1:], aside[:, :-1], out=cost[:, 1:])  # from offset k-1
        np.minimum(cost[:, :-1], aside[:, 1:], out=cost[:, :-1])  # from offset k+1
        np.add(cost, steps[row], out=costs[row])
    crossed = np.floor(costs[-1].min(axis=1))  # ink is whole pixels; the steps add under 1
    return Seams(columns, costs, crossed, sideways)
