"""Output under faults: full disks, closed pipes, non-UTF-8 names alike in every format."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

from device.output.formats import Answer, FileReading, Reporter, make_sink, shown_path
from device.vision.read import Reading
from tests.hostile_corpus import encoded, photo
from tests.hostile_helpers import run_digitcam


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
