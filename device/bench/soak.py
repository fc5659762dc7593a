"""Per-frame time and memory over many synthetic frames: the numbers behind a benchmark."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from device.contract import DEFAULT_MIN_CONFIDENCE
from device.live.sources import SyntheticSource
from device.live.stability import DEFAULT_STABLE_FRAMES, Stabiliser
from device.model.interpreter import load_model
from device.vision.read import Scorer, read_digit

STATUS = Path("/proc/self/status")


def rss_kib() -> int:
    """This process's resident memory now (Linux), else its peak so far, in KiB."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux; bytes on macOS


@dataclass(frozen=True)
class SoakResult:
    frames: int
    median_ms: float  # one frame to one answer: the pipeline plus the stability check
    p99_ms: float
    fps: float  # frames per second over the whole run, answers included
    rss_start_kib: int  # after the warm-up round
    rss_end_kib: int
    rss_samples_kib: tuple[int, ...]  # at even intervals through the run, to show it is flat
    pid: int  # the process whose memory this is

    def summary(self) -> str:
        growth = self.rss_end_kib - self.rss_start_kib
        return (
            f"{self.frames} frames: {self.median_ms:.2f} ms median, {self.p99_ms:.2f} ms p99, "
            f"{self.fps:.0f} fps; RSS {self.rss_start_kib / 1024:.1f} -> "
            f"{self.rss_end_kib / 1024:.1f} MiB ({growth:+d} KiB)"
        )


def soak(
    model: Scorer,
    frames: int = 10_000,
    seed: int = 0,
    pool: int = 16,
    samples: int = 10,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    stable: int = DEFAULT_STABLE_FRAMES,
) -> SoakResult:
    """Runs `frames` synthetic 640x480 frames through the watch path and measures each.

    Drawing a synthetic photo takes far longer than reading it, so a pool of `pool` scenes
    is drawn first and cycled: the times are the pipeline's alone."""
    source = SyntheticSource(seed=seed, pool=pool)
    stabiliser = Stabiliser(stable)
    for grey in itertools.islice(source, pool * source.hold):  # warm-up: every scene once
        stabiliser.update(read_digit(grey, model, min_confidence).text)
    times = np.empty(frames, np.float64)
    every = max(1, frames // samples)
    rss = [rss_kib()]
    started = time.perf_counter()
    for i, shared in enumerate(itertools.islice(source, frames)):
        grey = shared.copy()  # a camera hands over a new buffer each frame
        begin = time.perf_counter()
        stabiliser.update(read_digit(grey, model, min_confidence).text)
        times[i] = time.perf_counter() - begin
        if (i + 1) % every == 0:
            rss.append(rss_kib())
    elapsed = time.perf_counter() - started
    return SoakResult(
        frames=frames,
        median_ms=float(np.median(times)) * 1e3,
        p99_ms=float(np.percentile(times, 99)) * 1e3,
        fps=frames / elapsed,
        rss_start_kib=rss[0],
        rss_end_kib=rss[-1],
        rss_samples_kib=tuple(rss),
        pid=os.getpid(),
    )


def soak_in_fresh_process(model_path: Path, frames: int, seed: int) -> dict:
    """The soak in a new Python process that does nothing else, as `digitcam watch` would be:
    its memory figures are that process's, not those of whoever measured other things."""
    command = [sys.executable, "-m", "device.bench.soak", str(model_path), str(frames), str(seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description="the watch-path soak; prints its result as JSON")
    parser.add_argument("model", type=Path)
    parser.add_argument("frames", type=int)
    parser.add_argument("seed", type=int)
    args = parser.parse_args()
    result = soak(load_model(args.model, threads=1), frames=args.frames, seed=args.seed)
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
