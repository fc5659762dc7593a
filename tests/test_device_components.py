"""device.vision regions, components and glyphs: labelling, shape rules and picking the digit."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from PIL import Image, ImageDraw

from device.vision.components import describe, union_box
from device.vision.glyphs import group_glyphs, pick_digit, rejection
from device.vision.regions import label_runs, region_mask

FRAME = (240, 320)


def flood_fill_labels(mask: np.ndarray) -> np.ndarray:
    """Reference 8-connected labelling, one pixel at a time."""
    labels = np.full(mask.shape, -1)
    count = 0
    for start in zip(*np.nonzero(mask), strict=True):
        if labels[start] >= 0:
            continue
        labels[start] = count
        queue = deque([start])
        while queue:
            y, x = queue.popleft()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    inside = 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1]
                    if inside and mask[ny, nx] and labels[ny, nx] < 0:
                        labels[ny, nx] = count
                        queue.append((ny, nx))
        count += 1
    return labels


def run_labels(mask: np.ndarray) -> np.ndarray:
    runs = label_runs(mask)
    labels = np.full(mask.shape, -1)
    for row, start, end, label in zip(runs.row, runs.start, runs.end, runs.label, strict=True):
        labels[row, start:end] = label
    return labels


def test_run_labelling_matches_a_flood_fill_on_random_masks():
    rng = np.random.default_rng(0)
    for density in (0.2, 0.4, 0.55, 0.7):
        mask = rng.random((37, 53)) < density
        ours, reference = run_labels(mask), flood_fill_labels(mask)
        assert (ours >= 0).sum() == mask.sum()
        # the same partition: a one-to-one map between the two labellings
        pairs = set(zip(ours[mask], reference[mask], strict=True))
        assert len(pairs) == len(set(ours[mask])) == len(set(reference[mask]))


def test_diagonal_neighbours_are_connected_and_an_empty_mask_has_no_components():
    mask = np.eye(6, dtype=bool)
    assert len(set(label_runs(mask).label)) == 1
    assert describe(label_runs(np.zeros((5, 5), bool)), np.zeros((5, 5), np.float32)) == []


def components_of(draw_on) -> list:
    canvas = Image.new("L", (FRAME[1], FRAME[0]), 0)
    draw_on(ImageDraw.Draw(canvas))
    mask = np.asarray(canvas) > 127
    return describe(label_runs(mask), mask.astype(np.float32) * 0.8)


def test_describe_measures_box_area_centre_and_shape():
    (bar,) = components_of(lambda d: d.rectangle([100, 50, 109, 149], fill=255))
    assert bar.box == (100, 50, 10, 100) and bar.area == 1000
    assert bar.centre == (104.5, 99.5)
    assert bar.tilt_deg == 0 and 9 < bar.elongation < 11
    assert abs(bar.ink - 800) < 1e-3 and bar.fill == 1.0


def test_shape_rules_reject_lines_dots_specks_and_the_frame_edge():
    def rejected(draw_on) -> str | None:
        (component,) = components_of(draw_on)
        return rejection(component, FRAME)

    assert rejected(lambda d: d.line([(60, 120), (260, 100)], fill=255, width=4)) == "a line"
    assert rejected(lambda d: d.ellipse([150, 110, 175, 135], fill=255)) == "a blob"
    assert rejected(lambda d: d.ellipse([150, 110, 156, 116], fill=255)) == "too small"
    assert rejected(lambda d: d.rectangle([0, 100, 60, 104], fill=255)) == "cut by the frame edge"
    # a 1 is a line too, but standing up
    assert rejected(lambda d: d.line([(160, 60), (150, 170)], fill=255, width=6)) is None
    # or leaning as MNIST's own 1s do, up to 45 degrees and more on a turned camera
    assert rejected(lambda d: d.line([(130, 160), (170, 110)], fill=255, width=7)) is None
    assert rejected(lambda d: d.line([(130, 160), (180, 112)], fill=255, width=8)) is None
    # a line leaning so, but thinner for its length than MNIST's 1s, is a stray stroke
    assert rejected(lambda d: d.line([(130, 170), (180, 108)], fill=255, width=6)) == "a line"
    # and one lying down, if it is as long for its width as a 1 standing up, too
    assert rejected(lambda d: d.line([(100, 130), (170, 100)], fill=255, width=7)) == "a line"
    assert rejected(lambda d: d.ellipse([130, 70, 190, 170], outline=255, width=6)) is None


def test_a_digit_in_two_strokes_is_one_glyph():
    def five(d):
        d.line([(150, 80), (150, 120), (180, 125), (185, 150), (170, 165), (145, 160)], 255, 6)
        d.line([(156, 78), (190, 78)], fill=255, width=6)  # the bar, lifted off the paper

    components = components_of(five)
    assert len(components) == 2
    (glyph,) = group_glyphs(components, FRAME)
    assert sorted(glyph.labels) == [c.labels[0] for c in components]
    assert glyph.box == union_box(components[0].box, components[1].box)
    assert glyph.area == components[0].area + components[1].area
    assert pick_digit(components, FRAME) == glyph


def test_the_digit_is_the_plausible_glyph_not_the_stray_marks_around_it():
    def page(d):
        d.ellipse([140, 70, 190, 170], outline=255, width=6)  # the digit: a 0
        d.line([(20, 220), (300, 215)], fill=255, width=3)  # a long stray line
        d.ellipse([40, 40, 44, 44], fill=255)  # a dot
        d.rectangle([0, 0, 319, 3], fill=255)  # the edge of the desk

    digit = pick_digit(components_of(page), FRAME)
    assert digit is not None and digit.box == (140, 70, 51, 101)


def dashed(d, start: tuple[int, int], angle_deg: float, width: int = 2, end: int = 400) -> None:
    """A faint printed rule as the threshold leaves it: dashes of 8-45 px, 3 px apart, from
    `start` along `angle_deg` (from x, y down) to `end` px, whatever the frame cuts off."""
    ux, uy = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    t = 0
    for dash in (30, 8, 40, 12, 35, 20, 45, 60, 25, 40, 30, 50) * 3:
        a, b = t, min(t + dash, end)
        if a >= end:
            break
        p0 = (start[0] + a * ux, start[1] + a * uy)
        d.line([p0, (start[0] + b * ux, start[1] + b * uy)], fill=255, width=width)
        t = b + 3


def zero(d) -> None:
    d.ellipse([140, 70, 190, 170], outline=255, width=6)


def glyph_boxes(components) -> list:
    return sorted(g.box for g in group_glyphs(components, FRAME))


def test_the_dashes_of_a_broken_margin_are_no_glyphs():
    components = components_of(lambda d: (dashed(d, (40, 0), 90), zero(d)))
    dashes = [c for c in components if c.box[0] < 60]
    # each dash alone passes the shape rules: a thin 1 as tall as a digit
    assert any(c.size >= 20 and rejection(c, FRAME) is None for c in dashes)
    assert glyph_boxes(components) == [(140, 70, 51, 101)]


def test_the_dashes_of_tilted_rules_are_no_glyphs_either():
    for angle, start in ((30, (0, 150)), (-30, (0, 60)), (60, (10, 0)), (0, (0, 40))):
        components = components_of(lambda d, a=angle, p=start: (dashed(d, p, a), zero(d)))
        assert glyph_boxes(components) == [(140, 70, 51, 101)], angle


def test_the_margin_is_found_among_the_ruled_lines_of_a_page():
    def page(d):
        dashed(d, (40, 0), 90)
        for y in range(12, 240, 11):  # 21 ruled lines, broken at the margin
            d.line([(46, y), (200, y)], fill=255, width=1)
        d.ellipse([230, 130, 270, 200], outline=255, width=5)

    assert glyph_boxes(components_of(page)) == [(230, 130, 41, 71)]


def test_a_pen_stroke_a_pixel_wider_than_the_rule_is_not_taken_for_it():
    for x in (40, 100, 101):  # the moments' rounding differs with the position

        def page(d, x=x):
            dashed(d, (x, 0), 90, end=100)
            dashed(d, (x, 170), 90)
            d.line([(x, 110), (x, 160)], fill=255, width=3)  # a 1 in the margin's gap
            d.line([(x, 104), (x, 108)], fill=255, width=2)  # a dash there too

        boxes = glyph_boxes(components_of(page))
        assert len(boxes) == 1 and boxes[0][1:] == (110, 3, 51), (x, boxes)


def test_a_faint_mark_is_no_rule_that_erases_a_digit_on_its_axis():
    canvas, faint = (Image.new("L", (FRAME[1], FRAME[0]), 0) for _ in range(2))
    ImageDraw.Draw(canvas).line([(100, 120), (100, 170)], fill=255, width=2)  # a fine-pen 1
    ImageDraw.Draw(faint).line([(100, 0), (100, 18)], fill=255, width=2)  # a faint scratch
    ink, hair = np.asarray(canvas) > 127, np.asarray(faint) > 127
    contrast = np.where(ink, 0.8, np.where(hair, 0.1, 0.0)).astype(np.float32)
    components = describe(label_runs(ink | hair), contrast)
    assert glyph_boxes(components) == [(100, 120, 2, 51)]


def test_a_stroke_that_may_join_a_digit_is_not_a_line_that_erases_others():
    def five(d):  # the bar is "a line" by its shape, but short enough to be a digit's
        d.line([(150, 80), (150, 120), (180, 125), (185, 150), (170, 165), (145, 160)], 255, 2)
        d.line([(156, 75), (206, 67)], fill=255, width=2)  # lifted off the paper
        d.line([(211, 66), (221, 64)], fill=255, width=2)  # in line with the bar

    components = components_of(five)
    bar = max(components, key=lambda c: c.box[2] / c.box[3])
    assert len(components) == 3 and rejection(bar, FRAME) == "a line"
    (glyph,) = group_glyphs(components, FRAME)
    assert len(glyph.labels) == 3


def test_nothing_plausible_gives_no_digit():
    assert pick_digit(components_of(lambda d: d.ellipse([40, 40, 44, 44], fill=255)), FRAME) is None
    assert pick_digit([], FRAME) is None


def test_region_mask_paints_only_the_chosen_components():
    mask = np.zeros((10, 12), bool)
    mask[1:4, 1:4] = True
    mask[6:9, 7:11] = True
    runs = label_runs(mask)
    first = int(runs.label[0])
    assert region_mask(runs, (first,), (0, 0, 12, 10)).sum() == 9
    assert np.array_equal(region_mask(runs, tuple(set(runs.label)), (0, 0, 12, 10)), mask)
