"""Temperature scaling: sharpen the trained model's probabilities to match how often it is right."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from train.fit import TrainRun, save_model

# Label smoothing 0.1 trains the best class towards 0.91, so a sure digit scores ~0.9 and the
# device's --min-confidence 0.5 turned away digits the model reads right (train/tried.md).
# Dividing the logits by T < 1 undoes that without changing any argmax (Guo et al. 2017, "On
# Calibration of Modern Neural Networks"); T is the one that best predicts the validation labels.
TEMPERATURES = np.round(np.geomspace(0.2, 2.0, 41), 3)


def tempered(scores: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T): the probabilities of the logits divided by T."""
    z = np.log(np.maximum(scores.astype(np.float64), 1e-12)) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, labels: np.ndarray) -> float:
    """The T of TEMPERATURES with the lowest negative log-likelihood of the labels."""
    rows = np.arange(len(labels))

    def loss(t: float) -> float:
        return float(-np.mean(np.log(np.maximum(tempered(scores, t)[rows, labels], 1e-12))))

    return float(min(TEMPERATURES, key=loss))


def sharpen(model: keras.Model, temperature: float) -> bool:
    """Divides the logits by T inside the model (the last Dense's weights and bias), so the model
    file itself gives the calibrated probabilities. False for a model not ending in a softmax
    Dense, left as it is."""
    last = model.layers[-1]
    if not isinstance(last, keras.layers.Dense) or last.activation is not keras.activations.softmax:
        return False
    last.set_weights([w / temperature for w in last.get_weights()])
    return True


def calibrate_run(
    run: TrainRun, others: np.ndarray, other_label: int, out_dir: Path
) -> float | None:
    """Fits T on the run's validation digits and validation non-digits (`other_label`), bakes it
    into the run's model and model.keras (written whole, then renamed over it), and returns it;
    None when it cannot be."""
    if run.x_val is None or not len(run.x_val):
        return None
    images = np.concatenate([run.x_val, others])[..., None].astype(np.float32)
    labels = np.concatenate([run.y_val, np.full(len(others), other_label)]).astype(int)
    scores = run.model.predict(images, batch_size=512, verbose=0)
    temperature = fit_temperature(scores, labels)
    if not sharpen(run.model, temperature):
        return None
    save_model(run.model, out_dir / "model.keras")
    return temperature
