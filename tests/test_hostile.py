"""Hostile inputs and faults, a test per class: memory bombs, dead workers, extreme shapes,
things that block, output that cannot be written, odd file names, Ctrl-C, bad metadata."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from device.bench.measure import predict_peak_rss
from device.contract import MetadataError, load_metadata
from device.files.batch import read_files, worker_plan
from device.files.decode import read_picture
from device.output.formats import (
    Answer,
    FileReading,
    Reporter,
    make_sink,
    shown_path,
)
from device.vision.read import Reading
from device.vision.reading import scale_box
from tests.hostile_corpus import encoded, photo, write_corpus

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "models" / "digitcam.tflite"
MIB = 1 << 20
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


def run_digitcam(*args, **options) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "device", *map(str, args)]
    options.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(command, cwd=REPO, env=env, stderr=subprocess.PIPE, **options)


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


def test_a_dead_worker_costs_its_file_only(tmp_path):
    data = encoded(photo(7), "JPEG")
    paths = []
    for i in range(160):
        paths.append(tmp_path / f"{i:03d}.jpg")
        paths[-1].write_bytes(data)
    for _ in range(3):  # a worker killed before its model loaded had no file to lose: again
        rows = []
        for row in read_files(paths, MODEL, 0.5, workers=2):
            rows.append(row)
            if len(rows) == 20:
                os.kill(multiprocessing.active_children()[0].pid, signal.SIGKILL)
        assert [row.path for row in rows] == [str(p) for p in paths]
        assert not multiprocessing.active_children()  # the pool, replacement included, is gone
        dead = [row for row in rows if row.error is not None]
        assert all(row.reading.digit == 7 for row in rows if row.error is None)
        if dead:
            break
    assert len(dead) == 1 and dead[0].error.startswith("the reader died (killed by SIGKILL")


def session_members(sid: int) -> list[int]:
    """The processes still alive in session sid (field 6 of /proc/PID/stat)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def predict_reading(folder: Path) -> subprocess.Popen:
    """`predict --workers 2` on 2,000 photos, in a session of its own, once it has answered
    (its workers are reading)."""
    data = encoded(photo(3), "JPEG")
    for i in range(2000):
        (folder / f"{i:04d}.jpg").write_bytes(data)
    command = [sys.executable, "-m", "device", "predict", str(folder), "--workers", "2"]
    predict = subprocess.Popen(
        [*command, "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert predict.stdout.readline()
    return predict


def test_workers_exit_when_predict_is_killed(tmp_path):
    """SIGKILL to predict (the out-of-memory killer, systemd's last resort) leaves no reader
    behind: each worker sees its pipe close and exits."""
    predict = predict_reading(tmp_path)
    assert len(session_members(predict.pid)) >= 3
    predict.kill()
    predict.communicate()
    for _ in range(50):
        if not session_members(predict.pid):
            break
        time.sleep(0.1)
    assert session_members(predict.pid) == []


def test_sigterm_stops_predict_like_ctrl_c(tmp_path):
    """kill, timeout or systemd: one line and exit 130, no worker tracebacks."""
    predict = predict_reading(tmp_path)
    predict.terminate()
    out, err = predict.communicate(timeout=60)
    assert predict.returncode == 130
    assert err.splitlines()[-1] == "digitcam predict: interrupted" and "Traceback" not in err


def test_workers_are_capped_by_cores_and_memory(monkeypatch):
    import device.files.batch as batch

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(batch, "available_mib", lambda: 10_000.0)
    assert worker_plan(2, 1000) == (2, None)
    workers, note = worker_plan(16, 1000)
    assert workers == 2 and note.startswith("--workers 16 lowered to 2 (2 core(s)")
    monkeypatch.setattr(batch, "available_mib", lambda: 1.5 * batch.WORKER_MIB)
    workers, note = worker_plan(2, 1000)
    assert workers == 1 and "MiB of memory available" in note
    assert worker_plan(None, 1000)[0] == 1


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


def test_output_that_cannot_be_written_is_one_line_and_exit_74(tmp_path):
    picture = tmp_path / "seven.jpg"
    picture.write_bytes(encoded(photo(7), "JPEG"))
    with open("/dev/full", "wb") as full:
        done = run_digitcam("predict", picture, stdout=full)
        assert done.returncode == 74 and b"Traceback" not in done.stderr
        assert done.stderr.decode().strip().splitlines() == [
            "digitcam predict: cannot write the output (No space left on device); stopped"
        ]
        done = run_digitcam("watch", "--source", f"dir:{tmp_path}", "--stable", "1", stdout=full)
        assert done.returncode == 74 and b"Traceback" not in done.stderr
        assert b"1 answer(s) could not be written" in done.stderr


@pytest.mark.parametrize("fmt", ["csv", "table", "jsonl"])
def test_a_closed_pipe_stops_quietly(tmp_path, fmt):
    picture = tmp_path / "seven.jpg"
    picture.write_bytes(encoded(photo(7), "JPEG"))
    read, write = os.pipe()
    os.close(read)
    try:
        done = run_digitcam("predict", picture, "--format", fmt, stdout=write)
    finally:
        os.close(write)
    assert done.returncode == 1 and done.stderr == b""


def test_non_utf8_names_are_escaped_the_same_in_every_format():
    name = os.fsdecode(b"photos/bad\xff\n.png")
    reading = Reading(3, 0.99, (1, 2, 3, 4), None, "read")
    assert shown_path(name) == "photos/bad\\xff\n.png"
    outputs = {}
    for fmt in ("jsonl", "csv", "table"):
        raw = io.BytesIO()
        stream = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="")
        sink = make_sink(fmt, stream)
        sink.write(FileReading(name, reading, None))
        stream.flush()
        outputs[fmt] = raw.getvalue().decode("utf-8")
    assert json.loads(outputs["jsonl"])["path"] == "photos/bad\\xff\n.png"
    assert '"photos/bad\\xff\n.png"' in outputs["csv"]  # CSV quotes the newline
    assert outputs["table"].splitlines()[1].endswith("photos/bad\\xff\\x0a.png")
    assert len(outputs["table"].splitlines()) == 2  # header and one row


class FullDisk(io.StringIO):
    def __init__(self):
        super().__init__()
        self.full = True

    def flush(self):
        if self.full:
            raise OSError(28, "No space left on device")


def test_watch_keeps_reading_when_the_log_is_full_and_retries_slowly(capsys):
    now = [0.0]
    stream = FullDisk()
    reporter = Reporter("jsonl", stream, clock=lambda: now[0])
    frame = np.zeros((4, 4), np.uint8)
    for second in range(0, 70, 5):  # an answer every 5 s; the disk is full for the first 40
        now[0] = float(second)
        stream.full = second < 40
        reporter(Answer(second, second, Reading(1, 0.9, None, None, "read"), None), frame)
    err = capsys.readouterr().err.splitlines()
    # tried at 0 and at 30 (full), not again before 60: the 12 answers from 0 to 55 are lost
    assert err[0].startswith("digitcam watch: cannot write answers (No space left on device)")
    assert err[1:] == ["digitcam watch: answers written again (12 lost meanwhile)"]
    assert reporter.failure is None and reporter.lost == 12
    assert json.loads(stream.getvalue().splitlines()[-1])["t"] == 65


def test_ctrl_c_during_the_backend_search_is_not_a_broken_backend(monkeypatch, request):
    import importlib

    from device.model import interpreter

    def interrupted_import(name):
        os.kill(os.getpid(), signal.SIGINT)  # arrives while "importing"...
        raise ImportError("initialization failed")  # ...which then looks like a broken wheel

    monkeypatch.setattr(importlib, "import_module", interrupted_import)
    # Ctrl-C as in a terminal, even when the tests run as a background job (SIGINT ignored)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))
    with pytest.raises(KeyboardInterrupt):
        interpreter.find_backend()


def test_a_full_disk_leaves_no_truncated_snapshot_or_crop(tmp_path, monkeypatch):
    from device.files.batch import save_model_input
    from device.output.snapshots import save_snapshot

    real_write = Path.write_bytes

    def full_disk(path, data):
        real_write(path, data[:100])  # what fitted
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    reading = Reading(3, 0.99, (1, 2, 3, 4), np.zeros((28, 28), np.uint8), "read")
    with pytest.raises(OSError, match="No space left on device: .*jpg"):
        save_snapshot(tmp_path, Answer(0.0, 1, reading, None), np.zeros((48, 64), np.uint8))
    with pytest.raises(OSError, match="No space left on device: .*png"):
        save_model_input(FileReading("a.jpg", reading, None), 0, tmp_path)
    assert list(tmp_path.iterdir()) == []
