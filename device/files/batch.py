"""Reads many picture files through the pipeline, on all cores, results in input order."""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from device.files.decode import DecodeError, read_picture
from device.model.interpreter import DigitModel, load_model
from device.output.formats import FileReading
from device.vision.read import read_digit

MIN_FILES_PER_WORKER = 32  # fewer files than this per worker: starting processes costs more


def read_file(path: Path | str, model: DigitModel, min_confidence: float) -> FileReading:
    """Decodes and reads one file; any failure becomes FileReading.error, never an exception."""
    try:
        picture = read_picture(path)
        reading = read_digit(picture.grey, model, min_confidence)
    except DecodeError as exc:
        return FileReading(str(path), None, exc.reason)
    except Exception as exc:  # a bug: reported as one, but it must not stop thousands of files
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        return FileReading(str(path), None, f"internal error ({reason})", traceback.format_exc())
    return FileReading(str(path), reading.scaled(picture.scale), None)


def worker_count(requested: int | None, files: int) -> int:
    """Processes to use: as many as asked; by default every core, but one for a few files."""
    if requested:
        return max(1, min(requested, files))
    return max(1, min(os.cpu_count() or 1, files // MIN_FILES_PER_WORKER))


class WorkerError(Exception):
    """A worker process could not load the model (the parent could: out of memory, say)."""


# One model per worker process, built once by the pool's initializer.
_worker: dict = {}


def _start_worker(model_path: Path, threads: int | None, min_confidence: float) -> None:
    # An initializer that raises makes multiprocessing.Pool restart workers forever; keep the
    # failure and raise it from each task instead, which reaches the parent.
    try:
        _worker["model"] = load_model(model_path, threads)
    except Exception as exc:
        _worker["error"] = f"worker could not load {model_path}: {exc}".splitlines()[0]
    _worker["min_confidence"] = min_confidence


def _read_in_worker(path: Path) -> FileReading:
    if "error" in _worker:
        raise WorkerError(_worker["error"])
    return read_file(path, _worker["model"], _worker["min_confidence"])


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
    chunk = max(1, min(64, len(paths) // (workers * 8)))
    # spawn, not fork: the parent may hold interpreter or progress-bar threads
    context = multiprocessing.get_context("spawn")
    with context.Pool(
        workers, initializer=_start_worker, initargs=(model_path, threads, min_confidence)
    ) as pool:
        yield from pool.imap(_read_in_worker, paths, chunksize=chunk)


def save_model_input(reading: FileReading, index: int, directory: Path) -> None:
    """Writes the 28x28 the model saw as DIR/<index>-<file stem>.png (index keeps names apart)."""
    if reading.reading is None or reading.reading.model_input is None:
        return
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(reading.path).stem)
    name = f"{index:06d}-{stem[:80]}.png"
    Image.fromarray(np.asarray(reading.reading.model_input, np.uint8)).save(directory / name)
