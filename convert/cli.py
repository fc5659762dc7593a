"""digitcam-convert: quantize the trained model to int8 TFLite, verify it, install it."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

DESCRIPTION = """\
Quantize a trained Keras model to a full-integer TFLite file (uint8 raw-pixel input, int8
ops, int8 probabilities out), calibrated on training images. Both models are scored on the
whole MNIST test set and on the held-out letters (the seeded split of letters.npz), under the
decision rule training chose; the int8 model is installed (OUT and OUT.json beside it, written
atomically) only when its digit accuracy is at least --min-digit-accuracy, it loses at most
--max-drop points against float, it answers `none` to at least --min-letter-rejection of
the held-out letters, and the file is at most --max-size-kb kB. Otherwise it is left in
build/convert/ and the exit code is 1."""


def gate_value(text: str) -> float:
    """argparse type: a gate's threshold, a finite number from 0 up (NaN would pass every gate)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number >= 0")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="digitcam-convert",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--model", type=Path, default=Path("build/train/model.keras"), help="trained Keras model"
    )
    parser.add_argument("--data", help="MNIST directory of IDX files, or an mnist.npz")
    parser.add_argument(
        "--out", type=Path, default=Path("models/digitcam.tflite"), help="where to install"
    )
    parser.add_argument("--letters", help="letters.npz; default $DIGITCAM_LETTERS or shared/data")
    parser.add_argument(
        "--max-drop",
        type=gate_value,
        default=0.1,
        help="largest accepted int8 accuracy loss, in percentage points (default 0.1)",
    )
    parser.add_argument(
        "--min-digit-accuracy",
        type=gate_value,
        default=99.5,
        help="least int8 digit accuracy on MNIST test, percent; none counts wrong (default 99.5)",
    )
    parser.add_argument(
        "--min-letter-rejection",
        type=gate_value,
        default=95.0,
        help="least share of held-out letters answered none, percent (default 95; 0: no letters)",
    )
    parser.add_argument(
        "--max-size-kb",
        type=gate_value,
        default=150.0,
        help="largest accepted .tflite file, in kB of 1,000 bytes (default 150; 0: no limit)",
    )
    parser.add_argument(
        "--calibration", type=int, default=1000, help="training images for calibration"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the calibration sample")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    if not args.model.exists():
        print(
            f"digitcam-convert: {args.model}: no trained model (run 'make train')", file=sys.stderr
        )
        return 2
    from convert.gate import Gates
    from convert.run import convert
    from train.data import DataError, load_mnist
    from train.letters import load_split

    try:
        data = load_mnist(args.data)
        split = load_split(args.letters) if args.min_letter_rejection > 0 else None
    except DataError as exc:
        print(f"digitcam-convert: {exc}", file=sys.stderr)
        return 2
    outcome = convert(
        args.model,
        data,
        args.out,
        letters=split.held_out if split else None,
        calibration_nondigits=split.train.images if split else None,
        gates=Gates(
            max_drop_points=args.max_drop,
            min_digit_accuracy=args.min_digit_accuracy,
            min_letter_rejection=args.min_letter_rejection,
            max_size_kb=args.max_size_kb,
        ),
        calibration_count=args.calibration,
        seed=args.seed,
    )
    meta = outcome.metadata
    figures = (
        f"float {100 * meta.float_accuracy:.2f}%, int8 {100 * meta.int8_accuracy:.2f}% "
        f"on {meta.test_images} MNIST test images, {meta.size_bytes:,} bytes"
    )
    rejection = meta.nondigits.get("int8_letter_rejection")
    if rejection is not None:
        figures += f", held-out letters answered none {100 * rejection:.2f}%"
    if not outcome.installed:
        print(
            f"digitcam-convert: {'; '.join(outcome.failures)} ({figures}); "
            f"not installed, left in {outcome.staged_path}",
            file=sys.stderr,
        )
        return 1
    print(f"{figures} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
