"""Square max and min filters (grey dilation and erosion) in numpy, shared by pipeline steps."""

from __future__ import annotations

import numpy as np


def _window(image: np.ndarray, reduce: np.ufunc, size: int, mode: str) -> np.ndarray:
    """reduce over `size` consecutive rows, centred, in O(log size) passes: windows of 1, 2,
    4 ... rows are combined from shifted copies of the previous ones."""
    before, after = (size - 1) // 2, size - 1 - (size - 1) // 2
    if mode == "edge":
        head, tail = np.repeat(image[:1], before, axis=0), np.repeat(image[-1:], after, axis=0)
    else:
        head = np.zeros((before, image.shape[1]), image.dtype)
        tail = np.zeros((after, image.shape[1]), image.dtype)
    out = np.concatenate([head, image, tail])  # np.pad does the same, ten times slower
    done = 1
    while done < size:
        step = min(done, size - done)  # grow the window by `step`, at most to `size`
        out = reduce(out[: len(out) - step], out[step:])
        done += step
    return out


def square_filter(image: np.ndarray, reduce: np.ufunc, radius: int, edge: str) -> np.ndarray:
    """np.maximum or np.minimum over a (2 * radius + 1) square (grey dilation or erosion).

    edge="edge" repeats the border pixels, "zero" treats the outside as 0. Hand-written because
    Pillow's rank filters cost O(size^2) per pixel and take only 8-bit or 32-bit images.
    """
    if radius <= 0:
        return image.copy()
    mode = "edge" if edge == "edge" else "constant"
    size = 2 * radius + 1
    down = _window(image, reduce, size, mode)
    return np.ascontiguousarray(_window(down.T, reduce, size, mode).T)
