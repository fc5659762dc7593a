"""Temperature scaling: T fitted on validation labels, baked into the model's last layer."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from train.calibrate import fit_temperature, sharpen, tempered
from train.model import build_model


def test_the_fitted_temperature_is_the_one_the_labels_were_drawn_at():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (4000, 11))
    truth = 0.5  # labels drawn from softmax(logits / 0.5): the logits are twice too timid
    probabilities = tempered(np.exp(logits), truth)
    labels = np.array([rng.choice(11, p=p) for p in probabilities])
    softmax = tempered(np.exp(logits), 1.0)
    assert fit_temperature(softmax, labels) == pytest.approx(truth, rel=0.1)
    # a model that is right as often as it says needs no sharpening
    assert fit_temperature(probabilities, labels) == pytest.approx(1.0, rel=0.1)


def test_sharpening_the_model_gives_the_tempered_scores_and_the_same_answers():
    keras.utils.set_random_seed(1)
    model = build_model("small")
    images = np.random.default_rng(2).integers(0, 256, (16, 28, 28, 1)).astype(np.float32)
    before = model.predict(images, verbose=0)
    assert sharpen(model, 0.6)
    after = model.predict(images, verbose=0)
    assert np.allclose(after, tempered(before, 0.6), atol=1e-5)
    assert np.array_equal(after.argmax(1), before.argmax(1))
    assert after.max(1).mean() > before.max(1).mean()
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    assert not sharpen(plain, 0.6)  # no softmax to temper: left as it is
