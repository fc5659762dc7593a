"""Picture sets on disk for `make eval` and the benchmark: digits as files, seeded photos.

File i of a set depends only on the set's seed and i, so a larger set starts with the files of
a smaller one and the same sizes give the same files on every machine.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image

from device.synthetic import photos

SMALL_DIGITS = (0.06, 0.10)  # the "small digits" set: 6-10% of the frame height


@dataclass(frozen=True)
class SetSpec:
    name: str  # folder under the sets directory
    kind: str  # "digit-files" (the 28x28 digits as PNGs), "photos" or "no-digit"
    count: int  # files (per kind of page for "no-digit")
    seed: int
    height: tuple[float, float] = photos.DIGIT_HEIGHT


def generator_version() -> str:
    """Changes when the code that draws the photos changes, so a stale set is redrawn."""
    return hashlib.sha256(Path(photos.__file__).read_bytes()).hexdigest()[:12]


def _write_labels(folder: Path, rows: list[tuple[str, str]]) -> None:
    lines = ["file,label", *(f"{name},{label}" for name, label in rows)]
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")


def _digit_photos(folder: str, seed: int, first: int, digits, height) -> None:
    """Writes photos first, first+1, ... of the given 28x28 digits as JPEGs (quality 50-92)."""
    for offset, digit in enumerate(digits):
        rng = np.random.default_rng([seed, first + offset])
        picture = photos.photo_of_digit(digit, rng, height=height)
        data = photos.jpeg_bytes(picture, int(rng.integers(50, 93)))
        Path(folder, f"{first + offset:05d}.jpg").write_bytes(data)


def _blank_pages(folder: str, seed: int, kind: str, first: int, count: int) -> None:
    for i in range(first, first + count):
        rng = np.random.default_rng([seed, photos.NO_DIGIT_KINDS.index(kind), i])
        page = photos.photo_without_digit(rng, kind)
        Path(folder, f"{i:05d}.jpg").write_bytes(photos.jpeg_bytes(page, int(rng.integers(50, 93))))


def _chunks(count: int, workers: int) -> list[tuple[int, int]]:
    step = max(1, -(-count // (workers * 4)))
    return [(start, min(step, count - start)) for start in range(0, count, step)]


def build_set(
    spec: SetSpec, root: Path, digits: tuple[np.ndarray, np.ndarray] | None, workers: int
) -> Path:
    """Writes the set's pictures and labels.csv under root/spec.name, unless already there.
    `digits`: 28x28 white-on-black digits and their labels (MNIST test), for the digit kinds."""
    folder = root / spec.name
    stamp = folder / "set.json"
    wanted = asdict(spec) | {"generator": generator_version()}
    wanted["height"] = list(spec.height)
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    for old in folder.rglob("*.*"):
        if old.is_file():
            old.unlink()
    if spec.kind == "digit-files":
        images, labels = digits
        rows = []
        for i in range(spec.count):
            Image.fromarray(images[i]).save(folder / f"{i:05d}.png")
            rows.append((f"{i:05d}.png", str(int(labels[i]))))
        _write_labels(folder, rows)
    elif spec.kind == "photos":
        images, labels = digits
        order = np.random.default_rng(spec.seed).permutation(len(labels))
        picks = order[np.arange(spec.count) % len(order)]
        with _pool(workers) as pool:
            jobs = [
                pool.submit(
                    _digit_photos,
                    str(folder),
                    spec.seed,
                    start,
                    images[picks[start : start + n]],
                    spec.height,
                )  # fmt: skip
                for start, n in _chunks(spec.count, workers)
            ]
            for job in jobs:
                job.result()
        _write_labels(folder, [(f"{i:05d}.jpg", str(int(labels[p]))) for i, p in enumerate(picks)])
    else:
        with _pool(workers) as pool:
            jobs = []
            for kind in photos.NO_DIGIT_KINDS:
                (folder / kind).mkdir(exist_ok=True)
                for start, n in _chunks(spec.count, workers):
                    jobs.append(
                        pool.submit(_blank_pages, str(folder / kind), spec.seed, kind, start, n)
                    )
            for job in jobs:
                job.result()
        rows = [
            (f"{k}/{i:05d}.jpg", "none") for k in photos.NO_DIGIT_KINDS for i in range(spec.count)
        ]
        _write_labels(folder, rows)
    stamp.write_text(json.dumps(wanted, indent=1) + "\n")
    return folder


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max(1, workers), mp_context=get_context("spawn"))


def default_workers() -> int:
    return os.cpu_count() or 1
