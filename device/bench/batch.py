"""Batch speed as a user sees it: whole processes on one folder of JPEGs, wall clock."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

# The floor: the least a Python program must do to look at every pixel of every file.
FLOOR_SCRIPT = """\
import os, sys
from PIL import Image
folder = sys.argv[1]
for name in sorted(n for n in os.listdir(folder) if n.endswith(".jpg")):
    with Image.open(os.path.join(folder, name)) as image:
        image.convert("L")
"""
FLOOR = "pillow_decode"


def timed(command: list[str], cwd: Path, what: str) -> tuple[float, str]:
    """Wall seconds of a whole process, start-up included, and its stdout."""
    begin = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    seconds = time.perf_counter() - begin
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise RuntimeError(f"{what} failed: {reason}")
    return seconds, done.stdout


def predict_command(folder: Path, model_path: Path, workers: int, min_confidence: float):
    return [
        sys.executable, "-m", "device", "predict", str(folder), "--format", "jsonl",
        "--model", str(model_path), "--workers", str(workers),
        "--min-confidence", str(min_confidence),
    ]  # fmt: skip


def digits_of(jsonl: str) -> list[int | None]:
    return [json.loads(line)["digit"] for line in jsonl.splitlines()]


def measure_batch(
    folder: Path,
    labels: list[int],
    model_path: Path,
    workers: list[int],
    repeat: int,
    min_confidence: float,
    cwd: Path,
) -> dict:
    """Files per second of the floor script and of `digitcam predict` at each worker count,
    each a fresh process on the same files (medians of `repeat` runs, interleaved), and the
    share of photos predict reads right at `min_confidence`."""
    runs: dict[str, list[float]] = {}
    correct: dict[str, float] = {}
    for _ in range(repeat):
        seconds, _ = timed(
            [sys.executable, "-c", FLOOR_SCRIPT, str(folder)], cwd, "the floor script"
        )
        runs.setdefault(FLOOR, []).append(seconds)
        for count in workers:
            name = f"predict_{count}_worker" + ("s" if count > 1 else "")
            seconds, out = timed(
                predict_command(folder, model_path, count, min_confidence), cwd, "digitcam predict"
            )
            runs.setdefault(name, []).append(seconds)
            digits = digits_of(out)
            correct[name] = float(np.mean([d == t for d, t in zip(digits, labels, strict=True)]))
    files = len(labels)
    rates = {
        name: {
            "median": files / float(np.median(s)),
            "min": files / max(s),
            "max": files / min(s),
            "runs": len(s),
        }
        for name, s in runs.items()
    }
    floor = rates[FLOOR]["median"]
    return {
        "photos": files,
        "min_confidence": min_confidence,
        "images_per_second": rates,
        "ratio_to_pillow_decode": {n: r["median"] / floor for n, r in rates.items() if n != FLOOR},
        "accuracy": correct,
    }
