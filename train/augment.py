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
    # elastic distortion (Simard et al. 2003: alpha 34, sigma 4 on MNIST): the share of images
    # warped by a smoothed random displacement field, as a hand's wobble bends strokes
    elastic_p: float = 0.0
    elastic_alpha: float = 34.0
    elastic_sigma: float = 4.0


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


def _smoothed_noise(batch: tf.Tensor, size: int, sigma: float) -> tf.Tensor:
    """(B, size, size, 2) uniform noise in [-1, 1], Gaussian-smoothed (separably, per channel)."""
    radius = max(1, int(round(2 * sigma)))
    taps = tf.exp(-(tf.range(-radius, radius + 1, dtype=tf.float32) ** 2) / (2 * sigma**2))
    taps /= tf.reduce_sum(taps)
    noise = tf.random.uniform([batch, size, size, 2], -1.0, 1.0)
    across = tf.tile(tf.reshape(taps, [1, -1, 1, 1]), [1, 1, 2, 1])
    down = tf.tile(tf.reshape(taps, [-1, 1, 1, 1]), [1, 1, 2, 1])
    noise = tf.nn.depthwise_conv2d(noise, across, [1, 1, 1, 1], "SAME")
    return tf.nn.depthwise_conv2d(noise, down, [1, 1, 1, 1], "SAME")


def elastic(images: tf.Tensor, alpha: float, sigma: float) -> tf.Tensor:
    """Each (B, H, W, 1) image warped by alpha x a Gaussian-smoothed random field. By hand:
    keras.ops.image.elastic_transform draws the same noise for both axes (a warp along the
    diagonal only) and needs a static batch size, which a tf.data stream does not have."""
    return warp(images, alpha * _smoothed_noise(tf.shape(images)[0], images.shape[1], sigma))


def warp(images: tf.Tensor, shift: tf.Tensor) -> tf.Tensor:
    """Each (B, H, W, 1) image resampled (bilinear, zeros outside) at each pixel displaced by
    shift (B, H, W, 2): rows, then columns."""
    batch, size = tf.shape(images)[0], images.shape[1]
    rows, cols = tf.meshgrid(tf.range(size, dtype=tf.float32), tf.range(size, dtype=tf.float32),
                             indexing="ij")  # fmt: skip
    y, x = rows + shift[..., 0], cols + shift[..., 1]
    y0, x0 = tf.floor(y), tf.floor(x)
    flat = tf.reshape(images, [batch, size * size])

    def at(yy: tf.Tensor, xx: tf.Tensor) -> tf.Tensor:
        inside = (yy >= 0) & (yy <= size - 1) & (xx >= 0) & (xx <= size - 1)
        row, col = tf.clip_by_value(yy, 0, size - 1), tf.clip_by_value(xx, 0, size - 1)
        index = tf.cast(row * size + col, tf.int32)
        values = tf.gather(flat, tf.reshape(index, [batch, -1]), batch_dims=1)
        return tf.where(inside, tf.reshape(values, tf.shape(yy)), 0.0)

    wy, wx = y - y0, x - x0
    out = ((1 - wy) * (1 - wx) * at(y0, x0) + (1 - wy) * wx * at(y0, x0 + 1)
           + wy * (1 - wx) * at(y0 + 1, x0) + wy * wx * at(y0 + 1, x0 + 1))  # fmt: skip
    return out[..., None]


def _where(p: float, batch: int, yes: tf.Tensor, no: tf.Tensor) -> tf.Tensor:
    pick = tf.random.uniform([batch, 1, 1, 1]) < p
    return tf.where(pick, yes, no)


def augment_batch(images: tf.Tensor, aug: Augmentation = Augmentation()) -> tf.Tensor:
    """images: (B, 28, 28, 1) float 0-255 -> augmented, same shape and range."""
    batch, size = tf.shape(images)[0], images.shape[1]
    if aug.elastic_p > 0:
        warped = elastic(images, aug.elastic_alpha, aug.elastic_sigma)
        images = _where(aug.elastic_p, batch, warped, images)
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
