"""Training batches that mix digits with non-digits (letters and synthetic shapes), as tf.data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from device.contract import LABELS, NONE_LABEL
from train.augment import Augmentation, augment_batch
from train.letters import LetterSplit
from train.nondigits import make_nondigits

NONE_CLASS = LABELS.index(NONE_LABEL)


@dataclass(frozen=True)
class NonDigits:
    """Non-digit images (uint8 28x28) for training and for validation (loss and threshold)."""

    train: np.ndarray
    validation: np.ndarray
    validation_letters: int  # the first this many validation images are letters, then synthetic


def build_nondigits(
    letters: LetterSplit,
    train_digits: np.ndarray,
    val_digits: np.ndarray,
    synthetic: int,
    seed: int,
) -> NonDigits:
    """Letters' train part plus `synthetic` generated shapes; validation likewise, seeded apart."""
    made, _ = make_nondigits(synthetic, train_digits, seed)
    val_made, _ = make_nondigits(max(synthetic // 20, 1), val_digits, seed + 1)
    return NonDigits(
        np.concatenate([letters.train.images, made]),
        np.concatenate([letters.validation.images, val_made]),
        len(letters.validation),
    )


def _one_hot(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    return tf.cast(images, tf.float32), tf.one_hot(tf.cast(labels, tf.int32), len(LABELS))


def _shuffled(x: np.ndarray, y: np.ndarray, seed: int) -> tf.data.Dataset:
    ds = tf.data.Dataset.from_tensor_slices((x[..., None], y.astype(np.int64)))
    return ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).repeat()


def mixed_training(
    x: np.ndarray,
    y: np.ndarray,
    nondigits: np.ndarray | None,
    batch_size: int,
    *,
    share: float,
    augment: bool,
    seed: int,
    epoch_digits: int | None = None,
    elastic: float = 0.0,
) -> tuple[tf.data.Dataset, int]:
    """An endless augmented stream where `share` of each batch on average is non-digits, and the
    steps that make one epoch (`epoch_digits` digits seen, default every digit once)."""
    digits = _shuffled(x, y, seed)
    per_epoch = epoch_digits or len(x)
    if nondigits is None or not len(nondigits) or share <= 0:
        ds = digits
    else:
        others = _shuffled(nondigits, np.full(len(nondigits), NONE_CLASS), seed + 1)
        ds = tf.data.Dataset.sample_from_datasets(
            [digits, others], weights=[1 - share, share], seed=seed
        )
        per_epoch = int(np.ceil(per_epoch / (1 - share)))
    ds = ds.batch(batch_size).map(_one_hot, num_parallel_calls=tf.data.AUTOTUNE)
    if augment:
        aug = Augmentation(elastic_p=elastic)
        ds = ds.map(
            lambda im, lab: (augment_batch(im, aug), lab), num_parallel_calls=tf.data.AUTOTUNE
        )
    return ds.prefetch(tf.data.AUTOTUNE), int(np.ceil(per_epoch / batch_size))


def validation_set(
    x: np.ndarray, y: np.ndarray, nondigits: np.ndarray | None, batch_size: int
) -> tf.data.Dataset:
    """Validation digits followed by the validation non-digits, unaugmented, one-hot."""
    if nondigits is not None and len(nondigits):
        x = np.concatenate([x, nondigits])
        y = np.concatenate([y, np.full(len(nondigits), NONE_CLASS, y.dtype)])
    ds = tf.data.Dataset.from_tensor_slices((x[..., None], y.astype(np.int64)))
    return ds.batch(batch_size).map(_one_hot).prefetch(tf.data.AUTOTUNE)
