"""End to end on small synthetic data: train -> report -> int8 convert -> LiteRT -> metadata."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import keras
import numpy as np
import pytest

from convert.cli import main as convert_main
from convert.gate import Gates, failures
from convert.install import write_atomic
from convert.quantize import float_scores
from convert.run import convert
from device.contract import LABELS, NONE_THRESHOLD, decide, metadata_path, sha256_of
from device.model.interpreter import DigitModel
from device.model_pair import load_metadata
from tests.conftest import font_digits
from train.data import Mnist
from train.evaluate import evaluate_and_report
from train.fit import Profile, read_history, train
from train.letters import Letters
from train.mix import NonDigits
from train.nondigits import make_nondigits

PROFILE = Profile("test", epochs=2, architecture="small", batch_size=32)
NO_GATES = Gates(max_drop_points=100, min_digit_accuracy=0, min_letter_rejection=0, max_size_kb=0)


@pytest.fixture(scope="module")
def synthetic() -> Mnist:
    x_train, y_train = font_digits(480, seed=0)
    x_test, y_test = font_digits(200, seed=1)
    return Mnist(x_train, y_train, x_test, y_test, source="synthetic font digits")


@pytest.fixture(scope="module")
def nondigits(synthetic) -> NonDigits:
    made, _ = make_nondigits(240, synthetic.x_train, seed=0)
    return NonDigits(made[:200], made[200:], validation_letters=20)


@pytest.fixture(scope="module")
def trained(synthetic, nondigits, tmp_path_factory):
    out = tmp_path_factory.mktemp("train")
    run = train(synthetic, out, PROFILE, seed=0, nondigits=nondigits)
    summary = evaluate_and_report(run, synthetic, out, PROFILE, nondigits=nondigits)
    return out, run, summary


def test_training_writes_model_history_plots_and_report(trained, synthetic):
    out, run, summary = trained
    for name in ("model.keras", "history.csv", "history.json", "history.png", "confusion.png"):
        assert (out / name).stat().st_size > 0, name
    assert len(run.history["loss"]) == 2
    assert run.train_images + run.validation_images == len(synthetic.x_train)
    report = json.loads((out / "report.json").read_text())
    assert report["test_images"] == 200 and len(report["per_class_accuracy"]) == 10
    assert np.array(report["confusion"]).shape == (11, 11)
    assert np.array(report["confusion"]).sum() == 200  # no held-out letters given here
    assert report["decision"] == NONE_THRESHOLD and 0.3 <= report["none_threshold"] <= 0.95
    assert f"{100 * summary['test_accuracy']:.2f}%" in (out / "report.md").read_text()


def test_convert_installs_an_int8_model_that_agrees_with_float(trained, synthetic, tmp_path):
    out, run, _ = trained
    target = tmp_path / "models" / "digitcam.tflite"
    outcome = convert(
        out / "model.keras", synthetic, target, gates=NO_GATES, stage_dir=tmp_path / "stage"
    )
    assert outcome.installed and target.exists()
    meta = load_metadata(target)  # checks the sha256 against the file
    assert meta.sha256 == sha256_of(target) and meta.size_bytes == target.stat().st_size
    assert meta.input_shape == [1, 28, 28, 1] and meta.input_dtype == "uint8"
    assert meta.input_quantization.scale == pytest.approx(1.0, abs=0.01)
    assert meta.input_quantization.zero_point == 0 and meta.output_dtype == "int8"
    assert meta.training["train_images"] == run.train_images
    model = DigitModel(target)
    assert model.labels == [*(str(d) for d in range(10)), "none"] == list(LABELS)
    assert meta.decision == NONE_THRESHOLD and meta.none_threshold == run_threshold(out)
    assert model.none_probability(model.scores(synthetic.x_test[0])) is not None
    int8 = model.classes(synthetic.x_test)
    scores = float_scores(keras.models.load_model(out / "model.keras"), synthetic.x_test)
    floats = decide(scores, LABELS, NONE_THRESHOLD, meta.none_threshold)
    assert np.mean(int8 == floats) >= 0.9
    assert meta.int8_accuracy == pytest.approx(np.mean(int8 == synthetic.y_test))
    assert meta.float_accuracy == pytest.approx(np.mean(floats == synthetic.y_test))
    assert (target.parent / "report.md").exists()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]


def test_convert_refuses_to_install_a_model_that_lost_accuracy(trained, synthetic, tmp_path):
    out, _, _ = trained
    target = tmp_path / "models" / "digitcam.tflite"
    impossible = -100.5  # int8 would have to gain more than 100 points
    outcome = convert(
        out / "model.keras",
        synthetic,
        target,
        gates=Gates(max_drop_points=impossible, min_digit_accuracy=0, min_letter_rejection=0),
        stage_dir=tmp_path / "st",
    )
    assert not outcome.installed and "loses" in outcome.failures[0]
    assert not target.exists() and not metadata_path(target).exists()
    assert load_metadata(outcome.staged_path).int8_accuracy == outcome.metadata.int8_accuracy


def test_convert_refuses_a_model_that_does_not_reject_letters(trained, synthetic, tmp_path):
    out, _, _ = trained
    target = tmp_path / "models" / "digitcam.tflite"
    # "letters" that are really digits: a model that reads digits cannot call 95% of them none
    look_alikes = Letters(synthetic.x_test[:40], np.array(["A"] * 40))
    gates = Gates(max_drop_points=100, min_digit_accuracy=0, min_letter_rejection=95)
    outcome = convert(
        out / "model.keras",
        synthetic,
        target,
        letters=look_alikes,
        gates=gates,
        stage_dir=tmp_path / "st",
    )
    assert not outcome.installed and not target.exists()
    assert [f for f in outcome.failures if "letters answered none" in f]
    staged = load_metadata(outcome.staged_path)
    assert staged.nondigits["held_out_letters"] == 40
    assert staged.nondigits["int8_letter_rejection"] < 0.95
    assert set(staged.nondigits["per_letter_rejection"]) == {"A"}


def test_convert_refuses_a_model_over_the_size_limit(trained, synthetic, tmp_path):
    out, _, _ = trained
    target = tmp_path / "models" / "digitcam.tflite"
    tiny = replace(NO_GATES, max_size_kb=1.0)  # the small CNN is tens of kB
    refused = convert(out / "model.keras", synthetic, target, gates=tiny, stage_dir=tmp_path)
    size = refused.metadata.size_bytes
    assert not refused.installed and not target.exists()
    assert refused.failures == (f"the .tflite file is {size:,} bytes > 1 kB",)
    # a byte over the limit is refused, a file exactly at it passes (kB of 1,000 bytes)
    assert failures(refused.metadata, replace(NO_GATES, max_size_kb=(size - 1) / 1000))
    assert failures(refused.metadata, replace(NO_GATES, max_size_kb=size / 1000)) == []


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "lots"])
def test_convert_command_refuses_a_gate_that_is_not_a_number_from_zero_up(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        convert_main(["--max-size-kb", value])
    assert exit_.value.code == 2 and f"{value!r} is not a number >= 0" in capsys.readouterr().err


def run_threshold(out) -> float:
    return json.loads((out / "report.json").read_text())["none_threshold"]


class InterruptAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            raise KeyboardInterrupt


def test_interrupted_training_resumes_where_it_stopped(synthetic, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        train(synthetic, tmp_path, PROFILE, extra_callbacks=(InterruptAfterFirstEpoch(),))
    assert len(read_history(tmp_path / "history.csv")["loss"]) == 1
    run = train(synthetic, tmp_path, PROFILE, resume=True)
    history = read_history(tmp_path / "history.csv")
    assert history["epoch"] == [0.0, 1.0]  # epoch 0 from the first run, epoch 1 resumed
    assert len(run.history["loss"]) == 2


def test_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "digitcam.tflite"
    target.write_bytes(b"old model")

    def fail(*_):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_atomic(target, b"new model")
    assert target.read_bytes() == b"old model"
    assert [p.name for p in tmp_path.iterdir()] == ["digitcam.tflite"]


def test_convert_command_without_a_trained_model(tmp_path, capsys):
    assert convert_main(["--model", str(tmp_path / "none.keras")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none.keras: no trained model" in err


def test_convert_calibrates_on_training_non_digits_too(trained, synthetic, tmp_path, monkeypatch):
    """The int8 ranges come from what the device shows the model: digits and non-digits."""
    from convert import run as convert_run

    out, _, _ = trained
    seen = []
    real = convert_run.quantize_int8
    monkeypatch.setattr(convert_run, "quantize_int8", lambda m, c: seen.append(c) or real(m, c))
    others = np.full((50, 28, 28), 7, np.uint8)  # recognisable: no digit image is all 7s
    outcome = convert(
        out / "model.keras",
        synthetic,
        tmp_path / "models" / "digitcam.tflite",
        calibration_nondigits=others,
        calibration_count=40,
        gates=NO_GATES,
        stage_dir=tmp_path / "stage",
    )
    (calibration,) = seen
    assert len(calibration) == 40 + 10 and (calibration[40:] == 7).all()
    assert outcome.metadata.training["calibration_images"] == 50


def test_convert_quantizes_unequalized_when_equalizing_fails(
    trained, synthetic, tmp_path, monkeypatch, capsys
):
    """A model equalize does not understand is still converted, and the user is told why."""
    from convert import run as convert_run

    def refuse(model, calibration):
        raise ValueError("equalizing changed the float model's outputs by 3")

    monkeypatch.setattr(convert_run, "equalize", refuse)
    out, _, _ = trained
    target = tmp_path / "models" / "digitcam.tflite"
    outcome = convert(
        out / "model.keras", synthetic, target, gates=NO_GATES, stage_dir=tmp_path / "stage"
    )
    assert outcome.installed and target.exists()
    err = capsys.readouterr().err
    assert "outputs by 3; quantizing without equalizing" in err and err.count("\n") == 1
