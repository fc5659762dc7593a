"""A digit reader and a `none` judge in one model: the reader names the digit, the judge says
whether there is one."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np

from device.contract import DIGIT_LABELS, IMAGE_SIZE, LABELS, NONE_LABEL, metadata_path, sha256_of
from train.fit import TrainRun, save_model

# The ops of a 10-class int8 model made by the base or small CNN (BatchNormalization and the
# 1/255 rescaling folded into the convolutions by the converter), which is all a reader may be.
READER_OPS = (
    "QUANTIZE",
    *("CONV_2D", "CONV_2D", "MAX_POOL_2D") * 2,
    "CONV_2D",
    "MEAN",
    "FULLY_CONNECTED",
    "SOFTMAX",
)


class ReaderError(Exception):
    """The reader model is not a 10-class int8 digit CNN this module can rebuild."""


def _dequantized(interpreter, detail: dict) -> np.ndarray:
    """real = scale * (q - zero_point), per output channel (axis 0) when the tensor has several."""
    params = detail["quantization_parameters"]
    values = interpreter.get_tensor(detail["index"]).astype(np.float64)
    scales, zeros = params["scales"], params["zero_points"]
    if len(scales) > 1:
        shape = (-1,) + (1,) * (values.ndim - 1)
        scales, zeros = scales.reshape(shape), zeros.reshape(shape)
    return ((values - zeros) * scales).astype(np.float32)


def reader_from_tflite(path: Path) -> keras.Model:
    """The float Keras twin of an int8 digit model, from its own weights: raw 0-255 pixels in,
    ten digit probabilities out. Quantizing it again gives back the same weights."""
    from device.model.interpreter import find_backend  # LiteRT first, as on the device

    interpreter = find_backend().interpreter_class(model_path=str(path))
    interpreter.allocate_tensors()
    details = {t["index"]: t for t in interpreter.get_tensor_details()}
    ops = [op for op in interpreter._get_ops_details() if op["op_name"] != "DELEGATE"]
    if tuple(op["op_name"] for op in ops) != READER_OPS:
        raise ReaderError(f"{path}: not a digit CNN of this package (ops {len(ops)})")
    if details[ops[-1]["outputs"][0]]["shape"][-1] != len(DIGIT_LABELS):
        raise ReaderError(f"{path}: a reader has {len(DIGIT_LABELS)} outputs")
    pixels = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1), name="pixels")
    x = pixels
    for op in ops:
        name, inputs = op["op_name"], op["inputs"]
        if name == "CONV_2D":
            kernel = _dequantized(interpreter, details[inputs[1]]).transpose(1, 2, 3, 0)
            bias = _dequantized(interpreter, details[inputs[2]])
            same = details[op["outputs"][0]]["shape"][1] == details[inputs[0]]["shape"][1]
            conv = keras.layers.Conv2D(
                kernel.shape[-1], 3, padding="same" if same else "valid", activation="relu"
            )
            x = conv(x)
            conv.set_weights([kernel, bias])
        elif name == "MAX_POOL_2D":
            x = keras.layers.MaxPooling2D()(x)
        elif name == "MEAN":
            x = keras.layers.GlobalAveragePooling2D()(x)
        elif name == "FULLY_CONNECTED":
            dense = keras.layers.Dense(len(DIGIT_LABELS), activation="softmax", name="digits")
            x = dense(x)
            dense.set_weights(
                [_dequantized(interpreter, details[inputs[1]]).T,
                 _dequantized(interpreter, details[inputs[2]])]
            )  # fmt: skip
    return keras.Model(pixels, x, name="reader")


def pair(reader: keras.Model, judge: keras.Model) -> keras.Model:
    """One model with the judge's labels: p(none) is the judge's, and each digit's probability
    is the reader's times 1 - p(none), so the scores still sum to 1 and the best digit is the
    reader's."""
    if reader.output.shape[-1] != len(DIGIT_LABELS) or judge.output.shape[-1] != len(LABELS):
        raise ReaderError("a pair needs a 10-class reader and an 11-class judge")
    reader.trainable = judge.trainable = False
    pixels = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1), name="pixels")
    digits = reader(pixels)
    where = LABELS.index(NONE_LABEL)  # the last: the digits come first, as the reader's
    p_none = keras.layers.Cropping1D((where, len(LABELS) - where - 1))(
        keras.layers.Reshape((len(LABELS), 1))(judge(pixels))
    )
    p_none = keras.layers.Flatten()(p_none)
    p_digit = keras.layers.Rescaling(-1.0, offset=1.0)(p_none)
    scores = keras.layers.Concatenate(name="probabilities")(
        [keras.layers.Multiply()([digits, p_digit]), p_none]
    )
    return keras.Model(pixels, scores, name="digitcam_pair")


def paired_run(run: TrainRun, reader: keras.Model, out_dir: Path) -> TrainRun:
    """The run with its model paired to the reader: the trained judge is kept as judge.keras
    and the pair becomes model.keras (written whole, then renamed over it)."""
    model_path = out_dir / "model.keras"
    os.replace(model_path, out_dir / "judge.keras")
    both = pair(reader, run.model)
    save_model(both, model_path)
    return replace(run, model=both)


def provenance(path: Path) -> dict:
    """What the reports say of the reader: its file, hash and, from the metadata beside it,
    its own figures and the code that made it."""
    found = {"file": str(path), "sha256": sha256_of(path)}
    try:
        meta = json.loads(metadata_path(path).read_text())
    except (OSError, ValueError):
        return found
    keep = ("float_accuracy", "int8_accuracy", "test_images", "code_version")
    return (
        found
        | {key: meta[key] for key in keep if key in meta}
        | {
            "epochs": meta.get("training", {}).get("epochs"),
            "train_images": meta.get("training", {}).get("train_images"),
        }
    )
