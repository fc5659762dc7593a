"""The model contract shared by train, convert and device: input, labels and the metadata file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where scores are decided: the contract loads without it
    import numpy as np


FORMAT = "digitcam-model/1"
IMAGE_SIZE = 28
INPUT_SHAPE = (1, IMAGE_SIZE, IMAGE_SIZE, 1)
INPUT_DTYPE = "uint8"
POLARITY = "white-on-black"  # 0 = background, 255 = ink, as in MNIST
NORMALISATION = "mnist-20x20-com"  # fitted in a 20x20 box, centre of mass at the middle of 28x28
DIGIT_LABELS = tuple(str(d) for d in range(10))
NONE_LABEL = "none"  # the class for "not a digit": letters, scribbles, blobs, glued pairs
LABELS = (*DIGIT_LABELS, NONE_LABEL)  # what train builds now; a model's own set is its metadata's
# Decision rules (metadata `decision`): how scores become an answer, the same in convert and device.
ARGMAX = "argmax"  # the best label; what a model without a `none` class uses
NONE_THRESHOLD = "none-threshold"  # `none` iff p(none) >= none_threshold, else the best digit
DEFAULT_NONE_THRESHOLD = 0.5
# Below this probability for its best class the model's answer is "no digit" (--min-confidence).
DEFAULT_MIN_CONFIDENCE = 0.5


class MetadataError(Exception):
    """The model's metadata is missing, unreadable or does not match the model file."""


@dataclass(frozen=True)
class Quantization:
    scale: float
    zero_point: int


@dataclass(frozen=True)
class ModelMetadata:
    model_file: str
    sha256: str
    size_bytes: int
    parameters: int
    input_shape: list[int]
    input_dtype: str
    input_quantization: Quantization
    output_dtype: str
    output_quantization: Quantization
    labels: list[str]
    float_accuracy: float
    int8_accuracy: float
    test_images: int
    code_version: str
    training: dict = field(default_factory=dict)
    decision: str = ARGMAX
    none_threshold: float | None = None
    nondigits: dict = field(default_factory=dict)  # letter rejection figures and split sizes
    polarity: str = POLARITY
    normalisation: str = NORMALISATION
    format: str = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    def answer(self, scores: np.ndarray) -> int:
        """The label index this model's decision rule picks from one row of scores."""
        return int(decide(scores[None], self.labels, self.decision, self.none_threshold)[0])


def none_index(labels: Sequence[str]) -> int | None:
    """Where `none` is among a model's labels; None for a digits-only (10-class) model."""
    return list(labels).index(NONE_LABEL) if NONE_LABEL in labels else None


def decide(
    scores: np.ndarray,
    labels: Sequence[str],
    rule: str = ARGMAX,
    none_threshold: float | None = None,
) -> np.ndarray:
    """Label indices for rows of scores (N, classes) under a decision rule.

    none-threshold: `none` exactly when p(none) >= the threshold, otherwise the best digit
    (even when `none` had the highest score).
    """
    import numpy as np

    scores = np.asarray(scores, dtype=np.float32)
    where = none_index(labels)
    if rule == ARGMAX or where is None:
        return scores.argmax(axis=1)
    if rule != NONE_THRESHOLD:
        raise ValueError(f"unknown decision rule {rule!r}")
    threshold = DEFAULT_NONE_THRESHOLD if none_threshold is None else none_threshold
    digits = scores.copy()
    digits[:, where] = -np.inf
    best_digit = digits.argmax(axis=1)
    return np.where(scores[:, where] >= threshold, where, best_digit)


def metadata_path(model_path: Path) -> Path:
    """The JSON that travels beside a model: models/x.tflite -> models/x.json."""
    return Path(model_path).with_suffix(".json")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
