"""Finds a TFLite interpreter (LiteRT first) and runs the int8 digit model on 28x28 inputs."""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from device.contract import IMAGE_SIZE, ModelMetadata, Quantization, decide, none_index
from device.model_pair import read_model_pair

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


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[list[int]]:
    """Holds Ctrl-C back while importing a backend: an interrupted import can surface as some
    other exception and read as "backend unusable". The caller re-raises it afterwards."""
    caught: list[int] = []
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # a worker: not ours
        yield caught
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield caught
    finally:
        signal.signal(signal.SIGINT, previous)


def find_backend() -> Backend:
    """Imports the first interpreter that works here, recording why others were passed over.

    A Ctrl-C during the search is never mistaken for a broken backend: it stops the search."""
    skipped = []
    for name, module_name in BACKENDS:
        with _interrupts_deferred() as interrupted:
            module, problem = _try_import(module_name)
        if interrupted:
            raise KeyboardInterrupt
        if module is None:
            skipped.append(f"{name}: {problem}".splitlines()[0])
            continue
        return Backend(name, module.Interpreter, tuple(skipped))
    raise ModelError(
        "no TFLite interpreter found: pip install ai-edge-litert (" + "; ".join(skipped) + ")"
    )


def _try_import(module_name: str) -> tuple[object | None, str]:
    if module_name.startswith("tflite_runtime") and int(np.__version__.split(".")[0]) >= 2:
        return None, f"skipped, tflite-runtime 2.14 crashes under numpy {np.__version__}"
    try:
        return importlib.import_module(module_name), ""
    except Exception as exc:  # a broken binary wheel raises more than ImportError
        return None, f"{type(exc).__name__}: {exc}"


def quantize(values: np.ndarray, q: Quantization, dtype: np.dtype) -> np.ndarray:
    """Real values to integers: q = round(x / scale) + zero_point, clipped to the dtype."""
    if values.dtype == dtype and q.scale == 1.0 and q.zero_point == 0:
        return values  # raw pixels in, as the contract's uint8 input takes them: x as it is
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
        pair = read_model_pair(self.path)  # the bytes the metadata describes, read once
        self.metadata: ModelMetadata = pair.metadata
        self.backend = find_backend()
        try:
            self._interpreter = self.backend.interpreter_class(
                model_content=pair.content, num_threads=threads
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
        for name, details, q in (
            ("input", self._input, meta.input_quantization),
            ("output", self._output, meta.output_quantization),
        ):
            scale, zero_point = details["quantization"]
            if not math.isclose(scale, q.scale, rel_tol=1e-6) or zero_point != q.zero_point:
                raise ModelError(
                    f"{self.path}: {name} quantization (scale {scale:g}, zero point "
                    f"{zero_point}) does not match its metadata (scale {q.scale:g}, zero point "
                    f"{q.zero_point})"
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


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Points file descriptor 2 at /dev/null: LiteRT's C++ prints an INFO line there each time
    it builds an interpreter, which would clutter every run (once per worker)."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def load_model(model_path: Path, threads: int | None = None) -> DigitModel:
    """DigitModel without LiteRT's start-up chatter; its errors still arrive as exceptions."""
    with _native_stderr_silenced():
        return DigitModel(model_path, threads)


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
