"""digitcam: the Pi runtime's command line; each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

# name -> (module with add_arguments(parser) and run(args) -> exit code, one-line help).
# Only the chosen command's module is imported: `digitcam doctor` must start even when a
# dependency of another command (numpy, Pillow, tqdm) is missing, to say so.
COMMANDS = {
    "predict": ("device.predict", "read the handwritten digit in each picture file or folder"),
    "watch": ("device.watch", "read digits from the camera continuously"),
    "doctor": ("device.doctor", "check this machine: Python, numpy, interpreter, model, camera"),
    "deploy": ("device.deploy", "copy the runtime and model to a Raspberry Pi and start it"),
    "bench": ("device.bench", "measure size, accuracy, latency, fps and throughput"),
}
DEFAULT_MODEL_HELP = "the .tflite model (its .json metadata must sit beside it)"
MODEL_ENV = "DIGITCAM_MODEL"
PACKAGED_MODEL = Path(__file__).resolve().parents[1] / "models" / "digitcam.tflite"


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
    from device.pipeline import DEFAULT_MIN_CONFIDENCE

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


def build_parser(chosen: str | None) -> argparse.ArgumentParser:
    """Every command is listed; only `chosen` has its module imported and its options added."""
    parser = argparse.ArgumentParser(
        prog="digitcam",
        description="Read handwritten digits from photos or a Raspberry Pi camera.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        if name != chosen:
            commands.add_parser(name, help=help_text)
            continue
        module = importlib.import_module(module_name)
        sub = commands.add_parser(
            name,
            help=help_text,
            description=getattr(module, "DESCRIPTION", module.__doc__),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    args = build_parser(chosen).parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("digitcam: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
