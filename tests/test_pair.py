"""A 10-class digit reader and an 11-class `none` judge paired in one model, and its int8 form."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from convert.equalize import chains, parts
from convert.quantize import calibration_images, float_scores, quantize_int8
from device.contract import LABELS, NONE_THRESHOLD, decide, sha256_of
from tests.conftest import font_digits
from tests.test_device_crops import _idx_dir
from tests.test_equalize import errors_around_equalizing, int8_error, squash_every_chain
from train.calibrate import TEMPERATURES
from train.cli import ARCHITECTURE_NAMES
from train.cli import main as train_main
from train.model import ARCHITECTURES, build_model
from train.pair import ReaderError, pair, reader_from_tflite


def trained(classes: int, seed: int) -> tuple[keras.Model, np.ndarray]:
    """A small CNN fitted briefly on font digits, and its calibration images."""
    keras.utils.set_random_seed(seed)
    x_train, y_train = font_digits(320, seed=seed)
    model = build_model("small", classes=classes)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x_train[..., None].astype(np.float32), y_train, epochs=2, batch_size=32, verbose=0)
    return model, calibration_images(x_train, 200, seed=0)


def int8_weights(tflite: bytes) -> list[np.ndarray]:
    """The int8 kernels of every convolution and of the classifier, in graph order."""
    interpreter = Interpreter(model_content=tflite)
    interpreter.allocate_tensors()
    ops = interpreter._get_ops_details()
    weighted = [op for op in ops if op["op_name"] in ("CONV_2D", "FULLY_CONNECTED")]
    return [interpreter.get_tensor(op["inputs"][1]) for op in weighted]


@pytest.fixture(scope="module")
def reader_file(tmp_path_factory) -> tuple[Path, keras.Model, np.ndarray]:
    model, calibration = trained(10, seed=3)
    path = tmp_path_factory.mktemp("reader") / "reader.tflite"
    path.write_bytes(quantize_int8(model, calibration))
    return path, model, calibration


def test_the_reader_twin_reads_as_the_int8_model_and_quantizes_back_to_it(reader_file):
    path, model, calibration = reader_file
    twin = reader_from_tflite(path)
    images, _ = font_digits(60, seed=4)
    # the twin carries the int8 weights in float: it answers as the float model it came from
    assert (
        np.mean(float_scores(twin, images).argmax(1) == float_scores(model, images).argmax(1)) > 0.9
    )
    assert int8_error(twin, calibration, images) < 0.05
    again = quantize_int8(twin, calibration)
    for kept, original in zip(int8_weights(again), int8_weights(path.read_bytes()), strict=True):
        assert np.array_equal(kept, original)


def test_a_model_that_is_not_a_digit_cnn_is_no_reader(tmp_path):
    judge, calibration = trained(len(LABELS), seed=5)
    eleven = tmp_path / "eleven.tflite"
    eleven.write_bytes(quantize_int8(judge, calibration))
    with pytest.raises(ReaderError, match="10 outputs"):
        reader_from_tflite(eleven)
    flat = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    other = tmp_path / "dense.tflite"
    other.write_bytes(quantize_int8(flat, calibration))
    with pytest.raises(ReaderError, match="not a digit CNN"):
        reader_from_tflite(other)


def test_the_pair_takes_the_digit_from_the_reader_and_none_from_the_judge(reader_file, tmp_path):
    path, _, _ = reader_file
    reader = reader_from_tflite(path)
    judge, _ = trained(len(LABELS), seed=5)
    both = pair(reader, judge)
    both.save(tmp_path / "pair.keras")
    both = keras.models.load_model(tmp_path / "pair.keras")
    images, _ = font_digits(60, seed=6)
    scores, digits, judged = (float_scores(m, images) for m in (both, reader, judge))
    assert np.allclose(scores.sum(axis=1), 1.0, atol=1e-5)
    assert np.allclose(scores[:, -1], judged[:, -1], atol=1e-6)
    assert np.allclose(scores[:, :-1], digits * (1 - judged[:, -1:]), atol=1e-6)
    answers = decide(scores, LABELS, NONE_THRESHOLD, 0.4)
    none = len(LABELS) - 1
    assert np.array_equal(answers == none, judged[:, -1] >= 0.4)
    assert np.array_equal(answers[answers != none], digits.argmax(1)[answers != none])
    with pytest.raises(ReaderError):
        pair(judge, reader)


def test_equalizing_a_pair_reaches_the_judge_inside_it(reader_file):
    path, _, calibration = reader_file
    judge, _ = trained(len(LABELS), seed=5)
    squash_every_chain(judge, 300.0)
    both = pair(reader_from_tflite(path), judge)
    assert {part.name for part in parts(both)[1:]} == {judge.name, "reader"}
    assert len(chains(judge)) == 5
    images, _ = font_digits(60, seed=4)
    damaged, repaired = errors_around_equalizing(both, calibration, images)
    # only p(none) comes from the judge, so the pair's damage is smaller than a whole model's
    assert repaired < 0.01 and 3 * repaired < damaged, (repaired, damaged)


def test_the_train_command_pairs_what_it_trains_with_a_reader(
    reader_file, letters_file, tmp_path, capsys
):
    path, _, _ = reader_file
    data, out = _idx_dir(tmp_path / "mnist"), tmp_path / "out"
    args = ["--data", str(data), "--out", str(out), "--letters", str(letters_file)]
    args += ["--epochs", "1", "--architecture", "small", "--synthetic", "40", "--device-crops", "0"]
    assert train_main([*args, "--reader", str(path)]) == 0
    both, judge = (keras.models.load_model(out / name) for name in ("model.keras", "judge.keras"))
    assert {part.name for part in parts(both)[1:]} == {judge.name, "reader"}
    report = json.loads((out / "report.json").read_text())
    assert report["reader"]["sha256"] == sha256_of(path)
    assert report["parameters"] == both.count_params() > judge.count_params()
    assert report["temperature"] in TEMPERATURES  # the judge was calibrated before pairing
    assert "Paired with the digit reader" in (out / "report.md").read_text()
    capsys.readouterr()
    assert train_main([*args, "--reader", str(tmp_path / "gone.tflite")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("digitcam-train: cannot use --reader") and len(err.splitlines()) == 1


def test_the_train_command_offers_every_architecture():
    assert sorted(ARCHITECTURE_NAMES) == sorted(ARCHITECTURES)
