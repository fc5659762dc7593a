"""Hostile input files: the fuzz corpus, memory bombs, extreme shapes, FIFOs for files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from device.bench.measure import predict_peak_rss
from device.contract import MetadataError
from device.files.decode import read_picture
from device.model_pair import load_metadata
from device.output.formats import shown_path
from device.vision.reading import scale_box
from tests.conftest import REPO
from tests.hostile_corpus import write_corpus
from tests.hostile_helpers import MODEL, run_digitcam

PEAK_SCRIPT = """
import json, sys
from pathlib import Path
from device.files.batch import read_file
from device.model.interpreter import load_model

def kib(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])

model = load_model(Path(sys.argv[1]))
peaks = {}
for path in sys.argv[2:]:
    open("/proc/self/clear_refs", "w").write("5")  # resets the peak (VmHWM) to now
    base = kib("VmRSS")
    read_file(path, model, 0.5)
    peaks[path] = (kib("VmHWM") - base) / 1024
print(json.dumps(peaks))
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[Path]]:
    directory = tmp_path_factory.mktemp("corpus")
    return directory, write_corpus(directory, count=200)


def test_fuzz_corpus_one_row_per_file_no_traceback_boxes_inside(corpus):
    directory, paths = corpus
    fifo = directory / "fifo.png"
    done = run_digitcam("predict", directory, fifo, "--workers", "2", "--format", "jsonl")
    assert done.returncode == 1, done.stderr
    assert b"Traceback" not in done.stderr
    rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(rows) == len(paths)  # the FIFO once, named; in the folder it is passed over
    errors = {Path(row["path"]).name: row["error"] for row in rows}
    assert errors["fifo.png"] == "not a regular file (a FIFO)"
    assert errors["bomb-rgba.png"].startswith("refused as too large (7000x7000 RGBA")
    assert errors["bomb-16bit.png"].startswith("refused as too large")
    assert errors["bomb-progressive.jpg"].startswith("refused as too large (13000x13000")
    assert errors["empty.png"] == "empty file"
    assert all(errors[name] is None for name in errors if name.startswith(("thin", "tiny")))
    assert errors["bad\\xff-name.png"] is None  # the escaped name, read like any other
    files = {shown_path(str(p)): p for p in paths}
    for row in rows:
        if row["box"] is not None:
            x, y, w, h = row["box"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Pillow on the damaged TIFFs
                with Image.open(files[row["path"]]) as image:
                    width, height = image.size
            assert min(x, y) >= 0 and min(w, h) >= 1, row
            assert x + w <= width and y + h <= height, row


def test_predict_over_the_whole_corpus_stays_under_400_mib(corpus):
    directory, _ = corpus
    peak_kib = predict_peak_rss([directory], MODEL)  # one process reads every file
    assert peak_kib / 1024 <= 400


@pytest.mark.skipif(
    not os.access("/proc/self/clear_refs", os.W_OK), reason="needs /proc/self/clear_refs"
)
def test_no_file_of_the_corpus_takes_more_than_150_mib(corpus):
    directory, paths = corpus
    files = [str(p) for p in paths if p.name != "fifo.png" and p.is_file()]
    done = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(MODEL), *files],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONPATH": str(REPO)},
        errors="surrogateescape",
    )
    assert done.returncode == 0, done.stderr
    peaks = json.loads(done.stdout)
    worst = max(peaks, key=peaks.get)
    assert peaks[worst] <= 150, f"{worst}: {peaks[worst]:.0f} MiB above the baseline"
    assert peaks[str(directory / "big-rgba-within-budget.png")] > 50  # it was really decoded


@pytest.mark.parametrize("size", [(1, 20000), (20000, 1), (3, 60000), (1, 1)])
def test_thin_pictures_answer_cleanly(tmp_path, size):
    grey = np.full(size[::-1], 200, np.uint8)
    grey[::5] = 0
    for fmt, ext in (("JPEG", "jpg"), ("PNG", "png")):
        path = tmp_path / f"thin.{ext}"
        Image.fromarray(grey).save(path, fmt)
        picture = read_picture(path)
        assert picture.size == size and picture.grey.ndim == 2


def test_boxes_are_cut_to_the_picture():
    assert scale_box((630, 470, 20, 20), 1, (640, 480)) == (630, 470, 10, 10)
    assert scale_box((-3, 5, 10, 500), 1, (640, 480)) == (0, 5, 10, 475)


def test_fifos_as_model_or_metadata_block_nothing(tmp_path):
    os.mkfifo(tmp_path / "a.tflite")
    (tmp_path / "a.json").write_text((REPO / "models" / "digitcam.json").read_text())
    with pytest.raises(MetadataError, match=r"a.tflite: cannot read \(not a regular file \(a FIFO"):
        load_metadata(tmp_path / "a.tflite")
    (tmp_path / "b.tflite").write_bytes(MODEL.read_bytes())
    os.mkfifo(tmp_path / "b.json")
    with pytest.raises(MetadataError, match=r"b.json: cannot read \(not a regular file \(a FIFO"):
        load_metadata(tmp_path / "b.tflite")


def test_a_fifo_as_the_watch_folder_blocks_nothing(tmp_path):
    os.mkfifo(tmp_path / "frames.png")
    done = run_digitcam("watch", "--source", f"dir:{tmp_path / 'frames.png'}", timeout=120)
    assert done.returncode == 3 and b"not a regular file (a FIFO)" in done.stderr
