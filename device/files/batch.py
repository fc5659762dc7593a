"""Reads many picture files through the pipeline, on all cores, results in input order."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from device.files.reading import read_file
from device.files.workers import WorkerError, read_in_workers
from device.model.interpreter import DigitModel, load_model
from device.output.atomic import write_whole
from device.output.formats import FileReading

__all__ = ["WorkerError", "read_file", "read_files", "save_model_input", "worker_plan"]

MIN_FILES_PER_WORKER = 32  # fewer files than this per worker: starting processes costs more
# A worker's memory at most: 58 MiB for the process, 165 MiB with the largest picture the
# decode budget allows (both measured on x86-64); rounded up for other platforms.
WORKER_MIB = 200


def worker_count(requested: int | None, files: int) -> int:
    """Processes to use (see worker_plan)."""
    return worker_plan(requested, files)[0]


def worker_plan(requested: int | None, files: int) -> tuple[int, str | None]:
    """Processes to use, and a note when fewer than asked: never more than the cores, nor
    than the memory available allows (WORKER_MIB each); by default one for a few files."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    available = available_mib()
    by_memory = max(1, int(available // WORKER_MIB)) if available is not None else cores
    limit = min(cores, by_memory)
    if not requested:
        return max(1, min(limit, files // MIN_FILES_PER_WORKER)), None
    if requested <= limit:
        return max(1, min(requested, files)), None
    memory = f", {available:.0f} MiB of memory available" if available is not None else ""
    note = (
        f"--workers {requested} lowered to {limit} ({cores} core(s){memory}, "
        f"about {WORKER_MIB} MiB per worker)"
    )
    return max(1, min(limit, files)), note


def available_mib() -> float | None:
    """MemAvailable from /proc/meminfo, in MiB (None where there is no such file)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def read_files(
    paths: list[Path],
    model_path: Path,
    min_confidence: float,
    workers: int = 1,
    threads: int | None = None,
    model: DigitModel | None = None,
) -> Iterator[FileReading]:
    """Readings for `paths`, in their order; workers > 1 spreads them over processes, each
    with its own model. With one worker, `model` (if given) is used rather than a new one."""
    if workers <= 1:
        model = model or load_model(model_path, threads)
        for path in paths:
            yield read_file(path, model, min_confidence)
        return
    yield from read_in_workers(paths, model_path, min_confidence, workers, threads)


def save_model_input(reading: FileReading, index: int, directory: Path) -> None:
    """Writes the 28x28 the model saw as DIR/<index>-<file stem>.png (index keeps names apart);
    for a number, one per digit: DIR/<index>-<file stem>-<n>.png in reading order."""
    inputs = reading.reading.model_inputs if reading.reading is not None else []
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(reading.path).stem)
    for n, model_input in enumerate(inputs):
        suffix = f"-{n + 1}" if len(inputs) > 1 else ""
        name = f"{index:06d}-{stem[:80]}{suffix}.png"
        encoded = io.BytesIO()
        Image.fromarray(np.asarray(model_input, np.uint8)).save(encoded, "PNG")
        write_whole(directory / name, encoded.getvalue())
