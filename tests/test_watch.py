"""`digitcam watch`: answers from frames, output formats, snapshots, stopping, exit codes."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from device.cli import main
from device.commands.common import default_model_path
from device.files.decode import read_picture
from device.live import camera
from device.live.loop import FpsMeter, watch
from device.live.spec import EXIT_CAMERA_BUSY, EXIT_CAMERA_STOPPED
from device.model.interpreter import load_model
from device.model.selftest import builtin_digit
from device.output.snapshots import READ_COLOUR, annotate
from device.synthetic.photos import font_digit, photo_of_digit, photo_without_digit
from device.vision.read import Reading
from tests.conftest import REPO
from tests.fake_picamera2 import Plan

JSONL_KEYS = {"t", "text", "digit", "confidence", "box", "digits", "rejected", "crowded", "fps"}
SCENE_DIGITS = [7, None, 3]  # what the folder below shows, each for FRAMES_PER_SCENE frames
FRAMES_PER_SCENE = 4


def grey(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).convert("L"))


@pytest.fixture(scope="module")
def scenes() -> list[np.ndarray]:
    """640x480 photos: MNIST's 7 handwritten on paper, blank paper, a drawn 3."""
    rng = np.random.default_rng(0)
    return [
        grey(photo_of_digit(builtin_digit(), rng)),
        grey(photo_without_digit(rng, "blank")),
        grey(photo_of_digit(font_digit(3, rng), rng)),
    ]


