"""What every command shares: the model options, argument types and the error policy."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from device.contract import DEFAULT_MIN_CONFIDENCE

DEFAULT_MODEL_HELP = "the .tflite model (its .json metadata must sit beside it)"
MODEL_ENV = "DIGITCAM_MODEL"
PACKAGED_MODEL = Path(__file__).resolve().parents[2] / "models" / "digitcam.tflite"
EXIT_INTERNAL = 70  # a bug in digitcam (sysexits' EX_SOFTWARE), not a problem with the input
EXIT_OUTPUT = 74  # the output could not be written: a full disk, an I/O error (EX_IOERR)
DEBUG_HINT = "run with --debug for the traceback"


class InternalError(Exception):
    """An unexpected exception (a bug) while working on `subject` (a file, a frame)."""

    def __init__(self, subject: str, cause: BaseException):
        super().__init__(f"internal error on {subject}: {describe_exception(cause)}")
        self.subject, self.cause = subject, cause


def describe_exception(exc: BaseException) -> str:
    """'ValueError: what it said', on one line."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def silence_stdout() -> None:
    """Points stdout at /dev/null, so that Python's last flush of a dead or full output at
    exit neither fails nor prints an error of its own."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def default_model_path() -> Path:
    """The model when --model is not given: $DIGITCAM_MODEL, else the one shipped beside us."""
    return Path(os.environ.get(MODEL_ENV) or PACKAGED_MODEL)


def fraction(text: str) -> float:
    """argparse type: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {value}")
    return value


def whole_number(least: int) -> Callable[[str], int]:
    """argparse type: a whole number of at least `least`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, not {value}")
        return value

    return parse


def add_model_arguments(parser: argparse.ArgumentParser, threads_help: str) -> None:
    """--model, --min-confidence and --threads, the same for every command that reads digits."""
    parser.add_argument(
        "--model",
        type=Path,
        metavar="FILE",
        help=f"{DEFAULT_MODEL_HELP} (default: ${MODEL_ENV}, else the shipped one)",
    )
    parser.add_argument(
        "--min-confidence",
        type=fraction,
        default=DEFAULT_MIN_CONFIDENCE,
        metavar="X",
        help="answer 'no digit' below this model confidence, 0-1 (default: %(default)s)",
    )
    parser.add_argument(
        "--threads",
        type=whole_number(1),
        default=1,
        metavar="N",
        help=f"{threads_help} (default: %(default)s)",
    )
