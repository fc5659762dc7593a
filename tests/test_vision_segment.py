"""Segmentation: a glyph cut into digits where the classifier is surest of every piece."""

from __future__ import annotations

import math

import numpy as np
import pytest

import device.vision.segment as segment_module
from device.vision.segment import Piece, Verdict, segment


def fixed_judge(digit: int | None, probability: float):
    calls = []

    def judge(piece: Piece) -> Verdict:
        calls.append(piece.box)
        return Verdict(digit, probability, probability if digit is not None else 0.01,
                       np.zeros((28, 28), np.uint8))  # fmt: skip

    return judge, calls


def bars(*spans: tuple[int, int], height: int = 40) -> Piece:
    """A piece of vertical bars, each [start, end) columns, full height."""
    width = max(end for _, end in spans)
    mask = np.zeros((height, width), bool)
    for start, end in spans:
        mask[:, start:end] = True
    return Piece((10, 20, width, height), mask)


def test_a_glyph_with_an_empty_gap_is_always_split_there():
    judge, _ = fixed_judge(1, 0.99)
    parts = segment(bars((0, 6), (14, 20)), judge)  # "11" grouped into one glyph
    assert [p.box for p, _ in parts] == [(10, 20, 6, 40), (24, 20, 6, 40)]


def test_a_narrow_glyph_is_read_whole():
    judge, calls = fixed_judge(0, 0.99)
    piece = bars((0, 5), (20, 25))
    piece.mask[:4, :] = piece.mask[-4:, :] = True  # a closed box: one 0, no gap
    ((part, verdict),) = segment(piece, judge)
    assert part is piece and verdict.digit == 0 and len(calls) == 1


def test_touching_digits_are_cut_where_little_ink_is_crossed():
    judge, _ = fixed_judge(8, 0.99)
    piece = bars((0, 5), (22, 27), (30, 35), (52, 57))  # two boxes joined by a thin bar
    piece.mask[:4, :27] = piece.mask[-4:, :27] = True
    piece.mask[:4, 30:] = piece.mask[-4:, 30:] = True
    piece.mask[18:21, 27:30] = True
    parts = segment(piece, judge)
    assert len(parts) == 2
    assert parts[0][0].box[2] <= 30 and parts[1][0].box[0] >= 10 + 26


def test_a_flat_tail_is_left_out_unread():
    judge, _ = fixed_judge(2, 0.99)
    piece = bars((0, 30))
    wide = np.zeros((40, 70), bool)
    wide[:, :30] = True
    wide[34:, 38:] = True  # a long flat stroke, apart from the body
    parts = segment(Piece((0, 0, 70, 40), wide), judge)
    assert [v is None for _, v in parts] == [False, True]
    assert parts[0][0].box == (0, 0, 30, 40) and piece.box[2] == 30


def test_a_glyph_wider_than_any_reading_is_never_one_digit():
    """A solid band far wider than any cut into digits (a row of scribble, a ruled-off
    block) has no reading: it is left unread, not judged whole as one sure digit."""
    judge, calls = fixed_judge(2, 0.99)
    band = Piece((0, 0, 2000, 40), np.ones((40, 2000), bool))
    assert segment(band, judge) == [(band, None)] and calls == []


def outline(mask: np.ndarray, x: int, y: int, w: int, h: int, stroke: int = 4) -> None:
    """Draws a digit-like closed box (a 0) into mask."""
    mask[y : y + h, x : x + w] = True
    mask[y + stroke : y + h - stroke, x + stroke : x + w - stroke] = False


