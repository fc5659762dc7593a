"""Full-integer post-training quantization: Keras model in, int8 .tflite bytes out."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator

import keras
import numpy as np
import tensorflow as tf


def calibration_images(x_train: np.ndarray, count: int, seed: int) -> np.ndarray:
    """A seeded sample of training images, shaped and typed as the Keras model's input."""
    pick = np.random.default_rng(seed).choice(len(x_train), min(count, len(x_train)), replace=False)
    return x_train[np.sort(pick)][..., None].astype(np.float32)


def quantize_int8(model: keras.Model, calibration: np.ndarray) -> bytes:
    """Every op int8; the input becomes uint8 raw pixels, the output int8 probabilities."""

    def representative() -> Iterator[list[np.ndarray]]:
        for image in calibration:
            yield [image[None]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.int8
    # Keras 3's export prints the whole serving signature to stdout; keep the CLI's output readable.
    with contextlib.redirect_stdout(io.StringIO()):
        return converter.convert()


def float_scores(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """The float model's class probabilities, (N, classes)."""
    if not len(images):
        return np.zeros((0, int(model.output_shape[-1])), np.float32)
    return model.predict(images[..., None].astype(np.float32), batch_size=512, verbose=0)


def float_predictions(model: keras.Model, images: np.ndarray) -> np.ndarray:
    return float_scores(model, images).argmax(1)
