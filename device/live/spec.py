"""What `--source` names, and the exit codes of its problems (standard library only)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

# Exit codes of `digitcam watch` for the source problems below (0 and 2 are used by watch).
EXIT_UNAVAILABLE, EXIT_NO_CAMERA, EXIT_CAMERA_BUSY, EXIT_CAMERA_STOPPED = 3, 4, 5, 6
CAMERA_RETRIES = 3  # failed captures in a row before the camera is declared stopped

KINDS = ("picamera", "dir", "synthetic")
UNSUPPORTED = {
    "v4l2": "USB webcams",
    "video": "video files",
}
UNSUPPORTED_HELP = """\
USB webcams (v4l2:N) and video files (video:FILE) are not supported: reading them needs
OpenCV or ffmpeg, which digitcam does not depend on. Extract a video's frames instead,
ffmpeg -i clip.mp4 -vf fps=15 frames/%05d.png, and play them with --source dir:frames."""


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # one of KINDS
    argument: str  # the folder for "dir", else ""


def parse_source(text: str) -> SourceSpec:
    """`--source` text to a SourceSpec; argparse turns the ArgumentTypeError into a usage error."""
    kind, _, argument = text.partition(":")
    if kind in UNSUPPORTED:
        raise argparse.ArgumentTypeError(
            f"{UNSUPPORTED[kind]} ({text}) are not supported: use --source dir:FOLDER "
            "with the video's frames extracted by ffmpeg (see --help)"
        )
    if kind not in KINDS:
        raise argparse.ArgumentTypeError(
            f"unknown source {text!r}: picamera, dir:FOLDER or synthetic"
        )
    if kind == "dir" and not argument:
        raise argparse.ArgumentTypeError("dir needs a folder: --source dir:FOLDER")
    if kind != "dir" and argument:
        raise argparse.ArgumentTypeError(f"{kind} takes no argument, not {argument!r}")
    return SourceSpec(kind, argument)
