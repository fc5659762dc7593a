"""`digitcam bench` on a tiny setting: every code path runs and bench.json/md are complete."""

from __future__ import annotations

import json

from device.bench.measure import naive_available
from device.cli import main

TINY = ["--photos", "4", "--repeat", "1", "--runs", "5", "--frames", "5", "--soak", "24"]


def test_bench_writes_json_and_markdown(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    assert main(["bench", "--out", str(tmp_path), *TINY]) == 0
    results = json.loads((tmp_path / "bench.json").read_text())
    assert results["model"]["bytes"] > 0 and results["model"]["parameters"] > 0
    assert results["model"]["mnist_int8_accuracy"] is None  # no MNIST given
    assert results["model"]["peak_rss_kib"] > 1024
    for spread in results["interpreter"].values():
        assert spread["runs"] == 5 and 0 < spread["median"] <= spread["p99"] <= spread["maximum"]
    stages = set(results["pipeline"])
    assert {"threshold", "components", "total", "fps"} <= stages
    assert results["pipeline"]["total"]["runs"] == 5
    assert results["number_pipeline"]["total"]["runs"] == 5
    batch = results["batch"]
    assert batch["photos"] == 4 and batch["photo_source"] == "font digits"
    assert batch["ratio_to_pillow_decode"]["pillow_decode"] == 1.0
    assert {"pillow_decode", "predict_1_worker"} <= set(batch["images_per_second"])
    assert 0.0 <= batch["accuracy"]["predict_1_worker"] <= 1.0
    assert ("naive_tutorial" in batch["images_per_second"]) == naive_available()
    assert results["soak"]["frames"] == 24
    table = (tmp_path / "bench.md").read_text()
    assert "640x480 grey frame -> answer" in table and "vs Pillow decode" in table
    assert "640x480 frame of a 4-digit number -> answer" in table
    assert capsys.readouterr().out == table


def test_bench_with_a_missing_model_is_one_line(tmp_path, capsys):
    assert main(["bench", "--model", str(tmp_path / "none.tflite"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("digitcam bench: ") and err.count("\n") == 1
    assert not (tmp_path / "bench.json").exists()
