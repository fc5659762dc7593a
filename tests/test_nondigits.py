"""Synthetic non-digits and the letters split: sane MNIST-like images, seeded, disjoint."""

from __future__ import annotations

import numpy as np
import pytest

from device.vision.mnist28 import centre_of_mass
from tests.conftest import font_digits
from train.letters import Letters, per_letter_rejection, split_letters
from train.nondigits import KINDS, make_nondigits, make_one, normalise


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return font_digits(40, seed=3)[0]


def ink_box(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(image > 0)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_looks_like_a_normalised_mnist_input(kind, digits):
    rng = np.random.default_rng(7)
    for _ in range(12):
        image = make_one(kind, rng, digits)
        assert image.shape == (28, 28) and image.dtype == np.uint8
        assert image.max() >= 40, "some ink"  # a faint shadow ramp is still visible
        # white ink on black: the background (most pixels, the frame) is 0, as in MNIST
        frame = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
        assert np.mean(image < 30) > 0.5 and (frame > 30).mean() < 0.25
        assert 17 <= max(ink_box(image)) <= 21  # longest side fitted to 20 px
        row, col = centre_of_mass(image.astype(np.float64))
        assert abs(row - 14) <= 1.5 and abs(col - 14) <= 1.5


def test_glued_pair_is_wider_than_one_digit(digits):
    rng = np.random.default_rng(1)

    def aspect(image: np.ndarray) -> float:
        height, width = ink_box(image)
        return width / height

    pairs = [aspect(make_one("glued-pair", rng, digits)) for _ in range(30)]
    singles = [aspect(normalise(digit / 255.0)) for digit in digits]
    assert np.mean(pairs) > 1.2 * np.mean(singles)


def test_make_nondigits_is_seeded_and_mixes_every_kind(digits):
    images, kinds = make_nondigits(300, digits, seed=5)
    again, _ = make_nondigits(300, digits, seed=5)
    assert images.shape == (300, 28, 28) and images.dtype == np.uint8
    assert np.array_equal(images, again)
    assert set(kinds.tolist()) == set(range(len(KINDS)))
    assert make_nondigits(0, digits, seed=5)[0].shape == (0, 28, 28)


def test_normalise_of_nothing_is_an_empty_input():
    assert not normalise(np.zeros((10, 10), np.float32)).any()


def test_letters_split_is_seeded_disjoint_and_complete():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (1000, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = np.arange(1000) % 256
    images[:, 0, 1] = np.arange(1000) // 256  # a unique tag per image
    letters = Letters(images, np.array(list("ABCDE") * 200))
    first, second = split_letters(letters), split_letters(letters)
    assert (len(first.train), len(first.validation), len(first.held_out)) == (800, 50, 150)
    assert np.array_equal(first.held_out.images, second.held_out.images)

    def tags(part: Letters) -> set[int]:
        return set(
            (part.images[:, 0, 0].astype(int) + 256 * part.images[:, 0, 1].astype(int)).tolist()
        )

    parts = [tags(first.train), tags(first.validation), tags(first.held_out)]
    assert sum(len(p) for p in parts) == 1000 == len(set().union(*parts))


def test_per_letter_rejection():
    labels = np.array(["a", "b", "a", "b"])
    rates = per_letter_rejection(labels, np.array([True, False, True, True]))
    assert rates == {"a": 1.0, "b": 0.5}
