"""Cross-layer equalization keeps the float model's answers and makes int8 follow them."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from convert.equalize import chains, equalize, equalizing_factors, input_channel_range
from convert.quantize import calibration_images, float_scores, quantize_int8
from device.contract import Quantization
from device.model.interpreter import dequantize
from tests.conftest import font_digits
from train.model import build_model


def squash_every_chain(model: keras.Model, factor: float) -> None:
    """Shrinks channel 0 after every BatchNormalization by factor and grows the next weighted
    layer's weights for it to match: the float model is unchanged, but int8 now has in every
    chain a channel of tiny range that the next layer weighs heavily, the trained 11-class
    model's trouble (there in the first chain only)."""
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    weighted = [
        layer
        for layer in model.layers
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
    ][1:]  # each BatchNormalization's next weighted layer, in this CNN
    for norm, following in zip(norms, weighted, strict=True):
        gamma, beta, *statistics = norm.get_weights()
        gamma[0], beta[0] = gamma[0] / factor, beta[0] / factor
        norm.set_weights([gamma, beta, *statistics])
        kernel, *rest = following.get_weights()
        kernel[..., 0, :] *= factor
        following.set_weights([kernel, *rest])


def int8_error(model: keras.Model, calibration: np.ndarray, images: np.ndarray) -> float:
    """The largest gap between the int8 and the float model's probabilities."""
    interpreter = Interpreter(model_content=quantize_int8(model, calibration))
    interpreter.allocate_tensors()
    source, result = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    quantization = Quantization(*result["quantization"])
    int8 = []
    for image in images:
        interpreter.set_tensor(source["index"], image[None, ..., None])
        interpreter.invoke()
        int8.append(dequantize(interpreter.get_tensor(result["index"])[0], quantization))
    return float(np.abs(np.array(int8) - float_scores(model, images)).max())


def errors_around_equalizing(
    model: keras.Model, calibration: np.ndarray, images: np.ndarray
) -> tuple[float, float]:
    """int8_error before and after equalize, which must leave the float answers as they were."""
    before = float_scores(model, images)
    damaged = int8_error(model, calibration, images)
    equalize(model, calibration)
    assert np.abs(float_scores(model, images) - before).max() < 1e-4
    return damaged, int8_error(model, calibration, images)


def test_the_chains_of_the_digit_cnn_are_found():
    model = build_model("small")
    found = chains(model)
    # four convs follow a BatchNormalization and ReLU (pooling between two of them), and the
    # classifier follows the last through pooling and dropout
    assert [type(following).__name__ for _, _, following in found] == ["Conv2D"] * 4 + ["Dense"]
    relus = [layer for layer in model.layers if isinstance(layer, keras.layers.ReLU)]
    assert [relu for _, relu, _ in found] == relus


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
    squash_every_chain(model, 300.0)
    damaged, repaired = errors_around_equalizing(model, calibration, images)
    assert repaired < 0.03 and 5 * repaired < damaged, (repaired, damaged)


def norm_relu(x, **norm):
    return keras.layers.ReLU()(keras.layers.BatchNormalization(**norm)(x))


def conv(x, width: int = 4):
    return keras.layers.Conv2D(width, 3, padding="same", use_bias=False)(x)


def residual(x):
    y = norm_relu(conv(x))
    return keras.layers.Add()([conv(y), y])  # the ReLU's output has a second reader


def two_readers(x):
    y = norm_relu(conv(x))
    return keras.layers.Concatenate()([conv(y), conv(y)])


def relu6(x):
    y = keras.layers.BatchNormalization()(conv(x))
    return conv(keras.layers.ReLU(max_value=6.0)(y))  # a capped ReLU lets no factor through


def padded(x):
    return conv(keras.layers.ZeroPadding2D(1)(norm_relu(conv(x))))


def no_scale(x):
    return conv(norm_relu(conv(x), scale=False))  # no gamma to divide


@pytest.mark.parametrize("body", [residual, two_readers, relu6, padded, no_scale])
def test_layers_a_factor_cannot_pass_make_no_chain(body):
    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, body(inputs))
    assert chains(model) == []


def test_equalizing_refuses_to_change_the_float_model(monkeypatch):
    keras.utils.set_random_seed(1)
    model = build_model("small")
    images, _ = font_digits(16, seed=5)
    weights = model.get_weights()
    # the next layers keep their weights, as if the graph had been misread: only the
    # BatchNormalization side of each factor is applied
    monkeypatch.setattr(keras.layers.Conv2D, "set_weights", lambda self, weights: None)
    with pytest.raises(ValueError, match="changed the float model"):
        equalize(model, images[..., None].astype(np.float32))
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights, strict=True))
