"""device.vision.read: grey frame to reading, on synthetic photos and the shipped model."""

from __future__ import annotations

import io

import numpy as np
import pytest

from device.contract import DEFAULT_MIN_CONFIDENCE
from device.files.decode import read_picture
from device.model.interpreter import load_model
from device.synthetic.photos import (
    NO_DIGIT_KINDS,
    font_digit,
    jpeg_bytes,
    photo_and_box,
    photo_without_digit,
)
from device.vision.read import read_digit
from tests.conftest import SHIPPED_MODEL


@pytest.fixture(scope="module")
def model():
    return load_model(SHIPPED_MODEL)


def as_camera_jpeg(photo: np.ndarray, quality: int = 80) -> np.ndarray:
    """A photo through JPEG and back, as grey: what the pipeline gets from a file."""
    return read_picture(io.BytesIO(jpeg_bytes(photo, quality))).grey


def fits(box, square) -> bool:
    """The digit's box lies in the square its 20x20 MNIST area was drawn in (give or take the
    tilt) and spans most of it: the box is the digit, not part of it or the page around."""
    x, y, w, h = box
    sx, sy, side, _ = square
    slack = 0.2 * side
    inside = sx - slack <= x and sy - slack <= y
    inside = inside and x + w <= sx + side + slack and y + h <= sy + side + slack
    return inside and max(w, h) >= 0.8 * side


def test_reads_handwritten_style_digits_in_photos_and_boxes_them(model):
    rng = np.random.default_rng(1)
    right = 0
    for _ in range(3):
        for digit in range(10):
            photo, truth = photo_and_box(font_digit(digit, rng), rng)
            grey = np.asarray(photo.mean(axis=2), np.uint8)  # a camera frame, full size
            reading = read_digit(grey, model, DEFAULT_MIN_CONFIDENCE)
            right += reading.digit == digit
            assert reading.box is not None and fits(reading.box, truth)
            assert reading.model_input.shape == (28, 28) and reading.reason == "read"
    assert right >= 29  # of 30


def test_white_ink_on_a_dark_board_reads_too(model):
    rng = np.random.default_rng(2)
    for digit in (2, 5, 7):
        photo = photo_and_box(font_digit(digit, rng), rng)[0]
        grey = 255 - as_camera_jpeg(photo)  # chalk on a blackboard
        assert read_digit(grey, model, DEFAULT_MIN_CONFIDENCE).digit == digit


@pytest.mark.parametrize("kind", NO_DIGIT_KINDS)
def test_pages_without_a_digit_give_no_digit(model, kind):
    rng = np.random.default_rng(NO_DIGIT_KINDS.index(kind))
    readings = [
        read_digit(as_camera_jpeg(photo_without_digit(rng, kind)), model, DEFAULT_MIN_CONFIDENCE)
        for _ in range(4)
    ]
    if kind == "stray-line":  # a near-vertical stroke is a fair 1: most, not all
        assert sum(r.digit is None for r in readings) >= 3
    else:
        assert all(r.digit is None and r.reason != "read" for r in readings)


def test_an_mnist_style_28x28_is_fed_to_the_model_unchanged(model):
    rng = np.random.default_rng(3)
    digit = font_digit(4, rng)
    reading = read_digit(digit, model, DEFAULT_MIN_CONFIDENCE)
    assert reading.digit == 4 and np.array_equal(reading.model_input, digit)
    inverted = read_digit(255 - digit, model, DEFAULT_MIN_CONFIDENCE)  # dark on white
    assert inverted.digit == 4 and np.abs(inverted.model_input.astype(int) - digit).max() <= 1
    blank = read_digit(np.zeros((28, 28), np.uint8), model, DEFAULT_MIN_CONFIDENCE)
    assert blank.digit is None and blank.reason == "no plausible digit"


class Unsure:
    """A model that cannot make up its mind."""

    def scores(self, digit: np.ndarray) -> np.ndarray:
        return np.full(10, 0.1, np.float32)


def test_a_low_confidence_answer_is_no_digit_but_keeps_its_confidence_and_box():
    rng = np.random.default_rng(4)
    grey = as_camera_jpeg(photo_and_box(font_digit(8, rng), rng)[0])
    reading = read_digit(grey, Unsure(), min_confidence=0.5)
    assert reading.digit is None and reading.reason == "low confidence"
    assert reading.confidence == pytest.approx(0.1) and reading.box is not None
    assert read_digit(grey, Unsure(), min_confidence=0.0).digit == 0


def test_frames_must_be_2d_uint8(model):
    with pytest.raises(ValueError, match="2-D uint8"):
        read_digit(np.zeros((48, 64, 3), np.uint8), model, 0.5)
    with pytest.raises(ValueError, match="2-D uint8"):
        read_digit(np.zeros((48, 64), np.float32), model, 0.5)
