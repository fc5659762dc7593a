"""Frame sources: --source parsing, a folder, synthetic paper, and picamera2 (faked)."""

from __future__ import annotations

import argparse
import itertools
import sys

import numpy as np
import pytest
from PIL import Image

from device.live import camera
from device.live.frames import SourceError
from device.live.sources import FolderSource, SyntheticSource, open_source
from device.live.spec import (
    EXIT_CAMERA_BUSY,
    EXIT_CAMERA_STOPPED,
    EXIT_NO_CAMERA,
    EXIT_UNAVAILABLE,
    SourceSpec,
    parse_source,
)
from tests.fake_picamera2 import Plan

# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, spec",
    [
        ("picamera", SourceSpec("picamera", "")),
        ("synthetic", SourceSpec("synthetic", "")),
        ("dir:frames", SourceSpec("dir", "frames")),
        ("dir:/a/b:c", SourceSpec("dir", "/a/b:c")),
    ],
)
def test_source_specs_parse(text, spec):
    assert parse_source(text) == spec


@pytest.mark.parametrize(
    "text, words",
    [
        ("video:clip.mp4", "not supported"),
        ("v4l2:0", "not supported"),
        ("webcam", "unknown source"),
        ("dir:", "needs a folder"),
        ("synthetic:3", "takes no argument"),
    ],
)
def test_bad_source_specs_say_why(text, words):
    with pytest.raises(argparse.ArgumentTypeError, match=words):
        parse_source(text)


# --- a folder -----------------------------------------------------------------------------------


def write_frames(folder, values, size=(40, 30)):
    folder.mkdir(exist_ok=True)
    for i, value in enumerate(values):
        Image.new("L", size, value).save(folder / f"{i:03d}.png")


def levels(frames):
    return [int(frame[0, 0]) for frame in frames]


def test_folder_plays_pictures_in_name_order_as_grey(tmp_path):
    write_frames(tmp_path, [10, 20, 30])
    Image.new("RGB", (40, 30), (90, 90, 90)).save(tmp_path / "004.jpg")
    frames = list(FolderSource(tmp_path))
    assert levels(frames) == [10, 20, 30, 90]
    assert all(f.ndim == 2 and f.dtype == np.uint8 for f in frames)


def test_folder_loops_only_when_asked(tmp_path):
    write_frames(tmp_path, [10, 20])
    assert levels(itertools.islice(FolderSource(tmp_path, loop=True), 5)) == [10, 20, 10, 20, 10]
    assert levels(FolderSource(tmp_path, loop=False)) == [10, 20]


