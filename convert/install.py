"""Installs model files so that a reader, or a kill at any instant, sees the old or the new pair."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from device.contract import metadata_path
from device.model_pair import (
    MAX_METADATA_BYTES,
    MAX_MODEL_BYTES,
    OUTGOING,
    matching_entry,
    parse_metadata,
)
from device.regular import read_regular

# write_atomic's temporaries: ".<target name>.<mkstemp's 8 characters>.tmp"
TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")


def write_atomic(path: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the model is read by other users and rsync
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def installing(directory: Path) -> Iterator[None]:
    """One installer at a time in `directory` (an flock on the directory itself, released by
    the kernel if the process dies); temporaries a killed installer left are removed first."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        remove_temporaries(directory)
        yield
        os.fsync(fd)  # the renames themselves reach the disk
    finally:
        os.close(fd)  # releases the lock


def remove_temporaries(directory: Path) -> list[Path]:
    """Deletes write_atomic's leftovers in `directory` (call with the install lock held)."""
    stale = [p for p in directory.iterdir() if TEMPORARY.match(p.name) and p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def install(files: dict[Path, bytes]) -> None:
    """Writes each file atomically (reports and plots: files that need no partner)."""
    for directory in sorted({path.parent for path in files}):
        with installing(directory):
            for path, data in files.items():
                if path.parent == directory:
                    write_atomic(path, data)


def install_model(model_path: Path, content: bytes, metadata_json: bytes) -> None:
    """Replaces model_path and its .json as a pair, in three atomic renames:

    1. the .json gains the outgoing model's metadata as "outgoing" (beside the new one's);
    2. the new .tflite replaces the old;
    3. the .json loses "outgoing".
    At every instant the .tflite on disk has its entry in the .json (device.contract reads
    the entry whose sha256 matches the bytes it read), so a kill leaves a usable pair."""
    meta_path = metadata_path(model_path)
    with installing(model_path.parent):
        outgoing = _entry_for_current(model_path)
        incoming = parse_metadata(metadata_json)
        if outgoing is not None and outgoing.get("sha256") != incoming.get("sha256"):
            both = {**incoming, OUTGOING: outgoing}
            write_atomic(meta_path, (json.dumps(both, indent=2) + "\n").encode())
        write_atomic(model_path, content)
        write_atomic(meta_path, metadata_json)


def _entry_for_current(model_path: Path) -> dict | None:
    """The metadata of the model installed now, if the pair on disk is a usable one."""
    import hashlib

    try:
        content = read_regular(model_path, MAX_MODEL_BYTES)
        raw = parse_metadata(read_regular(metadata_path(model_path), MAX_METADATA_BYTES))
    except (OSError, ValueError):
        return None  # nothing usable is there: no reader can be relying on it
    return matching_entry(raw, hashlib.sha256(content).hexdigest())
