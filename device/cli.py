"""digitcam: the Pi runtime's command line, one module per command under device/commands."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import traceback
from importlib import import_module

from device.commands.common import (
    DEBUG_HINT,
    EXIT_INTERNAL,
    PACKAGED_MODEL,
    InternalError,
    describe_exception,
)
from device.contract import metadata_path
from device.model_pair import MAX_METADATA_BYTES
from device.regular import read_regular

# name -> module under device.commands. Each registers its options from a light module
# (standard library only) and imports what it needs inside run(): `digitcam doctor` must
# start, to say so, even when numpy, Pillow or LiteRT is missing.
COMMANDS = ("predict", "watch", "eval", "doctor", "deploy", "bench")


def version_line() -> str:
    """'digitcam 0.1.0, model efbd3e1d' (the shipped model's sha256 prefix, if there is one)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        text = f"digitcam {version('digitcam')}"
    except PackageNotFoundError:
        text = "digitcam (not installed)"
    try:
        meta = read_regular(metadata_path(PACKAGED_MODEL), MAX_METADATA_BYTES)  # a FIFO: no wait
        sha = json.loads(meta)["sha256"][:8]
        return f"{text}, model {PACKAGED_MODEL.name} {sha}"
    except (OSError, ValueError, KeyError, TypeError):
        return f"{text}, no shipped model"


class VersionAction(argparse.Action):
    """--version: the version line is looked up only when asked for (importlib.metadata alone
    takes 25 ms, a tenth of predict's start-up)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, **kwargs):
        kwargs.setdefault("help", "show the version and the shipped model, and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_line())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digitcam",
        description="Read handwritten digits from photos or a Raspberry Pi camera.",
        epilog="'digitcam COMMAND --help' explains each command.",
    )
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = import_module(f"device.commands.{name}")
        summary = module.__doc__.split(":", 1)[1].strip().rstrip(".")
        sub = commands.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=getattr(module, "DESCRIPTION", None),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
    except KeyboardInterrupt:  # Ctrl-C while starting: quietly, as after
        return 130
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command is None:  # bare `digitcam`: what there is to do
        parser.print_help()
        return 0
    previous = signal.signal(signal.SIGTERM, _interrupt)  # kill, timeout, systemd: as Ctrl-C
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print(f"digitcam {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, or the traceback when asked for
        if args.debug:
            traceback.print_exc()
        problem = exc if isinstance(exc, InternalError) else describe_exception(exc)
        hint = "" if args.debug else f" ({DEBUG_HINT})"
        prefix = "" if isinstance(exc, InternalError) else "internal error: "
        print(f"digitcam {args.command}: {prefix}{problem}{hint}", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


# digitcam-train and digitcam-convert are installed wherever digitcam is, the Pi included
# (console scripts cannot depend on an extra), so they start here: where train/ or
# TensorFlow is missing they say so in one line; elsewhere they become `python -m train`.
WORKSTATION_STAGES = {"train": "training", "convert": "converting a model"}


def train_main() -> int:
    return workstation_stage("train")


def convert_main() -> int:
    return workstation_stage("convert")


def workstation_stage(package: str) -> int:
    import importlib.util
    import os

    prog, what = f"digitcam-{package}", WORKSTATION_STAGES[package]
    if importlib.util.find_spec(package) is None:
        print(
            f"{prog}: {what} belongs on the workstation, not here (a deploy sends only the "
            f"runtime): run 'make {package}' in the checkout there, then 'make deploy'",
            file=sys.stderr,
        )
        return 2
    if importlib.util.find_spec("tensorflow") is None:
        print(
            f"{prog}: {what} needs TensorFlow, which this environment lacks: run "
            f"'make {package}' in the checkout (it installs the train extra)",
            file=sys.stderr,
        )
        return 2
    os.execv(sys.executable, [sys.executable, "-m", package, *sys.argv[1:]])
    return 0  # not reached: execv replaces this process


if __name__ == "__main__":
    sys.exit(main())
