"""digitcam predict: read the handwritten digit in each picture file or folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from device.commands.common import (
    DEBUG_HINT,
    EXIT_OUTPUT,
    MODEL_ENV,
    PACKAGED_MODEL,
    add_model_arguments,
    default_model_path,
    silence_stdout,
    whole_number,
)
from device.output.formats import FILE_FORMATS

DESCRIPTION = f"""\
Each picture (any format Pillow reads; EXIF rotation honoured) gives one output row, in the
order the paths were given, folders sorted by name. A photo of a digit on paper (dark ink on
light paper) and a white-on-black MNIST-style image both work. In folders, files are taken
for pictures by extension or content (hidden files and other files are skipped); a file
named on the command line is always read, and reported if it is not a picture.

Output fields (jsonl carries all; csv all but digits; the table text, confidence, box):
  path        the file
  text        the digits read, in reading order ("2025"; lines of a number separated by
              a space), or null for "no digit": nothing digit-like found, the model sure
              it is not a digit, or its confidence below --min-confidence
  digit       the digit when exactly one was read, else null
  confidence  with one digit, the model's probability for it, 0-1; with none read, the
              probability of its unsure best guess (null if no candidate); null for several
  box         [x, y, w, h] of that digit or guess, in the upright picture's pixels; or null
  digits      every digit read: [{"digit", "confidence", "box", "line"}, ...]
  rejected    glyphs left out as not digits (letters, scribbles) on a page with digits
  crowded     true when the page had too many glyphs and only the likeliest were read
  error       why the file could not be read (empty, truncated, not a picture, too large),
              or null
--format jsonl writes one JSON object per file; csv has a header row and box as "x y w h";
table (the default on a terminal, jsonl otherwise) is for people.

Exit status: 0 every file was read (with or without a digit), 1 some file could not be
read (see its error), 2 wrong usage or an unusable model, 74 the output could not be
written (a full disk), 130 interrupted (Ctrl-C or SIGTERM).

A file name that is not valid UTF-8 is written with each such byte as \\xHH (bad\\xff.png),
in every format; the table also writes control characters that way.

The model is --model, else ${MODEL_ENV}, else {PACKAGED_MODEL.parent.name}/{PACKAGED_MODEL.name}
beside the device package.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="pictures or folders")
    parser.add_argument(
        "-r", "--recursive", action="store_true", help="also read the folders inside folders"
    )
    parser.add_argument(
        "--format",
        choices=FILE_FORMATS,
        help="output format (default: table on a terminal, jsonl when piped or redirected)",
    )
    add_model_arguments(parser, "interpreter threads per process")
    parser.add_argument(
        "--workers",
        type=whole_number(1),
        metavar="N",
        help="processes, output order unchanged (default: every core for large folders)",
    )
    parser.add_argument(
        "--save-crops",
        type=Path,
        metavar="DIR",
        help="write each 28x28 model input there as <index>-<name>.png, to debug a misreading",
    )


def _usage_error(message: str) -> int:
    print(f"digitcam predict: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from device.contract import MetadataError
    from device.files.batch import WorkerError, read_files, save_model_input, worker_plan
    from device.files.inputs import InputError, list_inputs
    from device.model.interpreter import ModelError, load_model
    from device.output.formats import make_sink, shown_path

    model_path = args.model or default_model_path()
    try:
        inputs = list_inputs(args.paths, args.recursive)
        model = load_model(model_path, args.threads)  # fails here, once, not in each worker
    except (InputError, ModelError, MetadataError) as exc:
        return _usage_error(str(exc))
    if args.save_crops:
        try:
            args.save_crops.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return _usage_error(f"{args.save_crops}: cannot create ({exc.strerror})")
    _note_skipped(inputs)
    fmt = args.format or ("table" if sys.stdout.isatty() else "jsonl")
    workers, note = worker_plan(args.workers, len(inputs.files))
    if note:
        print(f"digitcam predict: {note}", file=sys.stderr)
    bar = progress_bar(len(inputs.files)) if sys.stderr.isatty() else None
    stdout = AboveProgressBar(sys.stdout) if bar is not None and sys.stdout.isatty() else sys.stdout
    results = read_files(
        inputs.files,
        model_path,
        args.min_confidence,
        workers=workers,
        threads=args.threads,
        model=model if workers == 1 else None,
    )
    failed = 0
    try:
        sink = _written(make_sink, fmt, stdout)  # csv and table write their header here
        for index, result in enumerate(results):
            _written(sink.write, result)
            if bar is not None:
                bar.update()
            failed += result.error is not None
            if result.trace is not None:  # a bug, not a bad file: say so, and where
                _report_internal(result, args.debug, shown_path(result.path))
            if args.save_crops:
                try:
                    save_model_input(result, index, args.save_crops)
                except OSError as exc:  # disk full, permissions: reading goes on without crops
                    print(f"digitcam predict: --save-crops stopped: {exc}", file=sys.stderr)
                    args.save_crops = None
        _written(sys.stdout.flush)
    except WorkerError as exc:
        return _usage_error(str(exc))
    except BrokenPipeError:  # `digitcam predict dir | head`: stop quietly
        silence_stdout()
        return 1
    except OutputError as exc:
        silence_stdout()
        print(f"digitcam predict: cannot write the output ({exc}); stopped", file=sys.stderr)
        return EXIT_OUTPUT
    finally:
        if bar is not None:
            bar.close()
        results.close()  # stops the worker processes now, not when collected
    if failed:
        print(
            f"digitcam predict: {failed} of {len(inputs.files)} file(s) could not be read",
            file=sys.stderr,
        )
    return 1 if failed else 0


def progress_bar(total: int):
    """A progress bar on stderr. tqdm is imported only for one: 35 ms of start-up."""
    from tqdm import tqdm

    return tqdm(total=total, unit="file")


class AboveProgressBar:
    """A text stream whose writes keep clear of the progress bar on the same terminal."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        from tqdm import tqdm

        tqdm.write(text, file=self.stream, end="")


class OutputError(Exception):
    """stdout cannot be written (not a closed pipe: a full disk, an I/O error)."""


def _written(write, *args):
    """Calls a function that writes to stdout; its OSError becomes OutputError."""
    try:
        return write(*args)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(exc.strerror or str(exc)) from None


def _report_internal(result, debug: bool, path: str) -> None:
    """One line naming the file (the traceback too with --debug); its row says the same."""
    if debug:
        sys.stderr.write(result.trace)
    hint = "" if debug else f" ({DEBUG_HINT})"
    print(f"digitcam predict: {result.error} on {path}{hint}", file=sys.stderr)


def _note_skipped(inputs) -> None:
    """Tells stderr what was passed over, so an empty or short output is not a mystery."""
    if inputs.skipped_directories:
        print(
            f"digitcam predict: {inputs.skipped_directories} folder(s) inside the given ones "
            "not read (use --recursive)",
            file=sys.stderr,
        )
    if inputs.skipped_files:
        print(
            f"digitcam predict: {inputs.skipped_files} file(s) in the folders are not pictures",
            file=sys.stderr,
        )
    if not inputs.files:
        print("digitcam predict: no pictures found", file=sys.stderr)