def test_folder_skips_a_damaged_picture_with_a_warning(tmp_path, capsys):
    write_frames(tmp_path, [10, 20])
    (tmp_path / "001.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    assert levels(FolderSource(tmp_path)) == [10]
    assert "001.png" in capsys.readouterr().err


@pytest.mark.parametrize("loop", [True, False])
def test_folder_of_unreadable_pictures_is_unavailable(tmp_path, loop):
    (tmp_path / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(SourceError, match="could be read"):
        list(itertools.islice(FolderSource(tmp_path, loop=loop), 3))


def test_empty_or_missing_folder_is_unavailable(tmp_path):
    (tmp_path / "notes.txt").write_text("no pictures here")
    for path in (tmp_path, tmp_path / "missing"):
        with pytest.raises(SourceError) as caught:
            FolderSource(path)
        assert caught.value.exit_code == EXIT_UNAVAILABLE
        assert str(path) in str(caught.value)


def test_open_source_gives_the_folder(tmp_path):
    write_frames(tmp_path, [50])
    with open_source(SourceSpec("dir", str(tmp_path))) as source:
        assert levels(source) == [50]


# --- synthetic paper ----------------------------------------------------------------------------


def take(source, count):
    return list(itertools.islice(source, count))


def test_synthetic_is_seeded():
    first = take(SyntheticSource(seed=4, hold=1, size=(120, 160)), 3)
    again = take(SyntheticSource(seed=4, hold=1, size=(120, 160)), 3)
    other = take(SyntheticSource(seed=5, hold=1, size=(120, 160)), 3)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_synthetic_holds_each_scene_then_moves_on():
    frames = take(SyntheticSource(seed=1, hold=3, size=(120, 160)), 6)
    assert all(f.shape == (120, 160) and f.dtype == np.uint8 for f in frames)
    assert np.array_equal(frames[0], frames[2])
    assert not np.array_equal(frames[2], frames[3])


def test_synthetic_pool_cycles_its_scenes():
    frames = take(SyntheticSource(seed=2, hold=1, pool=2, size=(120, 160)), 4)
    assert np.array_equal(frames[0], frames[2]) and np.array_equal(frames[1], frames[3])
    assert not np.array_equal(frames[0], frames[1])


def test_synthetic_draws_digits_and_blank_paper():
    digits = [s.digit for s in take(SyntheticSource(seed=0, size=(120, 160)).scenes(), 30)]
    assert None in digits
    assert set(digits) - {None} <= set(range(10)) and len(set(digits)) > 3
    blank = SyntheticSource(seed=0, size=(120, 160), blank_share=1.0)
    assert {s.digit for s in take(blank.scenes(), 5)} == {None}


# --- the Raspberry Pi camera, with picamera2 faked ----------------------------------------------


def picamera():
    return open_source(SourceSpec("picamera", ""))


def test_picamera_reads_the_grey_plane_of_the_small_yuv_stream(fake_camera):
    scene = np.arange(480 * 640, dtype=np.uint32).reshape(480, 640).astype(np.uint8)
    plan = fake_camera(Plan(frames=[scene, 255 - scene]))
    with picamera() as source:
        frames = take(source, 2)
    (opened,) = plan.opened
    assert opened.config["lores"] == {"size": (640, 480), "format": "YUV420"}
    assert opened.started and opened.closed
    assert {name for name, _ in opened.captures} == {"lores"}
    assert all(wait is not None for _, wait in opened.captures)  # a stalled camera is noticed
    assert np.array_equal(frames[0], scene) and np.array_equal(frames[1], 255 - scene)
    assert frames[0].flags.c_contiguous


def test_picamera_waits_for_the_exposure_to_settle(fake_camera):
    plan = fake_camera(Plan(settle_after=4))
    with picamera() as source:
        take(source, 1)
    assert plan.opened[0].metadata_calls == 4


def test_picamera_released_when_interrupted_while_settling(fake_camera):
    plan = fake_camera(Plan(settle_interrupt=True))
    with pytest.raises(KeyboardInterrupt):
        picamera()
    assert plan.opened[0].closed


def test_missing_picamera2_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", None)  # makes the import fail
    monkeypatch.setattr(camera, "raspberry_pi_model", lambda: "Raspberry Pi 4 Model B")
    with pytest.raises(SourceError) as caught:
        picamera()
    assert caught.value.exit_code == EXIT_UNAVAILABLE
    assert "sudo apt install python3-picamera2" in str(caught.value)


def test_missing_picamera2_off_a_pi_points_to_other_sources(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", None)
    monkeypatch.setattr(camera, "raspberry_pi_model", lambda: None)
    with pytest.raises(SourceError, match="--source synthetic"):
        picamera()


@pytest.mark.parametrize(
    "plan",
    [Plan(cameras=0), Plan(open_error=IndexError("list index out of range"))],
    ids=["none listed", "index error"],
)
def test_no_camera(fake_camera, plan):
    fake_camera(plan)
    with pytest.raises(SourceError) as caught:
        picamera()
    assert caught.value.exit_code == EXIT_NO_CAMERA
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "message",
    [
        "Failed to acquire camera: Device or resource busy",
        "Camera __init__ sequence did not complete.",
    ],
)
def test_busy_camera(fake_camera, message):
    fake_camera(Plan(open_error=RuntimeError(message)))
    with pytest.raises(SourceError) as caught:
        picamera()
    assert caught.value.exit_code == EXIT_CAMERA_BUSY
    assert "another process" in str(caught.value)


def test_camera_that_will_not_start_is_released_and_unavailable(fake_camera):
    plan = fake_camera(Plan(start_error=RuntimeError("Failed to start camera")))
    with pytest.raises(SourceError) as caught:
        picamera()
    assert caught.value.exit_code == EXIT_UNAVAILABLE and "cannot be started" in str(caught.value)
    assert plan.opened[0].closed


@pytest.mark.parametrize("failure", [TimeoutError, RuntimeError])
def test_camera_that_stops_delivering_frames_gives_up_after_retries(fake_camera, failure):
    plan = fake_camera(Plan(frames=[np.zeros((480, 640), np.uint8)] * 2, after=failure))
    with picamera() as source, pytest.raises(SourceError) as caught:
        take(source, 10)
    assert caught.value.exit_code == EXIT_CAMERA_STOPPED
    assert len(plan.opened[0].captures) == 2 + camera.RETRIES
    assert plan.opened[0].closed


def test_one_late_frame_is_retried_not_fatal(fake_camera):
    fake_camera(Plan(failures=[None, TimeoutError("late"), None]))
    with picamera() as source:
        assert len(take(source, 3)) == 3
