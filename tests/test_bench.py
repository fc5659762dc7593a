"""`digitcam bench`: the numbers mean what they say (stages add up, memory is the soak's own
process, fps over wall time, `right` at the threshold asked for); the report is complete."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from device.bench.batch import FLOOR, measure_batch
from device.bench.measure import OTHER, STAGES, naive_available, pipeline_stages
from device.bench.soak import rss_kib, soak_in_fresh_process
from device.cli import main
from device.contract import DEFAULT_MIN_CONFIDENCE
from device.model.interpreter import load_model
from device.synthetic.photos import font_digit, photo_of_digit, photo_without_digit
from tests.conftest import REPO, SHIPPED_MODEL

TINY = ["--photos", "8", "--repeat", "1", "--runs", "5", "--frames", "5", "--soak", "24"]
TINY += ["--live", "40"]


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """One tiny bench run (no MNIST: font digits), its JSON and Markdown. --out is relative,
    as a user types it: the timed processes, which run elsewhere, must still find the photos."""
    out = tmp_path_factory.mktemp("bench")
    saved, cwd = os.environ.pop("MNIST_DIR", None), Path.cwd()
    try:
        os.chdir(out.parent)
        assert main(["bench", "--out", out.name, *TINY]) == 0
    finally:
        os.chdir(cwd)
        if saved is not None:
            os.environ["MNIST_DIR"] = saved
    return json.loads((out / "bench.json").read_text()), (out / "bench.md").read_text(), out


def test_bench_writes_json_and_markdown(bench, capsys):
    results, table, _ = bench
    assert results["model"]["mnist_int8_accuracy"] is None  # no MNIST given
    assert results["model"]["bytes"] == SHIPPED_MODEL.stat().st_size
    assert set(results["pipeline"]["stages"]) == {*STAGES, OTHER}
    assert results["model"]["peak_rss_kib"] > 1024
    memory = results["memory"]
    assert memory["predict_batch_peak_rss_kib"] > results["model"]["peak_rss_kib"] / 2
    assert memory["predict_largest_peak_rss_kib"] <= 400 * 1024  # the ceiling
    assert results["number_pipeline"]["total"]["runs"] == 5
    batch = results["batch"]
    assert batch["photos"] == 8 and batch["photo_source"] == "font digits"
    cores = os.cpu_count() or 1
    expected = {FLOOR, *(f"predict_{n}_worker{'s' * (n > 1)}" for n in {1, min(2, cores), cores})}
    assert expected <= set(batch["images_per_second"])
    assert ("naive_tutorial" in batch["images_per_second"]) == naive_available()
    assert results["soak"]["frames"] == 24
    live = results["live_view"]
    assert live["frames_per_run"] == 40 and set(live["fps"]) == {"off", "unwatched", "one viewer"}
    assert all(rate > 0 for rate in live["fps"].values())
    assert "| one viewer |" in table
    assert "640x480 grey frame -> answer" in table and "vs the floor" in table
    assert "640x480 frame of a 4-digit number -> answer" in table
    assert "right at --min-confidence 0.5" in table


def test_batch_right_is_scored_at_the_threshold_asked_for(bench):
    """At --min-confidence 1 no answer is sure enough (int8 scores stop at 255/256), so every
    photo reads "no digit": the threshold reaches the predict processes being timed."""
    results, _, out = bench
    folder = next((out / "photos").iterdir())
    labels = [int(r.split(",")[1]) for r in (folder / "labels.csv").read_text().split()[1:]]
    default = results["batch"]["accuracy"]["predict_1_worker"]
    assert results["batch"]["min_confidence"] == DEFAULT_MIN_CONFIDENCE and default > 0.5
    strict = measure_batch(folder, labels, SHIPPED_MODEL, [1], 1, 1.0, REPO)
    assert strict["min_confidence"] == 1.0 and strict["accuracy"]["predict_1_worker"] == 0.0


def frames(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    pictures = [photo_of_digit(font_digit(i % 10, rng), rng) for i in range(count - 1)]
    pictures.append(photo_without_digit(rng, "blank"))  # a frame that skips the later stages
    return [np.asarray(p.mean(axis=2), np.uint8) for p in pictures]


def test_the_stage_times_add_up_to_the_frame_time():
    times = pipeline_stages(load_model(SHIPPED_MODEL), frames(6), runs=60)
    # per frame, the time outside every named stage is a sliver of the whole
    assert times.stages[OTHER].median < 0.05 * times.total.median
    mean_of_parts = sum(spread.mean for spread in times.stages.values())
    assert mean_of_parts == pytest.approx(times.total.mean, rel=1e-6)
    # fps counts every frame's time and the gaps between frames: no more than 1 / mean time
    assert times.fps <= 1000 / times.total.mean


def test_the_resident_memory_figure_follows_this_process():
    before = rss_kib()
    block = np.ones(64 * 1024 * 1024, np.uint8)  # 64 MiB, touched
    grown = rss_kib() - before
    del block
    assert grown >= 60 * 1024


def test_the_soak_measures_a_process_of_its_own():
    result = soak_in_fresh_process(SHIPPED_MODEL, frames=30, seed=1)
    assert result["pid"] != os.getpid() and result["frames"] == 30
    assert len(result["rss_samples_kib"]) == 11 and min(result["rss_samples_kib"]) > 0


def test_bench_with_a_missing_model_is_one_line(tmp_path, capsys):
    assert main(["bench", "--model", str(tmp_path / "none.tflite"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("digitcam bench: ") and err.count("\n") == 1
    assert not (tmp_path / "bench.json").exists()
