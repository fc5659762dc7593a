"""Batch augmentation that makes MNIST look like digits photographed on paper and cropped."""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class Augmentation:
    rotation_deg: float = 12.0
    scale: tuple[float, float] = (0.85, 1.12)
    shear: float = 0.15
    shift_px: float = 2.0
    thicken_p: float = 0.25  # stroke thickness: a pen wider than MNIST's
    thin_p: float = 0.1
    blur_p: float = 0.2  # camera focus and JPEG softness
    ink_range: tuple[float, float] = (0.7, 1.0)  # faint pens, uneven contrast stretch


def _inverse_affines(batch: int, aug: Augmentation, size: float) -> tf.Tensor:
    """Per-image projective transforms mapping output pixels back to input pixels."""
    theta = tf.random.uniform([batch], -1, 1) * math.radians(aug.rotation_deg)
    scale = tf.random.uniform([batch], *aug.scale)
    shear = tf.random.uniform([batch], -aug.shear, aug.shear)
    tx, ty = (tf.random.uniform([batch], -aug.shift_px, aug.shift_px) for _ in range(2))
    cos, sin = tf.cos(theta), tf.sin(theta)
    # forward M = scale * R(theta) @ [[1, shear], [0, 1]]; we need its inverse
    a, b = scale * cos, scale * (cos * shear - sin)
    c, d = scale * sin, scale * (sin * shear + cos)
    det = a * d - b * c
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
    centre = (size - 1) / 2
    ox, oy = centre + tx, centre + ty  # where the centre lands
    a2 = centre - ia * ox - ib * oy
    b2 = centre - ic * ox - id_ * oy
    zeros = tf.zeros([batch])
    return tf.stack([ia, ib, a2, ic, id_, b2, zeros, zeros], axis=1)


def _where(p: float, batch: int, yes: tf.Tensor, no: tf.Tensor) -> tf.Tensor:
    pick = tf.random.uniform([batch, 1, 1, 1]) < p
    return tf.where(pick, yes, no)


def augment_batch(images: tf.Tensor, aug: Augmentation = Augmentation()) -> tf.Tensor:
    """images: (B, 28, 28, 1) float 0-255 -> augmented, same shape and range."""
    batch, size = tf.shape(images)[0], images.shape[1]
    images = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=_inverse_affines(batch, aug, float(size)),
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    thick = tf.nn.max_pool2d(images, 2, 1, "SAME")
    images = _where(aug.thicken_p, batch, thick, images)
    thin = -tf.nn.max_pool2d(-images, 2, 1, "SAME")
    images = _where(aug.thin_p, batch, thin, images)
    kernel = tf.constant([1.0, 2.0, 1.0]) / 4.0
    kernel = tf.reshape(tf.tensordot(kernel, kernel, axes=0), [3, 3, 1, 1])
    blurred = tf.nn.conv2d(images, kernel, 1, "SAME")
    images = _where(aug.blur_p, batch, blurred, images)
    ink = tf.random.uniform([batch, 1, 1, 1], *aug.ink_range)
    return tf.clip_by_value(images * ink, 0.0, 255.0)
