"""digitcam-train: learn MNIST and write the Keras model with its report."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

# train.model's keys, spelt out: importing it would load Keras before --help
ARCHITECTURE_NAMES = ("small", "base", "wide")

DESCRIPTION = """\
Train the digitcam CNN on MNIST. Reads the four IDX .gz files from a directory, or an
mnist.npz (--data, else $MNIST_DIR, else the Keras download, which needs internet).
Before training, training digits and letters are photographed on synthetic paper and cut out
by the device's own pipeline (OUT/device-crops.npz; a few minutes), so that the model also
learns from the 28x28s the device will show it.
Writes OUT/model.keras (the last epoch, its probabilities calibrated on validation data;
every epoch is kept as trained in OUT/epochs/), history.csv and .json, history.png,
confusion.png and report.md/json. Interrupted? Run again with --resume."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="digitcam-train",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", help="MNIST directory of IDX files, or an mnist.npz")
    parser.add_argument("--out", type=Path, default=Path("build/train"), help="output directory")
    parser.add_argument(
        "--profile",
        choices=("default", "quick"),
        default="default",
        help="default: the full recipe, 40 epochs (about 80 min on 2 cores); quick: 5 epochs",
    )
    parser.add_argument("--quick", action="store_const", const="quick", dest="profile")
    parser.add_argument("--epochs", type=int, help="override the profile's epoch count")
    parser.add_argument("--architecture", choices=ARCHITECTURE_NAMES, help="override the CNN")
    parser.add_argument("--limit", type=int, help="use only the first N training images")
    parser.add_argument(
        "--letters", help="letters.npz (non-digits); default $DIGITCAM_LETTERS or shared/data"
    )
    parser.add_argument("--share", type=float, help="non-digit share of each batch (0.35)")
    parser.add_argument("--synthetic", type=int, help="synthetic non-digits to generate (20000)")
    parser.add_argument("--label-smoothing", type=float, help="label smoothing (0.1)")
    parser.add_argument(
        "--elastic", type=float, metavar="P", help="share of images elastically distorted (0)"
    )
    parser.add_argument(
        "--device-crops",
        type=int,
        metavar="N",
        help="training digits to photograph and cut out with the device pipeline (8000; 0: none)",
    )
    parser.add_argument(
        "--crop-model",
        type=Path,
        default=Path("models/digitcam.tflite"),
        help="the model that decides where the pipeline cuts glyphs (default: %(default)s)",
    )
    parser.add_argument(
        "--reader",
        type=Path,
        help="a 10-class int8 digit model (.tflite): the network trained here then only judges "
        "`none`, and model.keras pairs the two (the reader names the digit)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for split, shuffling, init")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    from train.data import DataError, load_mnist  # after --help: TensorFlow is slow to import
    from train.letters import load_split

    try:
        data = load_mnist(args.data)
        letters = load_split(args.letters)
    except DataError as exc:
        print(f"digitcam-train: {exc}", file=sys.stderr)
        return 2
    from train.calibrate import calibrate_run
    from train.data import split_validation
    from train.decision import NONE_CLASS
    from train.evaluate import evaluate_and_report
    from train.fit import PROFILES, VALIDATION_FRACTION, train
    from train.mix import build_nondigits
    from train.pair import ReaderError, paired_run, provenance, reader_from_tflite

    reader = None
    if args.reader:
        try:
            reader = reader_from_tflite(args.reader)
        except (ReaderError, ValueError, OSError) as exc:
            print(f"digitcam-train: cannot use --reader {args.reader}: {exc}", file=sys.stderr)
            return 2
    profile = PROFILES[args.profile]
    overrides = {
        "epochs": args.epochs,
        "architecture": args.architecture,
        "nondigit_share": args.share,
        "synthetic": args.synthetic,
        "label_smoothing": args.label_smoothing,
        "device_crops": args.device_crops,
        "elastic": args.elastic,
    }
    profile = replace(profile, **{k: v for k, v in overrides.items() if v is not None})
    if args.limit:
        data = replace(data, x_train=data.x_train[: args.limit], y_train=data.y_train[: args.limit])
    x_tr, y_tr, x_val, y_val = split_validation(
        data.x_train, data.y_train, VALIDATION_FRACTION, args.seed
    )
    nondigits = build_nondigits(letters, x_tr, x_val, profile.synthetic, args.seed)
    crops = None
    if profile.device_crops > 0:
        from train.crops import cached_device_crops

        try:
            crops = cached_device_crops(
                args.out / "device-crops.npz",
                args.crop_model,
                train_digits=(x_tr, y_tr),
                val_digits=(x_val, y_val),
                letters=letters,
                count=profile.device_crops,
                seed=args.seed,
                reuse=args.resume,
            )
        except DataError as exc:
            print(f"digitcam-train: {exc}", file=sys.stderr)
            return 2
    run = train(
        data, args.out, profile, resume=args.resume, seed=args.seed, nondigits=nondigits,
        crops=crops,
    )  # fmt: skip
    notes = {"temperature": calibrate_run(run, nondigits.validation, NONE_CLASS, args.out)}
    if reader is not None:
        run = paired_run(run, reader, args.out)
        notes["reader"] = provenance(args.reader)
    summary = evaluate_and_report(run, data, args.out, profile, letters, nondigits, crops, notes)
    print(
        f"digit accuracy {100 * summary['test_accuracy']:.2f}%, held-out letters rejected "
        f"{100 * summary['letter_rejection']:.2f}% (p(none) >= {summary['none_threshold']}) "
        f"({summary['parameters']:,} parameters, {summary['seconds'] / 60:.1f} min) "
        f"-> {args.out / 'model.keras'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
