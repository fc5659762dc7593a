"""digitcam bench: measure size, accuracy, latency, fps and throughput on this machine."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from device.commands.common import DEFAULT_MODEL_HELP, default_model_path, fraction, whole_number
from device.contract import DEFAULT_MIN_CONFIDENCE

DESCRIPTION = """\
Measure what a user of digitcam chooses on, on this machine:
  model        file size, parameters, int8 MNIST test accuracy (when MNIST_DIR or --mnist
               gives the data), peak memory of a process that loads it
  interpreter  one 28x28 image: median and p99 latency, 1 thread and all cores
  pipeline     a 640x480 grey frame -> answer, split by stage (the stages add up to the
               whole), and frames per second over the wall time of the run
  live view    watch's frame rate on synthetic frames with the live view (watch --http) off,
               on with nobody watching, and with one viewer (another process) connected
  batch        files/s of `digitcam predict FOLDER` on generated 640x480 JPEG photos, as whole
               processes (start-up included) with 1, 2 and all cores' workers, next to a
               minimal Python script that only decodes the same files to full-size grey with
               Pillow (the floor) and, when TensorFlow and train/ are installed, the classic
               tutorial approach (whole picture resized to 28x28, fixed threshold, one Keras
               predict per image); the share read right at --min-confidence
  soak         the watch path over many frames in a fresh process: time, fps, its memory
Ratios measured in this one run are the headline; absolute times belong to this machine.
Writes OUT/bench.json and OUT/bench.md and prints the Markdown table; the photos stay in
OUT/photos for the next run. No TensorFlow needed: it runs on the Pi as it is (the tutorial
baseline is then left out).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", type=Path, metavar="FILE", help=f"{DEFAULT_MODEL_HELP} (default: as predict)"
    )
    parser.add_argument("--out", type=Path, default=Path("build/bench"), help="output directory")
    parser.add_argument("--quick", action="store_true", help="a smaller run, under a minute")
    parser.add_argument("--mnist", type=Path, help="MNIST for the accuracy line (or MNIST_DIR)")
    parser.add_argument("--photos", type=whole_number(1), help="photos in the batch folder")
    parser.add_argument(
        "--repeat", type=whole_number(1), help="repetitions of each batch measurement"
    )
    parser.add_argument("--runs", type=whole_number(1), help="timed runs of the interpreter")
    parser.add_argument("--frames", type=whole_number(1), help="timed frames of the pipeline")
    parser.add_argument("--soak", type=whole_number(1), help="frames of the watch-path memory soak")
    parser.add_argument(
        "--live", type=whole_number(4), help="frames per run of the live-view rate comparison"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the generated photos")
    parser.add_argument(
        "--min-confidence",
        type=fraction,
        default=DEFAULT_MIN_CONFIDENCE,
        metavar="X",
        help="predict's --min-confidence for the batch's share read right (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    from device.bench.report import markdown
    from device.bench.run import PROFILES, run_bench
    from device.contract import MetadataError
    from device.files.mnist import DataError
    from device.model.interpreter import ModelError

    chosen = (args.photos, args.repeat, args.runs, args.frames, args.soak, args.live)
    profile = PROFILES["quick" if args.quick else "default"]
    pairs = zip(chosen, profile, strict=True)
    sizes = tuple(default if mine is None else mine for mine, default in pairs)
    mnist = args.mnist or os.environ.get("MNIST_DIR")
    try:
        args.out.mkdir(parents=True, exist_ok=True)  # before minutes of measuring, not after
    except OSError as exc:
        print(f"digitcam bench: {args.out}: cannot create ({exc.strerror})", file=sys.stderr)
        return 2
    try:
        results = run_bench(
            args.model or default_model_path(),
            sizes,
            args.seed,
            Path(mnist) if mnist else None,
            args.out,
            args.min_confidence,
        )
    except (ModelError, MetadataError, DataError, RuntimeError) as exc:
        print(f"digitcam bench: {exc}", file=sys.stderr)
        return 2
    (args.out / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    (args.out / "bench.md").write_text(table)
    sys.stdout.write(table)
    return 0
