"""train.augment: the elastic distortion (off in the default recipe) and where it applies."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import train.augment as augment
from tests.conftest import font_digits
from train.augment import Augmentation, augment_batch, elastic, warp
from train.mix import mixed_training


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


def test_a_constant_shift_samples_bilinearly():
    """Shifted by (0.25, 0.5) pixels, each pixel is the bilinear mix of its four neighbours
    below and to the right, in those proportions; past the edge is black."""
    image = np.arange(28 * 28, dtype=np.float32).reshape(1, 28, 28, 1) % 251
    shift = tf.constant(np.tile(np.float32([0.25, 0.5]), (1, 28, 28, 1)))
    out = warp(tf.constant(image), shift).numpy()[0, :, :, 0]
    a = np.pad(image[0, :, :, 0], ((0, 1), (0, 1)))  # zeros outside
    expected = (0.75 * 0.5 * a[:-1, :-1] + 0.75 * 0.5 * a[:-1, 1:]
                + 0.25 * 0.5 * a[1:, :-1] + 0.25 * 0.5 * a[1:, 1:])  # fmt: skip
    assert np.allclose(out, expected, atol=1e-3)
    assert out[27, 27] == pytest.approx(0.75 * 0.5 * image[0, 27, 27, 0])  # 3 of 4 outside


def test_the_training_stream_warps_batches_of_unknown_size():
    """Inside tf.data a batch's size is unknown when the graph is built."""
    images, labels = font_digits(10, seed=4)
    stream, steps = mixed_training(
        images, labels, None, 4, share=0.0, augment=True, seed=0, elastic=1.0
    )
    assert stream.element_spec[0].shape[0] is None
    batches = [x.numpy() for x, _ in stream.take(3)]
    assert steps == 3 and all(b.shape == (4, 28, 28, 1) and b.max() > 0 for b in batches)


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
