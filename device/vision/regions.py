"""Connected components of a boolean mask, labelled on horizontal runs of ink (pure numpy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Runs:
    """Horizontal runs of ink: row, [start, end) columns and the component each belongs to."""

    row: np.ndarray
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray


def find_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, start and end (exclusive) of every horizontal run of True, in raster order."""
    rows, cols = mask.shape
    flat = np.zeros(rows * (cols + 1) + 1, bool)  # a False before the frame and after each row
    flat[1:].reshape(rows, cols + 1)[:, :cols] = mask
    edges = np.flatnonzero(flat[1:] != flat[:-1])  # alternately: run starts, run ends
    starts, ends = edges[0::2], edges[1::2]
    return starts // (cols + 1), starts % (cols + 1), ends % (cols + 1)


def _touching_pairs(row, start, end, width) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs of runs in consecutive rows that touch, diagonals included (8-connectivity)."""
    stride = width + 2
    start_key, end_key = row * stride + start, row * stride + end
    below = (row + 1) * stride
    first = np.searchsorted(end_key, below + start, side="left")
    last = np.searchsorted(start_key, below + end, side="right")
    counts = np.maximum(last - first, 0)
    upper = np.repeat(np.arange(len(row)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return upper, np.repeat(first, counts) + offsets


def _union(count: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Component root of each of `count` nodes joined by edges a-b: vectorised union-find."""
    parent = np.arange(count)
    while True:
        root_a, root_b = parent[a], parent[b]
        if np.array_equal(root_a, root_b):
            return parent
        low = np.minimum(root_a, root_b)
        np.minimum.at(parent, root_a, low)
        np.minimum.at(parent, root_b, low)
        while True:  # pointer jumping until every node points at its root
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped


def label_runs(mask: np.ndarray) -> Runs:
    """Connected components of a boolean mask, as labelled runs.

    Hand-written because numpy and Pillow have no labelling and scipy is a heavy install on a Pi;
    working on runs (not pixels) keeps it vectorised and fast on a working-size frame.
    """
    row, start, end = find_runs(mask)
    upper, lower = _touching_pairs(row, start, end, mask.shape[1])
    roots = _union(len(row), upper, lower)
    _, label = np.unique(roots, return_inverse=True)
    return Runs(row, start, end, label.reshape(-1))


def region_mask(runs: Runs, labels: tuple[int, ...], box: tuple[int, int, int, int]) -> np.ndarray:
    """Boolean mask, the size of `box`, of the pixels belonging to the given components."""
    x, y, w, h = box
    chosen = runs.label == labels[0] if len(labels) == 1 else np.isin(runs.label, labels)
    row, start, end = runs.row[chosen] - y, runs.start[chosen] - x, runs.end[chosen] - x
    lengths = end - start
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    mask = np.zeros((h, w), bool)
    mask[np.repeat(row, lengths), np.repeat(start, lengths) + offsets] = True
    return mask
