"""One picture file to one output row: decode, read, and the box put back in the file's pixels."""

from __future__ import annotations

import traceback
from pathlib import Path

from device.files.decode import DecodeError, read_picture
from device.model.interpreter import DigitModel
from device.output.formats import FileReading
from device.vision.read import Box, Reading, read_digit


def read_file(path: Path | str, model: DigitModel, min_confidence: float) -> FileReading:
    """Decodes and reads one file; any failure becomes FileReading.error, never an exception."""
    try:
        picture = read_picture(path)
        reading = read_digit(picture.grey, model, min_confidence)
    except DecodeError as exc:
        return FileReading(str(path), None, exc.reason)
    except Exception as exc:  # a bug: reported as one, but it must not stop thousands of files
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        return FileReading(str(path), None, f"internal error ({reason})", traceback.format_exc())
    if reading.box is not None:
        scaled = tuple(int(round(v * picture.scale)) for v in reading.box)
        size = picture.size or (picture.grey.shape[1], picture.grey.shape[0])
        reading = Reading(
            reading.digit,
            reading.confidence,
            inside(scaled, size),
            reading.model_input,
            reading.reason,
        )
    return FileReading(str(path), reading, None)


def inside(box: Box, size: tuple[int, int]) -> Box:
    """The box cut to a picture of size (width, height): rounding the reduced picture's box
    back to the file's pixels may overshoot its edge by a few pixels."""
    x, y, w, h = box
    x, y = min(max(0, x), size[0] - 1), min(max(0, y), size[1] - 1)
    return x, y, max(1, min(w, size[0] - x)), max(1, min(h, size[1] - y))