def touching_pair(mask: np.ndarray, x: int, y: int, width: int, h: int = 40) -> None:
    """Two boxes side by side, joined by a short bar at mid-height: digits that touch."""
    half = (width - 3) // 2
    outline(mask, x, y, half, h)
    outline(mask, x + width - half, y, half, h)
    mask[y + h // 2 - 1 : y + h // 2 + 2, x + half : x + width - half] = True


def judge_by_width(widest_digit: int):
    """A model that reads a piece wider than `widest_digit` as an 8 at 0.96 (two touching
    digits look like one to a model that knows no better), a narrower one surely."""

    def judge(piece: Piece) -> Verdict:
        wide = piece.box[2] > widest_digit
        p = 0.96 if wide else 0.99
        return Verdict(8 if wide else 5, p, p, np.zeros((28, 28), np.uint8))

    return judge


def test_a_number_written_as_one_glyph_is_measured_by_its_digits_height():
    """A drifting baseline makes the glyph's box far taller than its digits (70 px against
    40): a touching pair 1.2 digits wide must not pass as one digit 0.7 box-heights wide."""
    mask = np.zeros((70, 150), bool)
    outline(mask, 0, 0, 24, 40)
    outline(mask, 34, 12, 24, 40)
    touching_pair(mask, 68, 30, 48)
    parts = segment(Piece((0, 0, 150, 70), mask), judge_by_width(40), height=70)
    assert [v.digit for _, v in parts] == [5, 5, 5, 5]


def test_only_a_lone_glyph_read_whole_may_be_wider_than_a_digit():
    """A glyph alone on its line may be one wide digit when read whole; a number written as
    one glyph is alone on its line too, but its pieces get no such allowance."""
    mask = np.zeros((40, 84), bool)
    outline(mask, 0, 0, 24, 40)
    touching_pair(mask, 36, 0, 46)  # 1.15 heights: a lone digit may be that wide
    parts = segment(Piece((0, 0, 84, 40), mask), judge_by_width(40), height=40, alone=True)
    assert [v.digit for _, v in parts] == [5, 5, 5]
    lone = np.zeros((40, 46), bool)
    touching_pair(lone, 0, 0, 46)
    parts = segment(Piece((0, 0, 46, 40), lone), judge_by_width(40), height=40, alone=True)
    assert [v.digit for _, v in parts] == [8]


def never_sure(monkeypatch):
    """segment without its shortcut: the glyph read whole always goes through the search."""
    whole_reading = segment_module._whole_reading

    def unsure(*args):
        found = whole_reading(*args)
        return None if found is None else (found[0], False)

    monkeypatch.setattr(segment_module, "_whole_reading", unsure)


def segment_cases() -> tuple[list[Piece], list]:
    """Glyphs (touching pairs 34-80 px wide, 40 tall; bars with gaps inside) and (glyph,
    judge, height, alone) cases: judges sure and unsure, of digits and of `none`."""
    glyphs = []
    for width in (34, 40, 46, 52, 60, 80):
        mask = np.zeros((40, width), bool)
        touching_pair(mask, 0, 0, width)
        glyphs.append(Piece((5, 7, width, 40), mask))
    glyphs.append(bars((0, 6), (9, 40)))  # a narrow gap inside
    glyphs.append(bars((0, 6), (14, 20)))
    judges = [fixed_judge(3, p)[0] for p in (0.999, 0.9, 0.8, 0.5)]
    judges += [fixed_judge(None, 0.9)[0], judge_by_width(30), judge_by_width(44)]
    cases = [(g, j, h, alone) for g in glyphs for j in judges for h in (30, 40, 55)
             for alone in (False, True)]  # fmt: skip
    return glyphs, cases


def test_a_glyph_sure_whole_is_read_as_the_full_search_reads_it(monkeypatch):
    """Reading a glyph whole without searching for cuts when no cut can cost less changes no
    reading: the same pieces and verdicts as the full search, for sure and unsure models."""
    glyphs, cases = segment_cases()
    fast = [segment(g, j, height=h, alone=alone) for g, j, h, alone in cases]
    sure, sure_calls = fixed_judge(0, 0.99)
    segment(glyphs[0], sure)  # 0.85 heights: wider than one digit may be, read whole
    never_sure(monkeypatch)
    assert [segment(g, j, height=h, alone=alone) for g, j, h, alone in cases] == fast
    searched, searched_calls = fixed_judge(0, 0.99)
    segment(glyphs[0], searched)
    assert len(sure_calls) == 1 and len(searched_calls) > 1  # the cuts were tried, and lost


def test_a_piece_that_cannot_beat_the_reading_found_is_not_shown_to_the_model(monkeypatch):
    """A piece whose least cost (one more piece, its width) already reaches the cheapest
    reading of its columns found so far is skipped: the same pieces and verdicts as when
    every piece is judged, with fewer model calls."""
    _, cases = segment_cases()
    calls = []

    def counted(judge):
        def judge_counted(piece: Piece) -> Verdict:
            calls.append(piece.box)
            return judge(piece)

        return judge_counted

    pruned = [segment(g, counted(j), height=h, alone=alone) for g, j, h, alone in cases]
    pruned_calls = len(calls)
    calls.clear()
    monkeypatch.setattr(segment_module, "_least_cost", lambda *args: -math.inf)
    assert [segment(g, counted(j), height=h, alone=alone) for g, j, h, alone in cases] == pruned
    assert pruned_calls < len(calls)


def test_a_tall_slanted_piece_left_out_unread_is_not_skipped_for_its_width():
    """A piece too short to read costs SHORT_COST however wide its box: the bound must not
    price it by its box (a slanted stroke's box is far wider than its ink) and skip it."""
    rows, middle = 100, 49.5
    mask = np.zeros((rows, 60), bool)
    for first, last, top, bottom in ((0, 2, 0, 49), (4, 6, 0, 49), (9, 11, 0, 100)):
        for y in range(top, bottom):  # strokes slanted 0.4 columns a row
            x = int(np.floor(first + 0.4 * (y - middle) + 0.5)) + 25
            mask[y, x : x + last - first] = True
    cols = np.flatnonzero(mask.any(axis=0))
    glyph = Piece((0, 0, int(cols[-1] - cols[0] + 1), rows), mask[:, cols[0] : cols[-1] + 1])
    judge = fixed_judge(1, 0.99)[0]
    for height in (8, 10):
        pruned = segment(glyph, judge, height=height)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(segment_module, "_least_cost", lambda *args: -math.inf)
            assert segment(glyph, judge, height=height) == pruned
