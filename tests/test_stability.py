"""The stable-answer rule: reported after N equal frames in a row, and again on each change."""

from __future__ import annotations

import pytest

from device.live.stability import Stabiliser, stable_changes


def test_one_frame_reports_every_change_at_once():
    assert stable_changes([3, 3, 5, None, None, 5], 1) == [(0, 3), (2, 5), (3, None), (5, 5)]


def test_an_answer_is_reported_on_its_nth_frame_in_a_row():
    assert stable_changes([4, 4, 4, 4, 4], 3) == [(2, 4)]


def test_a_steady_answer_is_not_repeated():
    assert stable_changes([4] * 10, 2) == [(1, 4)]


def test_flicker_is_never_reported():
    assert stable_changes([1, 2, 1, 2, 1, 2, 1, 2], 2) == []


def test_a_short_interruption_does_not_report_the_same_answer_again():
    assert stable_changes([3, 3, 3, 5, 5, 3, 3, 3], 3) == [(2, 3)]


def test_no_digit_is_an_answer_too_and_needs_the_same_stability():
    answers = [None, None, 7, 7, 7, None, 8, None, None, None]
    assert stable_changes(answers, 3) == [(4, 7), (9, None)]


def test_blank_paper_at_the_start_is_reported():
    assert stable_changes([None] * 3 + [2] * 3, 3) == [(2, None), (5, 2)]


def test_each_new_stable_answer_is_reported_in_turn():
    answers = [3] * 3 + [None] * 3 + [7] * 3 + [3] * 3
    assert stable_changes(answers, 3) == [(2, 3), (5, None), (8, 7), (11, 3)]


def test_update_says_true_only_on_the_frame_that_makes_the_answer_stable():
    stabiliser = Stabiliser(2)
    assert [stabiliser.update(a) for a in (6, 6, 6, 0, 0)] == [False, True, False, False, True]


@pytest.mark.parametrize("frames", [0, -1])
def test_fewer_than_one_frame_is_refused(frames):
    with pytest.raises(ValueError, match="at least 1"):
        Stabiliser(frames)
