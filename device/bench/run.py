"""The benchmark's runs: model, interpreter, per-frame pipeline and batch speed, as one dict."""

from __future__ import annotations

import io
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from PIL import Image

from device.bench import measure
from device.bench.soak import soak
from device.files.mnist import load_local
from device.model.interpreter import load_model
from device.model.selftest import builtin_digit
from device.synthetic.numbers import photo_of_number
from device.synthetic.photos import font_digit, jpeg_bytes, photo_of_digit

PROFILES = {  # photos, repetitions, interpreter runs, pipeline frames, soak frames
    "default": (400, 3, 2000, 2000, 10_000),
    "quick": (40, 1, 1000, 300, 1000),
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


def make_photos(folder: Path, count: int, seed: int, mnist) -> list[int]:
    """JPEG photos of digits on paper (MNIST test digits when available); returns labels."""
    rng = np.random.default_rng(seed)
    labels = []
    for i in range(count):
        if mnist is not None:
            pick = int(rng.integers(len(mnist.y_test)))
            digit, label = mnist.x_test[pick], int(mnist.y_test[pick])
        else:
            label = int(rng.integers(10))
            digit = font_digit(label, rng)
        (folder / f"{i:05d}.jpg").write_bytes(jpeg_bytes(photo_of_digit(digit, rng), 85))
        labels.append(label)
    return labels


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


def accuracy(digits: list, labels: list[int]) -> float:
    return float(np.mean([d == t for d, t in zip(digits, labels, strict=True)]))


def run_bench(model_path: Path, sizes: tuple[int, ...], seed: int, mnist_path: Path | None) -> dict:
    photos, repeat, runs, frames, soak_frames = sizes
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
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        labels = make_photos(folder, photos, seed, mnist)
        paths = sorted(folder.glob("*.jpg"))
        stages = measure.pipeline_stages(model, grey_frames(paths, 16), frames)
        results["pipeline"] = {name: asdict(spread) for name, spread in stages.items()}
        results["pipeline"]["fps"] = 1000 / stages["total"].median
        numbers = measure.pipeline_stages(model, number_frames(16, seed, mnist), frames)
        results["number_pipeline"] = {name: asdict(spread) for name, spread in numbers.items()}
        results["batch"] = measure_batch(paths, labels, model_path, repeat, cores)
    results["batch"]["photo_source"] = "MNIST test digits" if mnist else "font digits"
    results["soak"] = asdict(soak(model, frames=soak_frames, seed=seed))
    results["seconds"] = time.perf_counter() - started
    return results


def measure_batch(paths, labels, model_path: Path, repeat: int, cores: int) -> dict:
    workers = sorted({1, cores})
    rates: dict[str, list[float]] = {"pillow_decode": []}
    digits: dict[str, list] = {}
    naive, naive_model = measure.naive_available(), None
    for _ in range(repeat):
        rates["pillow_decode"].append(measure.pillow_decode_rate(paths))
        for count in workers:
            name = f"predict_{count}_worker" + ("s" if count > 1 else "")
            rate, digits[name] = measure.predict_rate(paths, model_path, workers=count)
            rates.setdefault(name, []).append(rate)
        if naive:
            try:
                baseline = measure.naive_rate(paths)
            except subprocess.CalledProcessError as exc:
                reason = (exc.stderr or "").strip().splitlines()[-1:] or [f"exit {exc.returncode}"]
                print(f"digitcam bench: tutorial baseline left out ({reason[0]})", file=sys.stderr)
                naive = False
                continue
            rates.setdefault("naive_tutorial", []).append(baseline["images_per_second"])
            naive_model = baseline["model"]
            if baseline["trained"]:  # an untrained stand-in times the approach, not its accuracy
                digits["naive_tutorial"] = baseline["digits"]
    summary = {
        name: {"median": float(np.median(v)), "min": min(v), "max": max(v), "runs": len(v)}
        for name, v in rates.items()
    }
    floor = summary["pillow_decode"]["median"]
    return {
        "photos": len(paths),
        "images_per_second": summary,
        "ratio_to_pillow_decode": {n: s["median"] / floor for n, s in summary.items()},
        "accuracy": {name: accuracy(d, labels) for name, d in digits.items()},
        "naive_model": naive_model,
    }
