"""The Raspberry Pi camera as a frame source: picamera2's small YUV420 stream, Y plane only."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from concurrent.futures import TimeoutError as FutureTimeout

import numpy as np

from device.live.board import picamera2_advice, raspberry_pi_model
from device.live.frames import CameraBusy, CameraStopped, FrameSource, NoCamera, SourceError
from device.live.spec import CAMERA_RETRIES as RETRIES

SIZE = (640, 480)  # width, height of the stream read: the pipeline works at ~320 px anyway
# 10-30 fps: in dim light the exposure may grow to 100 ms rather than the gain (and noise).
FRAME_DURATION_US = (33_333, 100_000)
SETTLE_FRAMES = 30  # at most this many frames (about a second) for the exposure to settle
FRAME_TIMEOUT_S = 2.0  # a frame later than this counts as a failed capture
BUSY_HINTS = ("busy", "acquire")
AE_CONVERGED = 2  # libcamera's AeStateConverged


def import_picamera2():
    """The picamera2 module, or SourceError saying how to install it."""
    try:
        return importlib.import_module("picamera2")
    except ImportError:
        if raspberry_pi_model() is None:
            raise SourceError(
                "picamera2 is not installed (this is not a Raspberry Pi): "
                "try --source synthetic or --source dir:FOLDER"
            ) from None
        raise SourceError(f"picamera2 is not installed: {picamera2_advice()}") from None
    except Exception as exc:  # built against another numpy: ValueError and friends
        first_line = f"{type(exc).__name__}: {exc}".splitlines()[0]
        raise SourceError(
            f"picamera2 fails to import ({first_line}): this environment's numpy is not the "
            "python3-numpy picamera2 was built for; make the venv with --system-site-packages "
            "and without its own numpy ('make deploy' does)"
        ) from None


def list_cameras(picamera2) -> list[dict]:
    """The cameras libcamera sees, or NoCamera with a one-line reason."""
    try:
        cameras = picamera2.Picamera2.global_camera_info()
    except Exception as exc:
        raise NoCamera(f"cannot list cameras ({exc})".splitlines()[0]) from None
    if not cameras:
        raise NoCamera(
            "no camera found: check the ribbon cable (contacts the right way round), "
            "then 'rpicam-hello --list-cameras'"
        )
    return cameras


def open_camera(picamera2):
    """A Picamera2 for camera 0; NoCamera or CameraBusy with a one-line reason."""
    list_cameras(picamera2)
    try:
        return picamera2.Picamera2()
    except IndexError:
        raise NoCamera("no camera 0 found: 'rpicam-hello --list-cameras' lists them") from None
    except RuntimeError as exc:
        # picamera2 often hides libcamera's "Device or resource busy" behind a generic
        # "did not complete"; with a camera listed, being in use is by far the likeliest cause.
        reason = str(exc).splitlines()[0] if str(exc) else "RuntimeError"
        raise CameraBusy(
            f"the camera cannot be opened, probably in use by another process ({reason}): "
            "stop it ('sudo systemctl stop digitcam', or close rpicam-*/libcamera apps)"
        ) from None


def y_plane(yuv420: np.ndarray, width: int, height: int) -> np.ndarray:
    """The grey image in a planar YUV420 buffer of (height * 3 / 2, stride) bytes: its first
    `height` rows, without the padding at the end of each row; a copy the camera cannot reuse."""
    return np.ascontiguousarray(yuv420[:height, :width])


def is_settled(metadata: dict) -> bool:
    """True once auto-exposure has converged (older libcamera: AeLocked, newer: AeState)."""
    return bool(metadata.get("AeLocked")) or metadata.get("AeState") == AE_CONVERGED


class PicameraSource(FrameSource):
    """Camera 0 through picamera2, configured for a small grey stream and released on close()."""

    def __init__(self, size: tuple[int, int] = SIZE):
        self.size = size
        self.camera = open_camera(import_picamera2())
        try:
            self._start()
        except BaseException:  # Ctrl-C while settling too: never leave the camera held
            self.close()
            raise
        model = self.camera.camera_properties.get("Model", "camera")
        self.description = f"Raspberry Pi camera {model} at {size[0]}x{size[1]}"

    def _start(self) -> None:
        config = self.camera.create_preview_configuration(
            main={"size": self.size},
            lores={"size": self.size, "format": "YUV420"},
            controls={"FrameDurationLimits": FRAME_DURATION_US},
        )
        try:
            self.camera.configure(config)
            self.camera.start()
            for _ in range(SETTLE_FRAMES):
                if is_settled(self.camera.capture_metadata(wait=FRAME_TIMEOUT_S)):
                    break
        except (TimeoutError, FutureTimeout):
            raise CameraStopped("the camera started but delivers no frames") from None
        except RuntimeError as exc:
            raise SourceError(f"the camera cannot be started ({exc})".splitlines()[0]) from None

    def capture(self) -> np.ndarray:
        """The next frame's Y plane; CameraStopped after RETRIES failed captures in a row."""
        problem = "no frame"
        for _ in range(RETRIES):
            try:
                yuv = self.camera.capture_array("lores", wait=FRAME_TIMEOUT_S)
                return y_plane(yuv, *self.size)
            except (TimeoutError, FutureTimeout):
                problem = f"no frame for {FRAME_TIMEOUT_S:g} s"
            except RuntimeError as exc:
                problem = str(exc).splitlines()[0] if str(exc) else "RuntimeError"
        raise CameraStopped(
            f"the camera stopped delivering frames ({problem}, {RETRIES} tries): "
            "check the cable and the power supply"
        )

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            yield self.capture()

    def close(self) -> None:
        camera, self.camera = self.camera, None
        if camera is None:
            return
        with contextlib.suppress(Exception):  # shutting down: a failed close frees nothing more
            camera.close()  # stops it too
