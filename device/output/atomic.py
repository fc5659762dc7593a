"""Writing a file whole or not at all: a full disk or a kill leaves no truncated file behind."""

from __future__ import annotations

import os
from pathlib import Path


def write_whole(path: Path, data: bytes) -> None:
    """Writes path through a temporary beside it and a rename; an OSError names the file."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from None
