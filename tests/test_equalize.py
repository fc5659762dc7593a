"""Cross-layer equalization keeps the float model's answers and makes int8 follow them."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from convert.equalize import chains, equalize, equalizing_factors, input_channel_range
from convert.quantize import calibration_images, float_scores, quantize_int8
from tests.conftest import font_digits
from train.model import build_model


def squash_first_channel(model: keras.Model, factor: float) -> None:
    """Shrinks the first layer's channel 0 by factor and grows the next conv's weights for it
    to match: the float model is unchanged, but int8 now has a channel of tiny range that the
    next layer weighs heavily, the trained 11-class model's trouble."""
    norm = next(
        layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
    )
    following = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][1]
    gamma, beta, *statistics = norm.get_weights()
    gamma[0], beta[0] = gamma[0] / factor, beta[0] / factor
    norm.set_weights([gamma, beta, *statistics])
    kernel = following.get_weights()[0]
    kernel[:, :, 0, :] *= factor
    following.set_weights([kernel])


def int8_error(model: keras.Model, calibration: np.ndarray, images: np.ndarray) -> float:
    """The largest gap between the int8 and the float model's probabilities."""
    interpreter = Interpreter(model_content=quantize_int8(model, calibration))
    interpreter.allocate_tensors()
    source, result = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    scale, zero_point = result["quantization"]
    int8 = []
    for image in images:
        interpreter.set_tensor(source["index"], image[None, ..., None])
        interpreter.invoke()
        int8.append(
            scale * (interpreter.get_tensor(result["index"])[0].astype(np.float32) - zero_point)
        )
    return float(np.abs(np.array(int8) - float_scores(model, images)).max())


def test_the_chains_of_the_digit_cnn_are_found():
    model = build_model("small")
    found = chains(model)
    # four convs follow a BatchNormalization and ReLU (pooling between two of them), and the
    # classifier follows the last through pooling and dropout
    assert [type(following).__name__ for _, following, _ in found] == ["Conv2D"] * 4 + ["Dense"]
    assert [relu for _, _, relu in found] == [0, 1, 2, 3, 4]


def test_factors_even_the_ranges_and_keep_their_geometric_mean():
    activation, weight = np.array([0.1, 4.0, 8.0]), np.array([4.0, 1.0, 0.5])
    factors = equalizing_factors(activation, weight)
    assert np.exp(np.mean(np.log(factors))) == pytest.approx(1.0)
    ratio = (activation / factors) / (weight * factors)
    assert np.allclose(ratio, ratio[0])  # each channel's range and its weights now match
    dead = equalizing_factors(np.array([0.0, 0.1, 4.0]), np.array([1.0, 4.0, 1.0]))
    assert dead[0] == 1.0 and np.isclose(dead[1] * dead[2], 1.0)  # a dead channel is left as is
    kernel = np.zeros((3, 3, 2, 2), np.float32)
    kernel[0, 0, 0, 0], kernel[1, 1, 1, 0], kernel[2, 2, 1, 1] = 2.0, 1.0, 5.0
    assert np.allclose(input_channel_range(kernel), [1.0, 1.0])  # relative to each output


def test_equalizing_keeps_float_answers_and_repairs_int8():
    keras.utils.set_random_seed(0)
    x_train, y_train = font_digits(320, seed=3)
    model = build_model("small")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x_train[..., None].astype(np.float32), y_train, epochs=2, batch_size=32, verbose=0)
    images, _ = font_digits(60, seed=4)
    calibration = calibration_images(x_train, 200, seed=0)
    squash_first_channel(model, 300.0)
    before = float_scores(model, images)
    damaged = int8_error(model, calibration, images)
    equalize(model, calibration)
    assert np.abs(float_scores(model, images) - before).max() < 1e-4
    repaired = int8_error(model, calibration, images)
    assert repaired < 0.03 and 5 * repaired < damaged, (repaired, damaged)
