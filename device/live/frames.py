"""A frame source's interface and the errors it raises, shared by every kind of source."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from device.live.spec import EXIT_CAMERA_BUSY, EXIT_CAMERA_STOPPED, EXIT_NO_CAMERA, EXIT_UNAVAILABLE


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
