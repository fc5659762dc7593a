"""The model contract: labels with `none`, the decision rule, metadata round-trip, old metadata."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import numpy as np
import pytest

from device.contract import (
    ARGMAX,
    DIGIT_LABELS,
    LABELS,
    NONE_LABEL,
    NONE_THRESHOLD,
    MetadataError,
    ModelMetadata,
    Quantization,
    decide,
    metadata_path,
    none_index,
    sha256_of,
)
from device.model_pair import load_metadata

NONE = LABELS.index(NONE_LABEL)


def metadata(model_path, **changes) -> ModelMetadata:
    meta = ModelMetadata(
        model_file=model_path.name,
        sha256=sha256_of(model_path),
        size_bytes=model_path.stat().st_size,
        parameters=1,
        input_shape=[1, 28, 28, 1],
        input_dtype="uint8",
        input_quantization=Quantization(1.0, 0),
        output_dtype="int8",
        output_quantization=Quantization(1 / 256, -128),
        labels=list(LABELS),
        float_accuracy=0.996,
        int8_accuracy=0.996,
        test_images=10000,
        code_version="test",
        decision=NONE_THRESHOLD,
        none_threshold=0.7,
        nondigits={"held_out_letters": 5228, "int8_letter_rejection": 0.97},
    )
    return replace(meta, **changes)


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(b"not really a model")
    return path


def test_labels_are_the_digits_then_none():
    assert (*(str(d) for d in range(10)), "none") == LABELS and LABELS[:10] == DIGIT_LABELS
    assert none_index(LABELS) == 10 and none_index(DIGIT_LABELS) is None


def test_none_threshold_rule():
    scores = np.zeros((4, 11), np.float32)
    scores[0, [3, NONE]] = 0.2, 0.8  # p(none) above the threshold: none
    scores[1, [3, NONE]] = 0.4, 0.6  # none is the best, but below the threshold: the best digit
    scores[2, [3, 5]] = 0.7, 0.3  # a clear digit
    scores[3, [3, NONE]] = 0.3, 0.7  # exactly at the threshold: none
    assert decide(scores, LABELS, NONE_THRESHOLD, 0.7).tolist() == [NONE, 3, 3, NONE]
    assert decide(scores, LABELS, ARGMAX).tolist() == [NONE, NONE, 3, NONE]
    # a 10-class model: the rule has no none to give, it is argmax
    assert decide(scores[:, :10], DIGIT_LABELS, NONE_THRESHOLD, 0.7).tolist() == [3, 3, 3, 3]
    with pytest.raises(ValueError):
        decide(scores, LABELS, "vote")


def test_metadata_round_trips_labels_rule_and_figures(model_file):
    meta = metadata(model_file)
    metadata_path(model_file).write_text(meta.to_json())
    loaded = load_metadata(model_file)
    assert loaded == meta
    assert loaded.labels[-1] == NONE_LABEL and loaded.none_threshold == 0.7
    scores = np.zeros(11, np.float32)
    scores[[4, NONE]] = 0.35, 0.65
    assert loaded.answer(scores) == 4  # p(none) below the model's own threshold


def test_ten_class_metadata_of_an_older_model_still_loads(model_file):
    old = asdict(metadata(model_file, labels=list(DIGIT_LABELS)))
    for key in ("decision", "none_threshold", "nondigits"):
        del old[key]  # written before the none class existed
    metadata_path(model_file).write_text(json.dumps(old))
    loaded = load_metadata(model_file)
    assert loaded.labels == list(DIGIT_LABELS) and loaded.decision == ARGMAX
    assert loaded.none_threshold is None and loaded.nondigits == {}
    scores = np.linspace(0, 1, 10, dtype=np.float32)
    assert loaded.answer(scores) == 9


def test_unknown_decision_rule_is_refused(model_file):
    raw = asdict(metadata(model_file))
    raw["decision"] = "majority-vote"
    metadata_path(model_file).write_text(json.dumps(raw))
    with pytest.raises(MetadataError, match="decision rule"):
        load_metadata(model_file)


@pytest.mark.parametrize(
    ("labels", "decision", "problem"),
    [
        ([str(d) for d in range(1, 11)], "argmax", "labels must be digits"),
        (["zero", *DIGIT_LABELS[1:]], "argmax", "labels must be digits"),
        (list(DIGIT_LABELS), "none-threshold", "needs a 'none' label"),
    ],
)
def test_labels_the_device_cannot_read_are_refused(model_file, labels, decision, problem):
    """The reading turns labels into digits: anything else would pass doctor and then fail
    (or print "10") on every frame."""
    raw = asdict(metadata(model_file, labels=labels)) | {"decision": decision}
    metadata_path(model_file).write_text(json.dumps(raw))
    with pytest.raises(MetadataError, match=problem):
        load_metadata(model_file)
