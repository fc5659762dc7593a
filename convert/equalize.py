"""Cross-layer equalization: rescale channels so int8's one scale per tensor suits every channel."""

from __future__ import annotations

import keras
import numpy as np

# int8 gives each activation tensor one scale, set by its widest channel. A channel whose
# activations span 0.09 beside others spanning 5.9 then has two or three levels, and when the
# next layer weighs that channel heavily the error reaches the answer: the 40-epoch 11-class
# model read 33% of training "1"s as `none` in int8 and none in float. A ReLU commutes with a
# positive per-channel factor (and so do max pooling and averaging), so dividing a channel's
# BatchNormalization output by s and multiplying the next layer's weights for that channel by s
# leaves the float model's answers unchanged while evening out the ranges (Nagel et al. 2019,
# "Data-Free Quantization Through Weight Equalization and Bias Correction", section 4.1).
# No maintained library does this for a Keras 3 model (AIMET targets PyTorch and TF 1), hence
# these few lines.


def equalizing_factors(activation_range: np.ndarray, weight_range: np.ndarray) -> np.ndarray:
    """Per channel s with range/s == weight*s, normalised so their geometric mean is 1; a
    channel that never fires on the calibration images, or has no weight, keeps s = 1."""
    live = (activation_range > 0) & (weight_range > 0)
    factors = np.ones(activation_range.shape, np.float64)
    if live.any():
        factors[live] = np.sqrt(activation_range[live] / weight_range[live])
        factors[live] /= np.exp(np.mean(np.log(factors[live])))
    return factors.astype(np.float32)


def input_channel_range(kernel: np.ndarray) -> np.ndarray:
    """The largest weight each input channel meets, relative to its output channel's largest
    (weights are quantized per output channel, so that is the range int8 sees)."""
    kernel = np.abs(kernel.reshape(-1, *kernel.shape[-2:]))  # (taps, inputs, outputs)
    relative = kernel / np.maximum(kernel.max(axis=(0, 1), keepdims=True), 1e-12)
    return relative.max(axis=(0, 2))


# Layers a positive per-channel factor passes through unchanged.
SCALE_PRESERVING = (
    keras.layers.MaxPooling2D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.Dropout,
)


def chains(model: keras.Model) -> list[tuple[keras.layers.Layer, keras.layers.Layer, int]]:
    """(BatchNormalization, the next Conv2D or Dense, index of the ReLU between them among the
    model's ReLUs) wherever only a plain ReLU and pooling or dropout lie between the two."""
    found, norm, relu_at, relus = [], None, None, 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            norm, relu_at = layer, None
        elif isinstance(layer, keras.layers.ReLU):
            plain = layer.max_value is None and not layer.threshold
            relu_at = relus if norm is not None and relu_at is None and plain else None
            norm = norm if relu_at is not None else None
            relus += 1
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
            if norm is not None and relu_at is not None:
                found.append((norm, layer, relu_at))
            norm = None
        elif not isinstance(layer, SCALE_PRESERVING):
            norm = None
    return found


def equalize(model: keras.Model, calibration: np.ndarray) -> keras.Model:
    """Rescales the model's channels in place (same float answers); returns it."""
    links = chains(model)
    if not links:
        return model
    relus = [layer for layer in model.layers if isinstance(layer, keras.layers.ReLU)]
    probe = keras.Model(model.inputs, [relus[index].output for _, _, index in links])
    activations = probe.predict(calibration, batch_size=256, verbose=0)
    if len(links) == 1:
        activations = [activations]
    for (norm, following, _), activation in zip(links, activations, strict=True):
        kernel, *rest = following.get_weights()
        kernel4 = kernel if kernel.ndim == 4 else kernel[None, None]  # Dense after pooling
        factors = equalizing_factors(
            activation.reshape(-1, activation.shape[-1]).max(axis=0),
            input_channel_range(kernel4),
        )
        gamma, beta, *statistics = norm.get_weights()
        norm.set_weights([gamma / factors, beta / factors, *statistics])
        scaled = kernel4 * factors[None, None, :, None]
        following.set_weights([scaled.reshape(kernel.shape), *rest])
    return model
