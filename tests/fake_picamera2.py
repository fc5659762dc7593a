"""A stand-in for the picamera2 module, put in sys.modules by tests: records what it is asked."""

from __future__ import annotations

import types

import numpy as np

STRIDE_PADDING = 64  # bytes at the end of each row, as the ISP may leave them


def yuv420(grey: np.ndarray) -> np.ndarray:
    """A planar YUV420 buffer as picamera2 returns it: (H * 3 / 2, stride) with padded rows;
    chroma and padding filled with values a correct Y-plane reader never returns."""
    rows, cols = grey.shape
    buffer = np.full((rows * 3 // 2, cols + STRIDE_PADDING), 77, np.uint8)
    buffer[:rows, :cols] = grey
    buffer[:rows, cols:] = 11
    return buffer


class Camera:
    """One opened camera. frames: Y planes to deliver in turn, then `after` (an exception
    class to raise on every later capture, or None to start over)."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.config = None
        self.started = self.closed = False
        self.metadata_calls = 0
        self.captures: list[tuple[str, object]] = []  # (stream name, wait) of each capture
        self.delivered = 0
        self.camera_properties = {"Model": "fake-imx708"}
        plan.opened.append(self)

    def create_preview_configuration(self, **kwargs) -> dict:
        return {"kind": "preview", **kwargs}

    def create_video_configuration(self, **kwargs) -> dict:
        return {"kind": "video", **kwargs}

    def configure(self, config: dict) -> None:
        self.config = config

    def start(self) -> None:
        if self.plan.start_error is not None:
            raise self.plan.start_error
        self.started = True

    def capture_metadata(self, wait=None) -> dict:
        self.metadata_calls += 1
        if self.plan.settle_interrupt:
            raise KeyboardInterrupt
        return {"AeLocked": self.metadata_calls >= self.plan.settle_after}

    def capture_array(self, name: str = "main", wait=None) -> np.ndarray:
        self.captures.append((name, wait))
        failure = self.plan.failures.pop(0) if self.plan.failures else None
        if failure is not None:
            raise failure
        if self.delivered >= len(self.plan.frames):
            if self.plan.after is not None:
                raise self.plan.after("no frame")
            self.delivered = 0
        grey = self.plan.frames[self.delivered]
        self.delivered += 1
        return yuv420(grey)

    def close(self) -> None:
        self.closed = True


class Plan:
    """What the fake module will do; `opened` collects every Camera made."""

    def __init__(
        self,
        frames: list[np.ndarray] | None = None,
        cameras: int = 1,
        open_error: Exception | None = None,
        start_error: Exception | None = None,
        after: type[Exception] | None = None,
        failures: list[Exception | None] | None = None,
        settle_after: int = 3,
        settle_interrupt: bool = False,
    ):
        self.frames = frames if frames is not None else [np.full((480, 640), 200, np.uint8)]
        self.cameras, self.open_error, self.after = cameras, open_error, after
        self.start_error = start_error
        self.failures = list(failures or [])  # per capture: an exception to raise, or None
        self.settle_after, self.settle_interrupt = settle_after, settle_interrupt
        self.opened: list[Camera] = []


def module(plan: Plan) -> types.ModuleType:
    """A module object that `import picamera2` can return."""
    fake = types.ModuleType("picamera2")

    class Picamera2(Camera):
        def __init__(self, camera_num: int = 0):
            if plan.open_error is not None:
                raise plan.open_error
            super().__init__(plan)

        @staticmethod
        def global_camera_info() -> list[dict]:
            return [{"Model": "fake-imx708", "Id": f"/base/{i}"} for i in range(plan.cameras)]

    fake.Picamera2 = Picamera2
    return fake
