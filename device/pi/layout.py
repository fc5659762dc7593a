"""A deploy's exit statuses and error (both ends share them), its directory on the Pi, its lines."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Exit statuses of 'digitcam deploy', shared by both ends of it.
EXIT_LOCAL = 2  # on the workstation: no model, or ssh/rsync missing
EXIT_UNREACHABLE = 3  # ssh could not connect or log in
EXIT_PI_NOT_READY = 4  # directory not writable, Python or rsync missing on the Pi
EXIT_TRANSFER = 5  # rsync failed
EXIT_INSTALL = 6  # the virtual environment or pip failed
EXIT_SELF_CHECK = 7  # digitcam doctor failed on the Pi; the previous release stays current
EXIT_SERVICE = 8  # the systemd service could not be installed or restarted
EXIT_BUSY = 9  # another deploy to the same directory is running
EXIT_NO_ROLLBACK = 10  # --rollback: no release before the current one on the Pi


class DeployError(Exception):
    """A deploy step failed, here or on the Pi; code is the exit status, the message one line."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Layout:
    """DIR/releases/NAME (one per deploy), DIR/current -> releases/NAME, DIR/venv."""

    root: Path

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    @property
    def current(self) -> Path:
        return self.root / "current"

    @property
    def venv(self) -> Path:
        return self.root / "venv"

    @property
    def pinned_stamp(self) -> Path:
        """Names the release the venv's editable install points at."""
        return self.venv / "digitcam-release"

    def release(self, name: str) -> Path:
        return self.releases / name

    def current_name(self) -> str | None:
        return Path(os.readlink(self.current)).name if self.current.is_symlink() else None


def say(line: str) -> None:
    print(line, flush=True)
