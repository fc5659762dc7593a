"""The model contract shared by train, convert and device: input, labels and the metadata file."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

FORMAT = "digitcam-model/1"
IMAGE_SIZE = 28
INPUT_SHAPE = (1, IMAGE_SIZE, IMAGE_SIZE, 1)
INPUT_DTYPE = "uint8"
POLARITY = "white-on-black"  # 0 = background, 255 = ink, as in MNIST
NORMALISATION = "mnist-20x20-com"  # fitted in a 20x20 box, centre of mass at the middle of 28x28
LABELS = tuple(str(d) for d in range(10))
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
    polarity: str = POLARITY
    normalisation: str = NORMALISATION
    format: str = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def metadata_path(model_path: Path) -> Path:
    """The JSON that travels beside a model: models/x.tflite -> models/x.json."""
    return Path(model_path).with_suffix(".json")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_metadata(model_path: Path) -> ModelMetadata:
    """Reads and checks the metadata beside model_path; MetadataError has a one-line reason."""
    model_path = Path(model_path)
    meta_path = metadata_path(model_path)
    try:
        raw = json.loads(meta_path.read_text())
        raw["input_quantization"] = Quantization(**raw["input_quantization"])
        raw["output_quantization"] = Quantization(**raw["output_quantization"])
        meta = ModelMetadata(**raw)
    except FileNotFoundError:
        raise MetadataError(f"{meta_path}: model metadata not found (run 'make convert')") from None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise MetadataError(f"{meta_path}: unreadable model metadata ({exc})") from None
    if meta.format != FORMAT:
        raise MetadataError(f"{meta_path}: format {meta.format!r}, expected {FORMAT!r}")
    try:
        actual = sha256_of(model_path)
    except OSError as exc:
        raise MetadataError(f"{model_path}: cannot read model ({exc.strerror})") from None
    if actual != meta.sha256:
        raise MetadataError(
            f"{model_path}: file does not match its metadata {meta_path.name} (sha256)"
        )
    return meta