@pytest.fixture(scope="module")
def folder(tmp_path_factory, scenes):
    """Each scene as FRAMES_PER_SCENE numbered PNG frames, as a still camera would see them."""
    path = tmp_path_factory.mktemp("frames")
    for i in range(len(scenes) * FRAMES_PER_SCENE):
        Image.fromarray(scenes[i // FRAMES_PER_SCENE]).save(path / f"{i:04d}.png")
    return path


@pytest.fixture(scope="module")
def model():
    return load_model(default_model_path())


def watch_folder(folder, capsys, *options):
    code = main(["watch", "--source", f"dir:{folder}", *options])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def jsonl(lines):
    return [json.loads(line) for line in lines]


def test_each_stable_answer_is_reported_once_in_order(folder, capsys):
    code, lines, err = watch_folder(folder, capsys, "--format", "jsonl")
    assert code == 0
    assert [a["digit"] for a in jsonl(lines)] == SCENE_DIGITS
    assert "no more frames after 12 frame(s)" in err and "Traceback" not in err


def test_jsonl_answers_have_the_documented_shape(folder, capsys):
    _, lines, _ = watch_folder(folder, capsys, "--format", "jsonl")
    seven, blank, three = jsonl(lines)
    for answer in (seven, blank, three):
        assert set(answer) == JSONL_KEYS
        assert abs(answer["t"] - time.time()) < 600
        assert answer["fps"] is None or answer["fps"] > 0
    assert 0.5 <= seven["confidence"] <= 1 and 0.5 <= three["confidence"] <= 1
    assert len(seven["box"]) == 4 and all(isinstance(v, int) for v in seven["box"])
    assert blank["box"] is None and blank["confidence"] is None


def test_text_lines_say_the_answer(folder, capsys):
    _, lines, _ = watch_folder(folder, capsys, "--format", "text")
    assert len(lines) == 3
    assert lines[0].split()[1] == "7" and "no digit" in lines[1] and lines[2].split()[1] == "3"


def test_answers_shorter_than_stable_are_not_reported(folder, capsys):
    _, lines, _ = watch_folder(folder, capsys, "--stable", str(FRAMES_PER_SCENE + 1))
    assert lines == []


def test_stable_one_reports_on_the_first_frame(folder, capsys):
    _, lines, _ = watch_folder(folder, capsys, "--stable", "1", "--frames", "1")
    assert [a["digit"] for a in jsonl(lines)] == [7]


def test_frames_stops_after_that_many(folder, capsys):
    code, lines, err = watch_folder(folder, capsys, "--frames", "6")
    assert code == 0
    assert [a["digit"] for a in jsonl(lines)] == [7]  # the blank paper lasted 2 frames of 3
    assert "done after 6 frame(s)" in err


def test_watch_takes_no_frame_beyond_max_frames(scenes, model):
    taken = []

    def frames():
        while True:
            taken.append(1)
            yield scenes[0]

    answers = []
    tally = watch(frames(), model, lambda a, g: answers.append(a), stable=2, max_frames=5)
    assert tally.frames == 5 and len(taken) == 5
    assert [(a.frame, a.reading.digit) for a in answers] == [(2, 7)]


def test_save_keeps_an_annotated_snapshot_per_answer(folder, capsys, tmp_path):
    shots = tmp_path / "shots" / "new"
    _, lines, _ = watch_folder(folder, capsys, "--save", str(shots))
    files = sorted(shots.iterdir(), key=lambda p: p.name.split("-")[2])
    assert len(files) == len(lines) == 3
    assert [f.name.rsplit("-", 1)[1] for f in files] == [
        "digit7.jpg",
        "nodigit.jpg",
        "digit3.jpg",
    ]
    frame = read_picture(folder / "0000.png").grey  # as the folder source gives it
    with Image.open(files[0]) as image:
        assert image.format == "JPEG" and image.mode == "RGB"
        assert image.size == (frame.shape[1], frame.shape[0])


def test_annotation_boxes_the_digit_and_shows_the_model_input(scenes):
    box = (100, 120, 60, 80)
    reading = Reading(7, 0.99, box, np.full((28, 28), 255, np.uint8), "read")
    picture = np.asarray(annotate(scenes[1], reading))
    assert picture.shape == (480, 640, 3)
    assert tuple(picture[150, 100]) == READ_COLOUR  # the box's left edge
    assert tuple(picture[20, 600]) == (255, 255, 255)  # the white 28x28 inset, top right


def test_fps_meter_counts_frames_per_second_of_given_times():
    meter = FpsMeter(window=3)
    assert [meter.tick(t) for t in (0.0, 0.1, 0.2)] == [None, pytest.approx(10), pytest.approx(10)]
    assert meter.tick(0.6) == pytest.approx(2 / 0.5)  # only the last 3 frames count


def test_unusable_model_is_one_line_and_exit_2(folder, capsys, tmp_path):
    code, lines, err = watch_folder(folder, capsys, "--model", str(tmp_path / "none.tflite"))
    assert code == 2 and lines == []
    assert len(err.strip().splitlines()) == 1 and "none.json" in err


def test_save_folder_that_cannot_be_made_is_exit_2(folder, capsys, tmp_path):
    (tmp_path / "file").write_text("")
    code, _, err = watch_folder(folder, capsys, "--save", str(tmp_path / "file" / "shots"))
    assert code == 2 and "cannot create" in err


# --- the camera, faked, through the command ------------------------------------------------------


def watch_camera(capsys, *options):
    code = main(["watch", "--source", "picamera", "--format", "jsonl", *options])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_camera_frames_are_read_and_the_camera_released(fake_camera, scenes, capsys):
    plan = fake_camera(Plan(frames=[scenes[0]]))
    code, lines, err = watch_camera(capsys, "--frames", "4")
    assert code == 0 and [a["digit"] for a in jsonl(lines)] == [7]
    assert plan.opened[0].closed and "source closed" in err


def test_busy_camera_is_one_line_and_its_own_exit_code(fake_camera, capsys):
    fake_camera(Plan(open_error=RuntimeError("Failed to acquire camera: Device or resource busy")))
    code, lines, err = watch_camera(capsys)
    assert code == EXIT_CAMERA_BUSY and lines == []
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_camera_that_stops_is_released_with_its_exit_code(fake_camera, scenes, capsys):
    plan = fake_camera(Plan(frames=[scenes[0]] * 5, after=TimeoutError))
    code, lines, err = watch_camera(capsys)
    assert code == EXIT_CAMERA_STOPPED
    assert [a["digit"] for a in jsonl(lines)] == [7]  # answers before it stopped were kept
    assert f"{camera.RETRIES} tries" in err and plan.opened[0].closed


# --- a real process: stopping with signals, a closed pipe ----------------------------------------


def start_watch(*options) -> subprocess.Popen:
    command = [sys.executable, "-m", "device", "watch", "--source", "synthetic", *options]
    env = {**os.environ, "PYTHONUNBUFFERED": ""}  # the flushing must not depend on it
    return subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as in a terminal, even when the tests run as a background job (which starts
        # with SIGINT ignored, and Python then keeps it ignored)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def first_line(process: subprocess.Popen, timeout: float = 120) -> str:
    """The first stdout line, which arrives only if watch flushes each answer."""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            process.kill()
            pytest.fail("watch wrote no answer (not flushed?)")
    return process.stdout.readline()


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly_with_whole_lines(number):
    process = start_watch("--format", "jsonl", "--stable", "1")
    first = first_line(process)
    process.send_signal(number)
    rest, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    answers = jsonl([first, *rest.splitlines()])
    assert all(set(a) == JSONL_KEYS for a in answers)
    assert "Traceback" not in err and "stopped after" in err and "source closed" in err


def test_closed_output_pipe_stops_quietly():
    process = start_watch("--format", "jsonl", "--stable", "1")
    json.loads(first_line(process))
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "output closed" in err
