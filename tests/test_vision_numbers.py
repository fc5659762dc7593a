"""Reading numbers, step by step: glyphs (crowded cap, small digits), text lines, a full sheet."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from device.vision.components import describe
from device.vision.glyphs import MAX_GLYPHS, find_glyphs
from device.vision.lines import text_lines
from device.vision.read import read_digit
from device.vision.regions import label_runs

FRAME = (240, 320)


def components_of(draw_on, frame=FRAME) -> list:
    canvas = Image.new("L", (frame[1], frame[0]), 0)
    draw_on(ImageDraw.Draw(canvas))
    mask = np.asarray(canvas) > 127
    return describe(label_runs(mask), mask.astype(np.float32) * 0.8)


def ring(d, x, y, w=18, h=36):
    d.ellipse([x, y, x + w, y + h], outline=255, width=4)


def test_two_slanted_lines_are_found_and_read_left_to_right_top_to_bottom():
    def page(d):
        for i in range(5):  # a line drifting down, then one drifting up, with uneven heights
            ring(d, 30 + 40 * i, 30 + 4 * i, h=36 + (i % 2) * 6)
            ring(d, 40 + 40 * i, 150 - 4 * i, h=36 - (i % 2) * 5)

    glyphs = find_glyphs(components_of(page), FRAME)
    assert len(glyphs.glyphs) == 10 and not glyphs.crowded
    lines = text_lines(glyphs.glyphs)
    assert [len(line) for line in lines] == [5, 5]
    assert lines[0][0].box[1] < 60 and lines[1][0].box[1] > 120
    for line in lines:
        xs = [g.box[0] for g in line]
        assert xs == sorted(xs)


def test_a_small_mark_beside_a_number_is_not_part_of_it():
    def page(d):
        ring(d, 100, 80)
        ring(d, 140, 80)
        d.ellipse([175, 110, 181, 116], outline=255, width=3)  # a full stop, too small

    lines = text_lines(find_glyphs(components_of(page), FRAME).glyphs)
    assert [len(line) for line in lines] == [2]


def test_digits_under_the_size_floor_are_read_beside_digits_of_their_height():
    """The floor (5% of the frame's short side: 12 px here) drops specks; a number written
    small can have some digits just under it, which are kept when they stand in a line with
    a digit of about their height, directly or through others as small. A glyph as small
    alone, far smaller than its neighbours, or at the end of a chain of ever smaller marks,
    is still dropped."""

    def small_ring(d, x, y, h):
        d.ellipse([x, y, x + h // 2 + 2, y + h], outline=255, width=2)

    def page(d):
        small_ring(d, 100, 100, 14)  # over the floor (a box 15 px tall)
        small_ring(d, 130, 101, 10)  # under it, level with the first: kept
        small_ring(d, 160, 100, 10)  # out of the first's reach, level with the second: kept
        small_ring(d, 186, 102, 7)  # level with the third, but far smaller than the first
        d.line([(64, 104), (65, 111)], fill=255, width=2)  # far smaller than its neighbour
        small_ring(d, 250, 40, 10)  # as small, alone: dropped

    glyphs = find_glyphs(components_of(page), FRAME).glyphs
    assert sorted(g.box[0] for g in glyphs) == [100, 130, 160]


def test_a_page_of_200_glyphs_is_capped_and_said_to_be_crowded():
    frame = (480, 640)

    def page(d):
        for row in range(10):
            for col in range(20):
                ring(d, 12 + 31 * col, 12 + 46 * row, w=14, h=30)

    found = find_glyphs(components_of(page, frame), frame)
    assert found.crowded and len(found.glyphs) <= MAX_GLYPHS


class Counting:
    """A model that answers "3" with confidence 0.9, counting its calls."""

    labels = [str(d) for d in range(10)]

    def __init__(self):
        self.calls = 0

    def scores(self, digit: np.ndarray) -> np.ndarray:
        self.calls += 1
        out = np.full(10, 0.1 / 9, np.float32)
        out[3] = 0.9
        return out


def test_a_full_sheet_reads_a_bounded_number_of_pieces_and_one_line():
    canvas = Image.new("L", (640, 480), 235)
    d = ImageDraw.Draw(canvas)
    for row in range(10):
        for col in range(20):
            d.ellipse(
                [12 + 31 * col, 12 + 46 * row, 26 + 31 * col, 42 + 46 * row], outline=30, width=3
            )
    model = Counting()
    reading = read_digit(np.asarray(canvas), model, 0.5)
    assert reading.crowded
    assert model.calls <= 4 * MAX_GLYPHS
    assert reading.text is not None and " " not in reading.text  # one line read
    assert len(reading.digits) + reading.rejected <= MAX_GLYPHS
