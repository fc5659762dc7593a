"""digitcam eval: measure how well the pictures in a labelled folder are read, misreads shown."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from device.commands.common import (
    EXIT_OUTPUT,
    add_model_arguments,
    default_model_path,
    whole_number,
)
from device.contract import DEFAULT_MIN_CONFIDENCE

MAX_NOTES = 20  # label notes printed; summary.json keeps them all

DESCRIPTION = """\
Reads every labelled picture in FOLDER exactly as `digitcam predict` does and compares each
answer with its label. Labels come from FOLDER/labels.csv (or --labels): a CSV with a header
row naming the columns file and label, then one row per picture:

  file,label
  IMG_0001.jpg,7
  IMG_0002.jpg,none
  meter.jpg,2025

A label is a digit, a digit string (a whole number, scored whole; lines separated by a
space) or none (a page with no digit). A row naming a missing file, a label that is none of
these, a second row for the same file and a picture without a row are each noted in one line
and counted; the run goes on without them.

Prints the figures and writes to OUT (default build/eval/<FOLDER name>):
  report.html    one self-contained file: the figures, accuracy per label and per subfolder,
                 the confusion matrix, and every misread picture with the region read boxed,
                 the 28x28 the model saw, the answer and the label
  confusion.png  answers (columns) against labels (rows)
  summary.json   the same figures and every picture's label, answer and confidence

Exit status: 0 report written; 1 report written, but some pictures could not be read or some
label rows were noted; 2 wrong usage, an unusable labels file or model, or no labelled picture;
74 the report could not be written (a full disk; no file is left half-written); 130
interrupted (Ctrl-C or SIGTERM).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, metavar="FOLDER", help="the labelled pictures")
    parser.add_argument(
        "--labels", type=Path, metavar="CSV", help="file,label CSV (default: FOLDER/labels.csv)"
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="where to write (default: build/eval/FOLDER-name)"
    )
    parser.add_argument(
        "-r", "--recursive", action="store_true", help="also the pictures in subfolders"
    )
    add_model_arguments(parser, "interpreter threads per process")
    parser.add_argument(
        "--workers", type=whole_number(1), metavar="N", help="processes (default: as predict)"
    )
    parser.add_argument(
        "--max-shown",
        type=whole_number(0),
        default=1000,
        metavar="N",
        help="misreads shown in report.html; summary.json lists all (default: %(default)s)",
    )


def _error(message: str) -> int:
    print(f"digitcam eval: error: {message}", file=sys.stderr)
    return 2


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run, for the report."""
    words = ["digitcam", "eval", str(args.folder)]
    if args.labels:
        words += ["--labels", str(args.labels)]
    if args.recursive:
        words.append("--recursive")
    if args.model:
        words += ["--model", str(args.model)]
    if args.min_confidence != DEFAULT_MIN_CONFIDENCE:
        words += ["--min-confidence", str(args.min_confidence)]
    return shlex.join(words)


def _shown(path: Path) -> str:
    """A path as short as it can be said from here: relative inside the working directory."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from device.contract import MetadataError
    from device.eval.labels import LabelsError, note_unlabelled, read_labels
    from device.eval.report import text_summary
    from device.eval.run import evaluate, write_outputs
    from device.files.batch import WorkerError, worker_count
    from device.files.inputs import list_inputs
    from device.model.interpreter import ModelError, load_model

    folder: Path = args.folder
    try:
        is_folder = folder.is_dir()
    except OSError as exc:  # a name too long
        return _error(f"{str(folder)[:200]}: {exc.strerror}")
    if not is_folder:
        return _error(f"{folder}: not a folder")
    labels_path = args.labels or folder / "labels.csv"
    out = args.out or Path("build/eval") / (folder.resolve().name or "root")
    model_path = args.model or default_model_path()
    try:
        labels = read_labels(labels_path, folder)
        model = load_model(model_path, args.threads)
    except (LabelsError, ModelError, MetadataError) as exc:
        return _error(str(exc))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _error(f"{out}: cannot create ({exc.strerror})")
    note_unlabelled(labels, list_inputs([folder], args.recursive).files, folder)
    for line in labels.notes[:MAX_NOTES]:
        print(f"digitcam eval: {line}", file=sys.stderr)
    if len(labels.notes) > MAX_NOTES:
        more = len(labels.notes) - MAX_NOTES
        print(f"digitcam eval: ... and {more} more notes in summary.json", file=sys.stderr)
    if not labels.pictures:
        return _error(f"{labels_path}: no labelled picture to evaluate")

    def progress(items, total):
        return tqdm(items, total=total, unit="file", disable=not sys.stderr.isatty(), leave=False)

    workers = worker_count(args.workers, len(labels.pictures))
    try:
        scored, misread = evaluate(
            folder,
            labels,
            model_path,
            args.min_confidence,
            workers,
            args.threads,
            progress,
            model if workers == 1 else None,
        )
    except WorkerError as exc:
        return _error(str(exc))
    meta = {
        "folder": str(folder),
        "labels": str(labels_path),
        "model": _shown(model_path),
        "sha256": model.metadata.sha256,
        "min_confidence": args.min_confidence,
        "command": command_line(args),
    }
    try:
        summary = write_outputs(out, meta, labels, scored, misread, folder, args.max_shown)
    except OSError as exc:
        print(f"digitcam eval: {exc.filename}: cannot write ({exc.strerror})", file=sys.stderr)
        return EXIT_OUTPUT
    sys.stdout.write(text_summary(summary))
    print(f"report: {out / 'report.html'}")
    return 1 if summary["unreadable"] or labels.notes else 0
