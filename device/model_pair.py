"""Reading a model and its metadata safely: regular files only, checked fields, and the old pair
or the new one, never a mix, while convert installs."""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import get_args, get_origin, get_type_hints

from device.contract import (
    ARGMAX,
    DIGIT_LABELS,
    FORMAT,
    NONE_LABEL,
    NONE_THRESHOLD,
    NORMALISATION,
    POLARITY,
    MetadataError,
    ModelMetadata,
    Quantization,
    metadata_path,
)
from device.regular import read_regular

MAX_MODEL_BYTES = 64 << 20  # the shipped model is 114 KiB; anything near this is not a model
MAX_METADATA_BYTES = 1 << 20
OUTGOING = "outgoing"  # during an install: the metadata of the model being replaced
PAIR_ATTEMPTS = 5  # a model and metadata that do not match are read again (an install between)


@dataclass(frozen=True)
class ModelPair:
    content: bytes  # the .tflite file as read: give these bytes, not the path, to the interpreter
    metadata: ModelMetadata
    entry: dict = field(default_factory=dict)  # its JSON object as read, unknown fields too


def _problem(path: Path, exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"{path}: not found"
    return f"{path}: cannot read ({exc.strerror or exc})"


def read_model_pair(model_path: Path) -> ModelPair:
    """The model's bytes and the metadata entry for exactly those bytes (by sha256).

    While convert installs a new model, the .json carries the outgoing model's metadata too,
    so whichever .tflite a reader finds has its entry; a reader that raced an install reads
    both files again."""
    model_path = Path(model_path)
    meta_path = metadata_path(model_path)
    for attempt in range(PAIR_ATTEMPTS):
        try:
            raw = parse_metadata(read_regular(meta_path, MAX_METADATA_BYTES))
        except FileNotFoundError:
            missing = f"{meta_path}: model metadata not found (run 'make convert')"
            raise MetadataError(missing) from None
        except OSError as exc:
            raise MetadataError(f"{_problem(meta_path, exc)} (model metadata)") from None
        except (ValueError, RecursionError) as exc:
            reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
            raise MetadataError(f"{meta_path}: unreadable model metadata ({reason})") from None
        try:
            content = read_regular(model_path, MAX_MODEL_BYTES)
        except OSError as exc:
            raise MetadataError(f"{_problem(model_path, exc)} (the model)") from None
        sha = hashlib.sha256(content).hexdigest()
        entry = matching_entry(raw, sha)
        if entry is not None:
            meta = check_metadata(entry, meta_path)
            if meta.size_bytes != len(content):
                raise MetadataError(
                    f"{meta_path}: size_bytes {meta.size_bytes} but the model has {len(content)}"
                )
            return ModelPair(content, meta, entry)
        time.sleep(0.01 * (attempt + 1))
    if isinstance(raw, dict) and raw.get("format", FORMAT) != FORMAT:
        raise MetadataError(f"{meta_path}: format {raw['format']!r}, expected {FORMAT!r}")
    raise MetadataError(f"{model_path}: file does not match its metadata {meta_path.name} (sha256)")


def parse_metadata(data: bytes) -> object:
    """JSON without NaN or Infinity (which Python's json would otherwise accept)."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not a number JSON allows")

    return json.loads(data.decode("utf-8"), parse_constant=refuse)


def matching_entry(raw: object, sha: str) -> dict | None:
    """The metadata object describing the model whose sha256 is `sha`, if the file has one."""
    if not isinstance(raw, dict):
        return None
    outgoing = raw.get(OUTGOING)
    for entry in (raw, outgoing if isinstance(outgoing, dict) else None):
        if entry is not None and entry.get("sha256") == sha:
            return {k: v for k, v in entry.items() if k != OUTGOING}
    return None


# --- Checking the metadata's fields: types and ranges; unknown fields are ignored ---

DTYPE_RANGES = {"uint8": (0, 255), "int8": (-128, 127)}


def check_metadata(raw: object, where: Path) -> ModelMetadata:
    """ModelMetadata from a parsed JSON object, every known field checked, unknown ones ignored
    (a newer convert may add fields); MetadataError names the first bad field, on one line."""
    if not isinstance(raw, dict):
        raise MetadataError(f"{where}: model metadata is not a JSON object")
    known = {f.name: f for f in fields(ModelMetadata)}
    missing = [
        name
        for name, f in known.items()
        if name not in raw and f.default is MISSING and f.default_factory is MISSING
    ]
    if missing:
        raise MetadataError(f"{where}: model metadata lacks {', '.join(missing)}")
    hints = get_type_hints(ModelMetadata)
    values = {}
    for name in known:
        if name in raw:
            problem = _type_problem(raw[name], hints[name])
            if problem:
                raise MetadataError(f"{where}: {name} {problem}")
            values[name] = _typed(raw[name], hints[name])
    meta = ModelMetadata(**values)
    problem = _range_problem(meta)
    if problem:
        raise MetadataError(f"{where}: {problem}")
    return meta


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _type_problem(value: object, hint: object) -> str | None:
    """Why `value` (from JSON) is not of the annotated type, or None when it is."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is str and not isinstance(value, str):
        return f"must be a string, not {value!r}"[:120]
    if hint is int and not _is_int(value):
        return f"must be a whole number, not {value!r}"[:120]
    if hint is float and not _is_number(value):
        return f"must be a finite number, not {value!r}"[:120]
    if (hint is dict or origin is dict) and not isinstance(value, dict):
        return "must be a JSON object"
    if hint is list or origin is list:
        if not isinstance(value, list):
            return "must be a list"
        for item in value:
            problem = _type_problem(item, args[0]) if args else None
            if problem:
                return f"item {problem}"
    if hint is Quantization:
        if not isinstance(value, dict) or set(value) < {"scale", "zero_point"}:
            return "must be an object with scale and zero_point"
        return _type_problem(value["scale"], float) or _type_problem(value["zero_point"], int)
    return None


def _typed(value: object, hint: object) -> object:
    if hint is Quantization:
        return Quantization(float(value["scale"]), int(value["zero_point"]))
    return float(value) if hint is float else value


def _range_problem(meta: ModelMetadata) -> str | None:
    """The first field outside the range the device can work with, or None."""
    if meta.format != FORMAT:
        return f"format {meta.format!r}, expected {FORMAT!r}"
    if len(meta.sha256) != 64 or set(meta.sha256) - set("0123456789abcdef"):
        return "sha256 must be 64 lowercase hex digits"
    if len(meta.input_shape) != 4 or min(meta.input_shape) < 1:
        return f"input_shape must be 4 positive sizes, not {meta.input_shape}"
    if not meta.labels or len(set(meta.labels)) != len(meta.labels) or "" in meta.labels:
        return "labels must be distinct, non-empty names"
    if set(meta.labels) - {*DIGIT_LABELS, NONE_LABEL}:
        return f"labels must be digits 0-9 and {NONE_LABEL!r}, not {meta.labels}"[:160]
    if meta.decision == NONE_THRESHOLD and NONE_LABEL not in meta.labels:
        return f"decision {NONE_THRESHOLD!r} needs a {NONE_LABEL!r} label"
    for name, dtype, q in (
        ("input", meta.input_dtype, meta.input_quantization),
        ("output", meta.output_dtype, meta.output_quantization),
    ):
        if dtype not in DTYPE_RANGES:
            return f"{name}_dtype must be one of {', '.join(DTYPE_RANGES)}, not {dtype!r}"
        low, high = DTYPE_RANGES[dtype]
        if not 0 < q.scale < 1e6 or not low <= q.zero_point <= high:
            return f"{name}_quantization out of range (scale {q.scale}, zero point {q.zero_point})"
    if meta.decision not in (ARGMAX, NONE_THRESHOLD):
        return f"unknown decision rule {meta.decision!r}"
    if (meta.polarity, meta.normalisation) != (POLARITY, NORMALISATION):
        return (
            f"polarity {meta.polarity!r} and normalisation {meta.normalisation!r}: this device "
            f"makes {POLARITY!r}, {NORMALISATION!r} inputs"
        )
    if meta.none_threshold is not None and not (
        _is_number(meta.none_threshold) and 0.0 < meta.none_threshold <= 1.0
    ):
        return f"none_threshold must be in (0, 1], not {meta.none_threshold!r}"
    for name in ("float_accuracy", "int8_accuracy"):
        if not 0.0 <= getattr(meta, name) <= 1.0:
            return f"{name} must be between 0 and 1, not {getattr(meta, name)}"
    if meta.size_bytes < 1 or meta.parameters < 0 or meta.test_images < 0:
        return "size_bytes, parameters and test_images must not be negative"
    return None


def load_metadata(model_path: Path) -> ModelMetadata:
    """Reads and checks the metadata beside model_path; MetadataError has a one-line reason."""
    return read_model_pair(model_path).metadata
