"""Expands the paths named on the command line into a sorted, stable list of picture files."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from device.files.decode import known_image_suffixes, looks_like_image


class InputError(Exception):
    """A path on the command line that does not exist (a usage error)."""


@dataclass
class Inputs:
    files: list[Path] = field(default_factory=list)
    skipped_files: int = 0  # files inside directories that are not pictures
    skipped_directories: int = 0  # subdirectories passed over without --recursive


def _is_picture(path: Path, suffixes: frozenset[str]) -> bool:
    """A picture by its extension, or failing that by its content (a JPEG called 'scan')."""
    return path.suffix.lower() in suffixes or looks_like_image(path)


def _directory_files(directory: Path, recursive: bool, found: Inputs) -> list[Path]:
    """Non-hidden files under a directory, sorted by their path components."""
    files = []
    for root, dirs, names in os.walk(directory):
        visible = sorted(d for d in dirs if not d.startswith("."))
        if not recursive:
            found.skipped_directories += len(visible)
            visible = []
        dirs[:] = visible  # os.walk descends only into these
        files.extend(Path(root, n) for n in names if not n.startswith("."))
    return sorted(files, key=lambda p: p.relative_to(directory).parts)


def list_inputs(paths: list[Path], recursive: bool) -> Inputs:
    """Files in command-line order; a directory contributes its pictures in sorted order.

    A file named directly is always kept (so an unreadable one is reported); inside
    directories, files that are not pictures are skipped and counted.
    """
    for path in paths:
        try:
            path.stat()
        except FileNotFoundError:
            raise InputError(f"no such file or directory: {path}") from None
        except OSError as exc:  # a name too long, a loop of links, a folder we may not enter
            raise InputError(f"{str(path)[:200]}: {exc.strerror}") from None
    suffixes = known_image_suffixes()
    found = Inputs()
    for path in paths:
        if not path.is_dir():
            found.files.append(path)
            continue
        for file in _directory_files(path, recursive, found):
            if file.is_file() and _is_picture(file, suffixes):
                found.files.append(file)
            else:
                found.skipped_files += 1
    return found
