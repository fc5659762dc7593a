"""Cross-layer equalization: rescale channels so int8's one scale per tensor suits every channel."""

from __future__ import annotations

import keras
import numpy as np

# int8 gives each activation tensor one scale, set by its widest channel. A channel whose
# activations span 0.09 beside others spanning 5.9 then has two or three levels, and when the
# next layer weighs that channel heavily the error reaches the answer: the 40-epoch 11-class
# model read 33% of the training "1"s as `none` in int8 that it read as 1 in float. A ReLU
# commutes with a positive per-channel factor (and so do max pooling and averaging), so
# dividing a channel's BatchNormalization output by s and multiplying the next layer's weights
# for that channel by s leaves the float model's answers unchanged while evening out the
# ranges (Nagel et al. 2019, "Data-Free Quantization Through Weight Equalization and Bias
# Correction", section 4.1). No maintained library does this for a Keras 3 model (AIMET
# targets PyTorch and TF 1), hence these few lines.


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
Chain = tuple[keras.layers.Layer, keras.layers.Layer, keras.layers.Layer]  # norm, ReLU, next


def _consumers(model: keras.Model) -> dict[int, int]:
    """How many layers (and model outputs) read each tensor, by id."""
    count: dict[int, int] = {}
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    inputs = [keras.tree.flatten(layer.input) for layer in layers]
    for tensor in [*(t for group in inputs for t in group), *keras.tree.flatten(model.outputs)]:
        count[id(tensor)] = count.get(id(tensor), 0) + 1
    return count


def _feeds(before: keras.layers.Layer, after: keras.layers.Layer, readers: dict) -> bool:
    """`after` reads `before`'s output, and nothing else does."""
    try:
        return after.input is before.output and readers.get(id(before.output)) == 1
    except (AttributeError, ValueError):  # a layer called more than once has no single tensor
        return False


def _foldable(norm: keras.layers.Layer) -> bool:
    return bool(norm.scale and norm.center and norm.axis in (-1, len(norm.input.shape) - 1))


def _takes_factors(layer: keras.layers.Layer) -> bool:
    if isinstance(layer, keras.layers.Dense):
        return True
    return (
        type(layer) is keras.layers.Conv2D
        and layer.groups == 1
        and layer.data_format == "channels_last"
    )


def chains(model: keras.Model) -> list[Chain]:
    """(BatchNormalization, its ReLU, the Conv2D or Dense that follows) wherever the graph
    runs straight from one to the next through only pooling or dropout, each tensor on the
    way read by the next layer alone, so a factor put in at the first comes out at the last."""
    layers, readers, found = model.layers, _consumers(model), []
    for at, norm in enumerate(layers):
        if not isinstance(norm, keras.layers.BatchNormalization) or not _foldable(norm):
            continue
        relu = layers[at + 1] if at + 1 < len(layers) else None
        plain = isinstance(relu, keras.layers.ReLU) and relu.max_value is None
        if not plain or relu.threshold or not _feeds(norm, relu, readers):
            continue
        before = relu
        for layer in layers[at + 2 :]:
            if not _feeds(before, layer, readers):
                break
            if _takes_factors(layer):
                found.append((norm, relu, layer))
                break
            if not isinstance(layer, SCALE_PRESERVING):
                break
            before = layer
    return found


def activation_ranges(model: keras.Model, links: list[Chain], calibration: np.ndarray):
    """Each chain's largest activation per channel after its ReLU, over the calibration
    images, a batch at a time (the whole activations would take gigabytes at 10,000)."""
    probe = keras.Model(model.input, [relu.output for _, relu, _ in links])
    ranges = [np.zeros(relu.output.shape[-1], np.float32) for _, relu, _ in links]
    for start in range(0, len(calibration), 256):
        outputs = probe(calibration[start : start + 256], training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for found, output in zip(ranges, outputs, strict=True):
            flat = keras.ops.convert_to_numpy(output).reshape(-1, found.size)
            np.maximum(found, flat.max(axis=0), out=found)
    return ranges


def parts(model: keras.Model) -> list[keras.Model]:
    """The model and the models nested in it that read its input (a reader and a judge paired
    in one, say), each equalized on its own chains."""
    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return [model, *(part for part in nested if part.input_shape == model.input_shape)]


def _rescale(links: list[Chain], ranges: list[np.ndarray]) -> None:
    for (norm, _, following), reach in zip(links, ranges, strict=True):
        kernel, *rest = following.get_weights()
        kernel4 = kernel if kernel.ndim == 4 else kernel[None, None]  # Dense after pooling
        factors = equalizing_factors(reach, input_channel_range(kernel4))
        gamma, beta, *statistics = norm.get_weights()
        norm.set_weights([gamma / factors, beta / factors, *statistics])
        scaled = kernel4 * factors[None, None, :, None]
        following.set_weights([scaled.reshape(kernel.shape), *rest])


def equalize(model: keras.Model, calibration: np.ndarray) -> keras.Model:
    """Rescales the model's channels in place and returns it. The float answers on the
    calibration images are checked to stay as they were; if they do not (an architecture
    this does not understand), the weights are put back and a ValueError says so."""
    found = [(part, chains(part)) for part in parts(model)]
    if not any(links for _, links in found):
        return model
    saved = model.get_weights()
    sample = calibration[:256]
    before = model.predict(sample, verbose=0)
    for part, links in found:
        if links:
            _rescale(links, activation_ranges(part, links, calibration))
    change = float(np.abs(model.predict(sample, verbose=0) - before).max())
    if change > 1e-4 * max(1.0, float(np.abs(before).max())):
        model.set_weights(saved)
        raise ValueError(f"equalizing changed the float model's outputs by {change:.2g}")
    return model
