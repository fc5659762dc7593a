"""Device-made training crops: photographed, cut out by the pipeline, cached, trained on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from device.contract import DEFAULT_MIN_CONFIDENCE, LABELS, NONE_THRESHOLD, decide
from device.files.mnist import DataError
from device.model.interpreter import load_model
from tests.conftest import font_digits, write_idx
from train import crops as crops_module
from train.cli import main as train_main
from train.crops import DeviceCrops, cached_device_crops, device_crops
from train.data import Mnist
from train.evaluate import evaluate_and_report
from train.fit import Profile, train
from train.letters import Letters, LetterSplit
from train.mix import NonDigits, mixed_training
from train.nondigits import make_nondigits

SHIPPED = Path(__file__).resolve().parents[1] / "models" / "digitcam.tflite"


def test_crops_are_the_pipelines_28x28s_of_photos_of_the_images():
    images, labels = font_digits(10, seed=5)
    crops, kept = device_crops(images, seed=0, model_path=SHIPPED, workers=1)
    assert crops.dtype == np.uint8 and crops.shape == (len(kept), 28, 28)
    assert len(kept) >= 8 and np.all(np.diff(kept) > 0) and kept.max() < len(images)
    # MNIST-style: white ink on black, the ink centred; and still the digit it was
    assert all(c[0].max() == 0 and c[:, 0].max() == 0 and c.max() > 200 for c in crops)
    read = load_model(SHIPPED).classes(crops)
    assert np.mean(read == labels[kept]) >= 0.8


def test_crops_do_not_depend_on_the_worker_count(monkeypatch):
    monkeypatch.setattr(crops_module, "CHUNK", 3)
    images, _ = font_digits(7, seed=6)
    one, kept_one = device_crops(images, seed=2, model_path=SHIPPED, workers=1)
    two, kept_two = device_crops(images, seed=2, model_path=SHIPPED, workers=2)
    np.testing.assert_array_equal(kept_one, kept_two)
    np.testing.assert_array_equal(one, two)
    other, _ = device_crops(images, seed=3, model_path=SHIPPED, workers=1)
    assert not np.array_equal(one, other[: len(one)])


def _tiny_letters() -> LetterSplit:
    made, _ = make_nondigits(9, font_digits(9, seed=1)[0], seed=4)
    glyphs = Letters(made, np.array(list("ACEFHKMNP")))
    return LetterSplit(
        glyphs.subset(np.arange(5)), glyphs.subset(np.arange(5, 9)), glyphs.subset([]), "test"
    )


def _cached(path: Path, model: Path, reuse: bool) -> DeviceCrops:
    x, y = font_digits(8, seed=7)
    return cached_device_crops(
        path, model, train_digits=(x[:6], y[:6]), val_digits=(x[6:], y[6:]),
        letters=_tiny_letters(), count=6, seed=0, reuse=reuse,
    )  # fmt: skip


def test_cached_crops_are_reused_by_a_resumed_run_of_the_same_model(tmp_path, monkeypatch):
    path = tmp_path / "device-crops.npz"
    first = _cached(path, SHIPPED, reuse=False)
    assert path.exists() and len(first.digits) >= 4 and len(first.val_digits) >= 1
    assert len(first.letters) + len(first.val_letters) >= 1
    made = []
    real_build = crops_module.build_device_crops
    monkeypatch.setattr(
        crops_module, "build_device_crops", lambda *a, **k: made.append(1) or real_build(*a, **k)
    )
    again = _cached(path, SHIPPED, reuse=True)
    assert made == [] and np.array_equal(again.digits, first.digits)
    np.testing.assert_array_equal(again.digit_labels, first.digit_labels)
    path.write_bytes(b"not a numpy file")  # a damaged cache is made again, not trusted
    _cached(path, SHIPPED, reuse=True)
    assert made == [1]
    _cached(path, SHIPPED, reuse=False)  # a fresh run makes them again
    assert made == [1, 1]
    x, y = font_digits(8, seed=7)
    cached_device_crops(
        path, SHIPPED, train_digits=(x[:6], y[:6]), val_digits=(x[6:], y[6:]),
        letters=_tiny_letters(), count=5, seed=0, reuse=True,
    )  # fmt: skip
    assert made == [1, 1, 1]  # asked for another count: not the kept ones


def test_a_crop_model_that_cannot_load_is_a_one_line_data_error(tmp_path):
    with pytest.raises(DataError, match="--crop-model") as caught:
        _cached(tmp_path / "c.npz", tmp_path / "missing.tflite", reuse=False)
    assert "\n" not in str(caught.value)


def test_an_epoch_counts_the_training_digits_not_the_crops_added_to_them():
    x, y = font_digits(64, seed=8)
    _, plain = mixed_training(x, y, x[:10], 16, share=0.5, augment=False, seed=0)
    _, with_crops = mixed_training(
        np.concatenate([x, x]), np.concatenate([y, y]), x[:10], 16,
        share=0.5, augment=False, seed=0, epoch_digits=64,
    )  # fmt: skip
    assert plain == with_crops == 8  # 64 digits / (1 - 0.5) / 16


def test_training_with_crops_reports_how_the_rule_does_on_them(tmp_path):
    x_train, y_train = font_digits(320, seed=0)
    x_test, y_test = font_digits(100, seed=1)
    data = Mnist(x_train, y_train, x_test, y_test, source="synthetic font digits")
    made, _ = make_nondigits(160, x_train, seed=0)
    nondigits = NonDigits(made[:120], made[120:], validation_letters=20)
    crop_x, crop_y = font_digits(40, seed=9)
    crops = DeviceCrops(
        crop_x[:30], crop_y[:30], made[:10], crop_x[30:], crop_y[30:], made[150:], "test crops"
    )
    profile = Profile("test", epochs=1, architecture="small", batch_size=32)
    run = train(data, tmp_path, profile, nondigits=nondigits, crops=crops)
    summary = evaluate_and_report(run, data, tmp_path, profile, nondigits=nondigits, crops=crops)
    assert summary["device_crops"] == {"digits": 30, "letters": 10}
    assert summary["validation_device_digits"] == 10 and summary["validation_device_letters"] == 10
    # the figures are the decision rule's, at the device's default confidence
    threshold = summary["none_threshold"]
    scores = run.model.predict(crop_x[30:, ..., None].astype(np.float32), verbose=0)
    answers = decide(scores, LABELS, NONE_THRESHOLD, threshold)
    sure = scores[np.arange(10), answers] >= DEFAULT_MIN_CONFIDENCE
    expected = np.mean((answers == crop_y[30:]) & sure)
    assert summary["validation_device_digit_accuracy"] == pytest.approx(expected)
    letters = run.model.predict(made[150:, ..., None].astype(np.float32), verbose=0)
    rejected = letters[:, LABELS.index("none")] >= threshold
    assert summary["validation_device_letter_rejection"] == pytest.approx(np.mean(rejected))
    # answered "no digit" includes every letter answered `none`
    assert (
        summary["validation_device_letter_no_digit"]
        >= summary["validation_device_letter_rejection"]
    )
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["validation_device_letters"] == 10
    assert "Device-made crops" in (tmp_path / "report.md").read_text()


def _idx_dir(directory: Path) -> Path:
    """font digits as the four MNIST IDX .gz files."""
    directory.mkdir()
    x_train, y_train = font_digits(200, seed=3)
    x_test, y_test = font_digits(40, seed=4)
    for stem, array in {
        "train-images-idx3-ubyte": x_train, "train-labels-idx1-ubyte": y_train,
        "t10k-images-idx3-ubyte": x_test, "t10k-labels-idx1-ubyte": y_test,
    }.items():  # fmt: skip
        write_idx(directory / f"{stem}.gz", array)
    return directory


def test_the_train_command_makes_the_crops_once_and_resumes_with_them(
    tmp_path, letters_file, capsys
):
    data, out = _idx_dir(tmp_path / "mnist"), tmp_path / "out"
    args = ["--data", str(data), "--out", str(out), "--letters", str(letters_file)]
    args += ["--epochs", "1", "--architecture", "small", "--synthetic", "40", "--device-crops", "8"]
    assert train_main(args) == 0
    kept = out / "device-crops.npz"
    made = kept.stat().st_mtime_ns
    report = json.loads((out / "report.json").read_text())
    assert 6 <= report["device_crops"]["digits"] <= 8 and report["validation_device_letters"] <= 8
    assert train_main([*args, "--resume"]) == 0
    assert kept.stat().st_mtime_ns == made  # read back, not made again
    capsys.readouterr()
    assert train_main([*args, "--crop-model", str(tmp_path / "gone.tflite")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("digitcam-train: cannot cut device crops") and len(err.splitlines()) == 1
