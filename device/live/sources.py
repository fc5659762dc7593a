"""Where `digitcam watch` gets its grey frames: a folder of pictures, synthetic paper, a camera."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from device.files.decode import DecodeError, read_picture
from device.files.inputs import InputError, list_inputs
from device.live.frames import FrameSource, SourceError
from device.live.spec import SourceSpec
from device.output.formats import shown_path


def open_source(spec: SourceSpec, loop: bool = False, seed: int = 0) -> FrameSource:
    """Opens the source (acquiring the camera); SourceError when it cannot give frames."""
    if spec.kind == "dir":
        return FolderSource(Path(spec.argument), loop)
    if spec.kind == "synthetic":
        return SyntheticSource(seed)
    from device.live.camera import PicameraSource  # picamera2 is imported only when asked for

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
                    name = shown_path(exc.name)  # the same escaping as predict's rows
                    print(f"digitcam watch: skipped {name}: {exc.reason}", file=sys.stderr)
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
    # Imported here: only the synthetic source needs the photo generator.
    from device.synthetic.photos import (
        NO_DIGIT_KINDS,
        font_digit,
        photo_of_digit,
        photo_without_digit,
    )

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
