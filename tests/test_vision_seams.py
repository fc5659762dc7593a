"""Cutting touching and interlocking digits along seams, and leaving a letter whole."""

from __future__ import annotations

import numpy as np
import pytest

from device.vision.seams import find_seams
from device.vision.segment import Piece, Verdict, segment

HEIGHT = 40


def interlocked() -> tuple[np.ndarray, np.ndarray]:
    """Two glyphs that no straight column separates: the left one bulges right in the middle
    rows, into a notch of the right one; between them runs a bent empty path."""
    left = np.zeros((HEIGHT, 51), bool)
    right = np.zeros_like(left)
    for row in range(HEIGHT):
        left[row, : 26 if 12 <= row < 28 else 21] = True
        right[row, 28 if 8 <= row < 32 else 23 :] = True
    return left, right


def verdict(digit: int | None, confidence: float, digit_probability: float) -> Verdict:
    return Verdict(digit, confidence, digit_probability, np.zeros((28, 28), np.uint8))


def test_a_seam_bends_around_ink_that_every_straight_cut_crosses():
    left, right = interlocked()
    ink = (left | right).astype(np.float32)
    assert ink.sum(axis=0).min() > 0  # no empty column
    found = find_seams(ink, np.arange(2, 49), reach=6, within=(0, 51))
    best = int(np.argmin(found.crossed))
    assert found.crossed[best] == 0
    path = found.path(best)
    columns = np.arange(51)[None, :]
    assert not (left & (columns >= path[:, None])).any()  # all of `left` lies left of it
    assert not (right & (columns < path[:, None])).any()
    assert np.abs(np.diff(path)).max() <= 1  # one column a row at most


def test_interlocked_digits_are_read_as_two_pieces_with_their_own_ink():
    left, right = interlocked()
    parts = segment(Piece((100, 50, 51, HEIGHT), left | right), lambda _: verdict(0, 0.97, 0.97))
    assert [p.box for p, _ in parts] == [(100, 50, 26, HEIGHT), (123, 50, 28, HEIGHT)]
    assert parts[0][0].mask.sum() == left.sum() and parts[1][0].mask.sum() == right.sum()


def u_shape() -> Piece:
    """A U as wide as two digits: two stems joined by a bar along the bottom."""
    mask = np.zeros((HEIGHT, 40), bool)
    mask[:, :5] = mask[:, 35:] = mask[-5:, :] = True
    return Piece((0, 0, 40, HEIGHT), mask)


@pytest.mark.parametrize(
    ("pieces_probability", "expected"),
    [(0.6, [None]), (0.97, [1, 1])],
    ids=["unsure pieces: left whole as no digit", "sure pieces: cut into digits"],
)
def test_a_glyph_read_as_none_is_cut_only_into_surely_read_digits(pieces_probability, expected):
    """The same glyph, which the model calls `none` whole: a letter when its pieces read only
    as unsure digits, two touching digits when they read surely."""
    whole = u_shape()

    def judge(piece: Piece) -> Verdict:
        if piece.box == whole.box:
            return verdict(None, 0.9, 0.05)
        return verdict(1, pieces_probability, pieces_probability)

    parts = segment(whole, judge)
    assert [v.digit if v else "unread" for _, v in parts] == expected


def test_a_piece_above_the_middle_of_its_glyph_is_no_digit():
    """A 7 whose long bar ends in a hook: the hook, cut off along a seam, is tall enough for a
    piece but lies all above the glyph's middle row, so it is never read as a digit of its own
    (a 10-class model reads any stroke as some digit)."""
    mask = np.zeros((HEIGHT, 48), bool)
    mask[:6, :] = True  # the bar
    mask[6:19, 43:] = True  # its hook
    for row in range(6, HEIGHT):  # the stem, slanting down to the left
        start = 30 - (row - 6) // 2
        mask[row, start : start + 5] = True
    parts = segment(Piece((0, 0, 48, HEIGHT), mask), lambda piece: verdict(7, 0.99, 0.99))
    assert [v.digit for _, v in parts if v is not None] == [7]


@pytest.mark.parametrize(
    ("ink", "starts", "within"),
    [
        (np.zeros((0, 8)), np.array([2]), (0, 8)),  # no rows
        (np.zeros((8, 8)), np.array([8]), (0, 8)),  # a start outside its block
        (np.zeros((8, 8)), np.array([1]), (2, 8)),
    ],
)
def test_seams_refuse_what_no_caller_may_pass(ink, starts, within):
    with pytest.raises(ValueError, match="seams need"):
        find_seams(ink, starts, 2, within)
