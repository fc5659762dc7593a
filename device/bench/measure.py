"""Timing and memory measurements behind `digitcam bench`: each returns plain numbers."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from device.contract import DEFAULT_MIN_CONFIDENCE
from device.model.interpreter import DigitModel, load_model
from device.vision.read import read_digit

REPO = Path(__file__).resolve().parents[2]
KERAS_MODEL = REPO / "build" / "train" / "model.keras"


@dataclass(frozen=True)
class Spread:
    """Summary of repeated timings, in milliseconds."""

    median: float
    p99: float
    minimum: float
    maximum: float
    mean: float
    runs: int

    @classmethod
    def of(cls, seconds: np.ndarray) -> Spread:
        ms = np.asarray(seconds, np.float64) * 1e3
        return cls(
            float(np.median(ms)), float(np.percentile(ms, 99)), float(ms.min()), float(ms.max()),
            float(ms.mean()), len(ms),
        )  # fmt: skip


def time_calls(call: Callable[[], object], runs: int, warmup: int = 20) -> Spread:
    for _ in range(warmup):
        call()
    seconds = np.empty(runs)
    for i in range(runs):
        begin = time.perf_counter()
        call()
        seconds[i] = time.perf_counter() - begin
    return Spread.of(seconds)


def peak_rss_after_load(model_path: Path) -> int:
    """Peak resident memory (KiB) of a fresh Python that loads the model and answers once."""
    code = (
        "import sys, numpy as np\n"
        "from device.model.interpreter import load_model\n"
        "load_model(sys.argv[1]).scores(np.zeros((28, 28), np.uint8))\n"
        # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child started from a
        # large process (pytest, the bench itself) would report that process's size.
        "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(model_path)],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    return int(out.stdout.split()[-1])


# Runs a digitcam command, then prints its own peak memory (VmHWM, KiB) as stderr's last line.
# Not ru_maxrss: Linux carries that over exec, so a child reports its parent's size at fork.
PEAK_RSS_WRAPPER = """
import sys
from device.cli import main
try:
    code = main(sys.argv[1:])
finally:
    status = open("/proc/self/status").read()
    print(status.split("VmHWM:")[1].split()[0], file=sys.stderr)
sys.exit(code)
"""


def predict_peak_rss(paths: list[Path], model_path: Path) -> int:
    """Peak resident memory (KiB) of `digitcam predict` (one process) reading `paths`."""
    command = [sys.executable, "-c", PEAK_RSS_WRAPPER, "predict", "--workers", "1"]
    command += ["--format", "jsonl", "--model", str(model_path), *map(str, paths)]
    done = subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return int(done.stderr.split()[-1])


def largest_decoded_picture(folder: Path) -> Path:
    """A blank RGBA PNG just inside the decode budget: the most memory one file may take."""
    from device.files.decode import DECODE_BUDGET

    side = int((DECODE_BUDGET * 0.95 / 4) ** 0.5)
    path = folder / f"largest-{side}x{side}.png"
    Image.new("RGBA", (side, side), (255, 255, 255, 255)).save(path, compress_level=1)
    return path


def mnist_accuracy(model: DigitModel, images: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(model.classes(images) == labels))


def interpreter_latency(model_path: Path, digit: np.ndarray, threads: int, runs: int) -> Spread:
    model = load_model(model_path, threads)
    return time_calls(lambda: model.scores(digit), runs)


STAGES = ("threshold", "components", "segment and classify")
OTHER = "other"  # frame time outside every named stage: small, or a stage is not timed


@dataclass(frozen=True)
class PipelineTimes:
    stages: dict[str, Spread]  # each of STAGES and OTHER, per frame (0 where a frame skips it)
    total: Spread  # one frame to one answer
    fps: float  # frames over the wall time of the whole timed run


def pipeline_stages(model: DigitModel, frames: list[np.ndarray], runs: int) -> PipelineTimes:
    """Per-frame time of each pipeline stage and of the whole frame -> answer."""
    for frame in frames:  # warm-up: each frame once
        read_digit(frame, model, DEFAULT_MIN_CONFIDENCE)
    laps = {stage: np.zeros(runs) for stage in (*STAGES, OTHER)}
    totals = np.empty(runs)
    started = time.perf_counter()
    for i in range(runs):
        clock = StageClock()
        read_digit(frames[i % len(frames)], model, DEFAULT_MIN_CONFIDENCE, clock.lap)
        totals[i] = time.perf_counter() - clock.started
        for stage, seconds in clock.laps.items():
            laps[stage][i] = seconds
        laps[OTHER][i] = totals[i] - sum(clock.laps.values())
    wall = time.perf_counter() - started
    return PipelineTimes(
        {stage: Spread.of(seconds) for stage, seconds in laps.items()},
        Spread.of(totals),
        runs / wall,
    )


class StageClock:
    """Called with a stage's name when that stage ends; keeps each stage's duration."""

    def __init__(self):
        self.laps: dict[str, float] = {}
        self.started = self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = self.laps.get(stage, 0.0) + now - self._last
        self._last = now


def naive_available() -> bool:
    """The tutorial baseline needs TensorFlow and train/ (a workstation, not the Pi)."""
    return all(importlib.util.find_spec(name) for name in ("tensorflow", "train"))


def naive_rate(paths: list[Path]) -> dict:
    """The tutorial approach, run in a separate process so device/ never imports TensorFlow."""
    command = [sys.executable, "-m", "train.naive_baseline", *map(str, paths)]
    if KERAS_MODEL.exists():
        command[3:3] = ["--model", str(KERAS_MODEL)]
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO, env=env)
    return json.loads(out.stdout.splitlines()[-1])
