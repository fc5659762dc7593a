"""The classic MNIST-tutorial way to read a photo, as the benchmark's baseline: prints JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

FIXED_THRESHOLD = 128  # the tutorials' global threshold: darker than mid-grey is ink


def naive_input(path: Path) -> np.ndarray:
    """Whole picture to 28x28 grey, inverted to white-on-black, then a fixed threshold."""
    small = np.asarray(Image.open(path).convert("L").resize((28, 28)), np.float32)
    return np.where(255 - small > 255 - FIXED_THRESHOLD, 255.0, 0.0)[None, :, :, None]


def run_baseline(files: list[Path], model_path: Path | None) -> dict:
    """One Keras model.predict per image, as the tutorials do; accuracy when labels are known."""
    import keras

    from train.model import build_model

    model = keras.models.load_model(model_path) if model_path else build_model()
    model.predict(naive_input(files[0]), verbose=0)  # warm-up: graph tracing
    started = time.perf_counter()
    digits = [int(model.predict(naive_input(path), verbose=0).argmax()) for path in files]
    seconds = time.perf_counter() - started
    return {
        "images": len(files),
        "images_per_second": len(files) / seconds,
        "digits": digits,
        "model": str(model_path) if model_path else "untrained (no Keras model found)",
        "trained": model_path is not None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.naive_baseline", description=__doc__)
    parser.add_argument("files", type=Path, nargs="+", help="pictures to read, in order")
    parser.add_argument("--model", type=Path, help="Keras model (default: untrained, timing only)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    model = args.model if args.model and args.model.exists() else None
    print(json.dumps(run_baseline(args.files, model)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
