"""The model in models/: int8 digit accuracy and letter rejection as its metadata and README say."""

from __future__ import annotations

import re

import numpy as np
import pytest

from device.contract import LABELS, NONE_LABEL, NONE_THRESHOLD
from device.model.interpreter import DigitModel
from device.model_pair import load_metadata
from tests.conftest import REPO, SHIPPED_MODEL

README_FIGURE = re.compile(r"int8 accuracy on the MNIST test set: \*\*([0-9.]+)%\*\*")


def readme_int8_accuracy() -> float:
    match = README_FIGURE.search((REPO / "README.md").read_text())
    assert match, "README.md must state the shipped model's int8 accuracy"
    return float(match.group(1))


@pytest.fixture(scope="module")
def shipped_predictions(mnist) -> np.ndarray:
    model = DigitModel(SHIPPED_MODEL)
    return model.classes(mnist.x_test)


@pytest.fixture(scope="module")
def shipped_letter_answers(held_out_letters) -> np.ndarray:
    return DigitModel(SHIPPED_MODEL).classes(held_out_letters.images)


def test_shipped_int8_accuracy_is_at_least_the_readme_figure(shipped_predictions, mnist):
    accuracy = 100 * np.mean(shipped_predictions == mnist.y_test)
    assert accuracy >= readme_int8_accuracy() - 0.05


def test_shipped_metadata_matches_the_file(shipped_predictions, mnist):
    meta = load_metadata(SHIPPED_MODEL)
    assert meta.int8_accuracy == pytest.approx(np.mean(shipped_predictions == mnist.y_test))
    assert meta.test_images == len(mnist.y_test) == 10000
    assert meta.size_bytes == SHIPPED_MODEL.stat().st_size <= 150 * 1000
    assert 100 * (meta.float_accuracy - meta.int8_accuracy) <= 0.1
    assert meta.training["train_images"] > meta.training["validation_images"] > 0


def test_shipped_model_passes_the_digit_gate(shipped_predictions, mnist):
    assert 100 * np.mean(shipped_predictions == mnist.y_test) >= 99.5  # `none` counts as wrong


def test_shipped_model_rejects_the_held_out_letters(shipped_letter_answers, held_out_letters):
    meta = load_metadata(SHIPPED_MODEL)
    if NONE_LABEL not in meta.labels:
        pytest.xfail("the shipped model predates the none class: no none model passed the gates")
    assert meta.labels == list(LABELS) and meta.decision == NONE_THRESHOLD
    rejection = np.mean(shipped_letter_answers == meta.labels.index(NONE_LABEL))
    assert rejection >= 0.95
    assert meta.nondigits["held_out_letters"] == len(held_out_letters)
    assert meta.nondigits["int8_letter_rejection"] == pytest.approx(rejection)
