"""Files per second: Pillow's plain full-size decode against the whole predict pipeline."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from device.batch import read_files, worker_count
from device.pipeline import DEFAULT_MIN_CONFIDENCE


@dataclass(frozen=True)
class Rate:
    files: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.files / self.seconds if self.seconds > 0 else float("inf")


def pillow_decode_rate(paths: list[Path]) -> Rate:
    """The yardstick: one process opening each file and decoding it to full-size grey."""
    start = time.perf_counter()
    for path in paths:
        with Image.open(path) as image:
            image.convert("L").load()
    return Rate(len(paths), time.perf_counter() - start)


def predict_rate(
    paths: list[Path],
    model_path: Path,
    workers: int | None = None,
    threads: int = 1,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> Rate:
    """`digitcam predict` minus printing: decode, find, normalise, classify, in order.
    Includes starting the worker processes; workers=None chooses as predict does."""
    start = time.perf_counter()
    count = sum(
        1
        for _ in read_files(
            paths, model_path, min_confidence, worker_count(workers, len(paths)), threads
        )
    )
    return Rate(count, time.perf_counter() - start)
