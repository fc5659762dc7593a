"""The benchmark's runs: model, interpreter, per-frame pipeline and batch speed, as one dict."""

from __future__ import annotations

import io
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from PIL import Image

from device.bench import measure
from device.bench.batch import FLOOR, measure_batch
from device.bench.live import live_view_rates
from device.bench.soak import soak_in_fresh_process
from device.contract import DEFAULT_MIN_CONFIDENCE
from device.files.mnist import load_local
from device.model.interpreter import load_model
from device.model.selftest import builtin_digit
from device.synthetic.numbers import photo_of_number
from device.synthetic.photos import font_digit, jpeg_bytes
from device.synthetic.sets import SetSpec, build_set

REPO = Path(__file__).resolve().parents[2]

PROFILES = {  # photos, repetitions, interpreter runs, pipeline frames, soak frames, live frames
    "default": (1000, 3, 2000, 2000, 10_000, 3000),
    "quick": (100, 1, 1000, 300, 1000, 300),
}


def machine() -> dict:
    model_name = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith(("model name", "Model")):
                model_name = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model_name,
        "cores": os.cpu_count(),
        "arch": platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def photo_folder(root: Path, count: int, seed: int, mnist, workers: int) -> tuple[Path, list]:
    """A folder of 640x480 JPEG photos of digits on paper (MNIST test digits when available,
    else font-drawn ones), kept between runs; returns it and the photos' labels."""
    if mnist is not None:
        digits, name = (mnist.x_test, mnist.y_test), "mnist"
    else:
        rng = np.random.default_rng(seed)
        labels = np.arange(200) % 10
        digits, name = (np.stack([font_digit(int(d), rng) for d in labels]), labels), "font"
    folder = build_set(
        SetSpec(f"photos-{name}-{seed}", "photos", count, seed), root, digits, workers
    )
    rows = (folder / "labels.csv").read_text().splitlines()[1:]
    return folder, [int(row.split(",")[1]) for row in rows]


def grey_frames(paths: list[Path], count: int) -> list[np.ndarray]:
    frames = []
    for path in paths[:count]:
        with Image.open(path) as image:
            frames.append(np.asarray(image.convert("L")))
    return frames


def number_frames(count: int, seed: int, mnist) -> list[np.ndarray]:
    """640x480 grey frames (through JPEG) of 4-digit numbers, MNIST test digits when given."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(count):
        if mnist is not None:
            digits = [mnist.x_test[i] for i in rng.integers(0, len(mnist.y_test), 4)]
        else:
            digits = [font_digit(int(d), rng) for d in rng.integers(0, 10, 4)]
        photo = jpeg_bytes(photo_of_number(digits, rng), 85)
        with Image.open(io.BytesIO(photo)) as image:
            frames.append(np.asarray(image.convert("L")))
    return frames


def run_bench(
    model_path: Path,
    sizes: tuple[int, ...],
    seed: int,
    mnist_path: Path | None,
    out: Path,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> dict:
    photos, repeat, runs, frames, soak_frames, live_frames = sizes
    out = out.resolve()  # the timed processes run in the repository, not here
    started = time.perf_counter()
    mnist = load_local(mnist_path) if mnist_path else None
    model = load_model(model_path, threads=1)
    meta = model.metadata
    cores = os.cpu_count() or 1
    results: dict = {"machine": machine() | {"interpreter": model.backend.name}}
    results["model"] = {
        "file": str(model_path),
        "bytes": meta.size_bytes,
        "parameters": meta.parameters,
        "mnist_int8_accuracy": (
            measure.mnist_accuracy(model, mnist.x_test, mnist.y_test) if mnist else None
        ),
        "peak_rss_kib": measure.peak_rss_after_load(model_path),
    }
    digit = builtin_digit()
    results["interpreter"] = {
        f"{threads}_threads": asdict(measure.interpreter_latency(model_path, digit, threads, runs))
        for threads in sorted({1, cores})
    }
    folder, labels = photo_folder(out / "photos", photos, seed, mnist, cores)
    paths = sorted(folder.glob("*.jpg"))
    times = measure.pipeline_stages(model, grey_frames(paths, 16), frames)
    results["pipeline"] = {
        "stages": {name: asdict(spread) for name, spread in times.stages.items()},
        "total": asdict(times.total),
        "fps": times.fps,
    }
    numbers = measure.pipeline_stages(model, number_frames(16, seed, mnist), frames)
    results["number_pipeline"] = {
        "stages": {name: asdict(spread) for name, spread in numbers.stages.items()},
        "total": asdict(numbers.total),
        "fps": numbers.fps,
    }
    workers = sorted({1, min(2, cores), cores})
    batch = measure_batch(folder, labels, model_path, workers, repeat, min_confidence, REPO)
    if measure.naive_available():
        batch = add_naive(batch, paths, labels, repeat)
    batch["photo_source"] = "MNIST test digits" if mnist else "font digits"
    results["batch"] = batch
    largest = measure.largest_decoded_picture(out)
    results["memory"] = {
        "predict_batch_peak_rss_kib": measure.predict_peak_rss(paths, model_path),
        "largest_picture": largest.name,
        "predict_largest_peak_rss_kib": measure.predict_peak_rss([largest], model_path),
    }
    largest.unlink()
    results["soak"] = soak_in_fresh_process(model_path, soak_frames, seed)
    results["live_view"] = live_view_rates(model, live_frames, repeat, seed)
    results["seconds"] = time.perf_counter() - started
    return results


def add_naive(batch: dict, paths: list[Path], labels: list[int], repeat: int) -> dict:
    """The tutorial approach's row, its whole process timed like the others."""
    seconds, digits, naive_model = [], None, None
    for _ in range(repeat):
        begin = time.perf_counter()
        try:
            baseline = measure.naive_rate(paths)
        except subprocess.CalledProcessError as exc:
            reason = (exc.stderr or "").strip().splitlines()[-1:] or [f"exit {exc.returncode}"]
            print(f"digitcam bench: tutorial baseline left out ({reason[0]})", file=sys.stderr)
            return batch
        seconds.append(time.perf_counter() - begin)
        naive_model = baseline["model"]
        if baseline["trained"]:  # an untrained stand-in times the approach, not its accuracy
            digits = baseline["digits"]
    rate = {
        "median": len(paths) / float(np.median(seconds)),
        "min": len(paths) / max(seconds),
        "max": len(paths) / min(seconds),
        "runs": len(seconds),
    }
    floor = batch["images_per_second"][FLOOR]["median"]
    batch["images_per_second"]["naive_tutorial"] = rate
    batch["ratio_to_pillow_decode"]["naive_tutorial"] = rate["median"] / floor
    if digits is not None:
        batch["accuracy"]["naive_tutorial"] = float(
            np.mean([d == t for d, t in zip(digits, labels, strict=True)])
        )
    batch["naive_model"] = naive_model
    return batch
