"""train.augment: the elastic distortion (off in the default recipe) and where it applies."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import train.augment as augment
from tests.conftest import font_digits
from train.augment import Augmentation, augment_batch, elastic


def digits() -> tf.Tensor:
    images, _ = font_digits(8, seed=3)
    return tf.constant(images[..., None].astype(np.float32))


def test_no_displacement_gives_the_images_back():
    images = digits()
    assert np.array_equal(elastic(images, 0.0, 4.0).numpy(), images.numpy())


def test_a_warp_moves_strokes_but_keeps_the_ink_and_the_range():
    tf.random.set_seed(1)
    images = digits()
    warped = elastic(images, 34.0, 4.0).numpy()
    assert warped.shape == images.shape
    assert warped.min() >= 0 and warped.max() <= 255
    moved = np.abs(warped - images.numpy()).mean(axis=(1, 2, 3))
    assert (moved > 5).all()  # every image is bent ...
    ink = warped.sum(axis=(1, 2, 3)) / images.numpy().sum(axis=(1, 2, 3))
    assert ((ink > 0.5) & (ink < 2)).all()  # ... stretched or squeezed, not wiped out


def test_samples_are_weighted_to_one_inside_the_frame():
    """Bilinear weights add up to 1: a uniform grey stays that grey wherever every sampled
    neighbour lies inside the frame."""
    grey = tf.fill([4, 28, 28, 1], 100.0)
    warped = elastic(grey, 3.0, 4.0).numpy()
    assert np.allclose(warped[:, 8:20, 8:20], 100.0, atol=1e-3)


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_the_share_decides_whether_images_are_warped(share, monkeypatch):
    calls = []

    def counted(images, alpha, sigma):
        calls.append((alpha, sigma))
        return tf.zeros_like(images)

    monkeypatch.setattr(augment, "elastic", counted)
    out = augment_batch(digits(), Augmentation(elastic_p=share)).numpy()
    assert calls == ([(34.0, 4.0)] if share else [])
    assert (out.reshape(len(out), -1).max(axis=1) == 0).all() == bool(share)
