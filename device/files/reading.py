"""One picture file to one output row: decode, read, and the box put back in the file's pixels."""

from __future__ import annotations

import traceback
from pathlib import Path

from device.files.decode import DecodeError, read_picture
from device.model.interpreter import DigitModel
from device.output.formats import FileReading
from device.vision.read import read_digit


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
    size = picture.size or (picture.grey.shape[1], picture.grey.shape[0])
    return FileReading(str(path), reading.scaled(picture.scale, size), None)
