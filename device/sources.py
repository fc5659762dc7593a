"""Where `digitcam watch` gets its grey frames: a folder of pictures, synthetic paper, a camera."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from device.decode import DecodeError, read_picture
from device.inputs import InputError, list_inputs
from device.synthetic import NO_DIGIT_KINDS, font_digit, photo_of_digit, photo_without_digit

# Exit codes of `digitcam watch` for the source problems below (0 and 2 are used by watch).
EXIT_UNAVAILABLE, EXIT_NO_CAMERA, EXIT_CAMERA_BUSY, EXIT_CAMERA_STOPPED = 3, 4, 5, 6

KINDS = ("picamera", "dir", "synthetic")
UNSUPPORTED = {
    "v4l2": "USB webcams",
    "video": "video files",
}
UNSUPPORTED_HELP = """\
USB webcams (v4l2:N) and video files (video:FILE) are not supported: reading them needs
OpenCV or ffmpeg, which digitcam does not depend on. Extract a video's frames instead,
ffmpeg -i clip.mp4 -vf fps=15 frames/%05d.png, and play them with --source dir:frames."""


class SourceError(Exception):
    """A source that cannot give frames; exit_code tells which problem (see watch --help)."""

    exit_code = EXIT_UNAVAILABLE


class NoCamera(SourceError):
    exit_code = EXIT_NO_CAMERA


class CameraBusy(SourceError):
    exit_code = EXIT_CAMERA_BUSY


class CameraStopped(SourceError):
    exit_code = EXIT_CAMERA_STOPPED


class FrameSource:
    """Iterating gives 2-D uint8 grey frames until the source runs out (a camera never does);
    close() releases what the source holds, also when used as a context manager."""

    description = "frames"

    def __iter__(self) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release by default."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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


def open_source(spec: SourceSpec, loop: bool = False, seed: int = 0) -> FrameSource:
    """Opens the source (acquiring the camera); SourceError when it cannot give frames."""
    if spec.kind == "dir":
        return FolderSource(Path(spec.argument), loop)
    if spec.kind == "synthetic":
        return SyntheticSource(seed)
    from device.camera import PicameraSource  # camera.py builds on this module

    return PicameraSource()


class FolderSource(FrameSource):
    """The pictures of a folder (or one picture) as frames, sorted by name, optionally looping.

    A picture that cannot be decoded is skipped with a warning on stderr."""

    def __init__(self, path: Path, loop: bool = False):
        try:
            self.files = list_inputs([path], recursive=False).files
        except InputError as exc:
            raise SourceError(str(exc)) from None
        if not self.files:
            raise SourceError(f"{path}: no pictures in this folder")
        self.loop = loop
        self.description = f"{len(self.files)} picture(s) in {path}" + (", looping" if loop else "")

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            played = 0
            for file in self.files:
                try:
                    grey = read_picture(file).grey
                except DecodeError as exc:
                    print(f"digitcam watch: skipped {exc}", file=sys.stderr)
                    continue
                played += 1
                yield grey
            if not played:
                raise SourceError("no picture in the folder could be read")
            if not self.loop:
                return


@dataclass(frozen=True)
class Scene:
    grey: np.ndarray  # (rows, cols) uint8
    digit: int | None  # the digit drawn, None for paper without one


def render_scene(rng: np.random.Generator, size: tuple[int, int], blank_share: float) -> Scene:
    """One photo of paper: a font-drawn digit, or (with probability blank_share) no digit."""
    if rng.random() < blank_share:
        kind = NO_DIGIT_KINDS[rng.integers(len(NO_DIGIT_KINDS))]
        return Scene(_grey(photo_without_digit(rng, kind, size)), None)
    digit = int(rng.integers(10))
    return Scene(_grey(photo_of_digit(font_digit(digit, rng), rng, size)), digit)


def _grey(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).convert("L"))


class SyntheticSource(FrameSource):
    """Endless seeded photos of digits (and of blank paper) on paper, each held for `hold`
    frames as if the sheet stayed still under the camera.

    Drawing a photo takes tens of milliseconds; with pool=N the first N scenes are drawn once
    and then cycled, so frames cost nothing to make (for soak tests and benchmarks)."""

    def __init__(
        self,
        seed: int = 0,
        hold: int = 12,
        pool: int = 0,
        size: tuple[int, int] = (480, 640),
        blank_share: float = 0.2,
    ):
        self.rng = np.random.default_rng(seed)
        self.hold, self.size, self.blank_share = hold, size, blank_share
        self.pool = [self._next_scene() for _ in range(pool)]
        self.description = f"synthetic paper {size[1]}x{size[0]} (seed {seed})"

    def _next_scene(self) -> Scene:
        return render_scene(self.rng, self.size, self.blank_share)

    def scenes(self) -> Iterator[Scene]:
        """The scenes in the order they are shown, each once."""
        while True:
            yield from self.pool or [self._next_scene()]

    def __iter__(self) -> Iterator[np.ndarray]:
        for scene in self.scenes():
            for _ in range(self.hold):
                yield scene.grey
