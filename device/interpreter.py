"""Finds a TFLite interpreter (LiteRT first) and runs the int8 digit model on 28x28 inputs."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from device.contract import (
    IMAGE_SIZE,
    ModelMetadata,
    Quantization,
    decide,
    load_metadata,
    none_index,
)

# Order matters: LiteRT is the maintained runtime; tflite-runtime 2.14 is the last of its line;
# full TensorFlow is the heavy fallback for a workstation that has nothing else.
BACKENDS = (
    ("ai_edge_litert", "ai_edge_litert.interpreter"),
    ("tflite_runtime", "tflite_runtime.interpreter"),
    ("tensorflow.lite", "tensorflow.lite.python.interpreter"),
)


class ModelError(Exception):
    """The model cannot be loaded or does not fit the contract."""


@dataclass(frozen=True)
class Backend:
    name: str
    interpreter_class: type
    skipped: tuple[str, ...]  # "name: why" for each backend passed over


def find_backend() -> Backend:
    """Imports the first interpreter that works here, recording why others were passed over."""
    skipped = []
    for name, module_name in BACKENDS:
        if name == "tflite_runtime" and int(np.__version__.split(".")[0]) >= 2:
            skipped.append(
                f"{name}: skipped, tflite-runtime 2.14 crashes under numpy {np.__version__}"
            )
            continue
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # a broken binary wheel raises more than ImportError
            skipped.append(f"{name}: {type(exc).__name__}: {exc}".splitlines()[0])
            continue
        return Backend(name, module.Interpreter, tuple(skipped))
    raise ModelError(
        "no TFLite interpreter found: pip install ai-edge-litert (" + "; ".join(skipped) + ")"
    )


def quantize(values: np.ndarray, q: Quantization, dtype: np.dtype) -> np.ndarray:
    """Real values to integers: q = round(x / scale) + zero_point, clipped to the dtype."""
    info = np.iinfo(dtype)
    scaled = np.round(values.astype(np.float32) / q.scale) + q.zero_point
    return np.clip(scaled, info.min, info.max).astype(dtype)


def dequantize(values: np.ndarray, q: Quantization) -> np.ndarray:
    """Integers to real values: x = scale * (q - zero_point)."""
    return q.scale * (values.astype(np.float32) - q.zero_point)


class DigitModel:
    """A loaded model: metadata checked, interpreter built once, scores() per 28x28 digit."""

    def __init__(self, model_path: Path, threads: int | None = None):
        self.path = Path(model_path)
        self.metadata: ModelMetadata = load_metadata(self.path)
        self.backend = find_backend()
        try:
            self._interpreter = self.backend.interpreter_class(
                model_path=str(self.path), num_threads=threads
            )
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{self.path}: cannot load model ({exc})".splitlines()[0]) from None
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self._check_contract()

    def _check_contract(self) -> None:
        meta = self.metadata
        shape = [int(d) for d in self._input["shape"]]
        dtype = np.dtype(self._input["dtype"]).name
        if shape != meta.input_shape or dtype != meta.input_dtype:
            raise ModelError(
                f"{self.path}: input {shape} {dtype} does not match its metadata "
                f"{meta.input_shape} {meta.input_dtype}"
            )
        classes = int(np.prod(self._output["shape"]))
        out_dtype = np.dtype(self._output["dtype"]).name
        if classes != len(meta.labels) or out_dtype != meta.output_dtype:
            raise ModelError(
                f"{self.path}: output of {classes} {out_dtype} scores does not match its "
                f"metadata ({len(meta.labels)} labels, {meta.output_dtype})"
            )

    @property
    def labels(self) -> list[str]:
        return self.metadata.labels

    def scores(self, digit: np.ndarray) -> np.ndarray:
        """Class probabilities for one 28x28 uint8 digit (white ink on black)."""
        if digit.shape != (IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"expected a {IMAGE_SIZE}x{IMAGE_SIZE} digit, got {digit.shape}")
        meta = self.metadata
        q_in = quantize(digit, meta.input_quantization, np.dtype(self._input["dtype"]))
        self._interpreter.set_tensor(self._input["index"], q_in.reshape(meta.input_shape))
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._output["index"])[0]
        return dequantize(raw, meta.output_quantization)

    def none_probability(self, scores: np.ndarray) -> float | None:
        """p(none) from one digit's scores; None when the model has no `none` class."""
        where = none_index(self.labels)
        return None if where is None else float(scores[where])

    def classes(self, digits: Iterable[np.ndarray]) -> np.ndarray:
        """The answer (label index, by the metadata's decision rule) for each 28x28 digit."""
        scores = np.array([self.scores(digit) for digit in digits], dtype=np.float32)
        if not len(scores):
            return np.zeros(0, dtype=np.int64)
        meta = self.metadata
        return decide(scores, meta.labels, meta.decision, meta.none_threshold).astype(np.int64)


def describe_model(model_path: Path) -> dict:
    """Input and output tensor details as the interpreter sees them, for writing metadata."""
    interpreter = find_backend().interpreter_class(model_path=str(model_path))
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()

    def quant(details: dict) -> Quantization:
        scale, zero_point = details["quantization"]
        return Quantization(float(scale), int(zero_point))

    return {
        "input_shape": [int(d) for d in inp["shape"]],
        "input_dtype": np.dtype(inp["dtype"]).name,
        "input_quantization": quant(inp),
        "output_dtype": np.dtype(out["dtype"]).name,
        "output_quantization": quant(out),
    }
