"""What built a model: the package version, the commit, and a hash of the train/ and convert/
source that ran, marked -dirty only when that source differs from the commit."""

from __future__ import annotations

import hashlib
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ("train", "convert")


def source_files(root: Path) -> list[Path]:
    """The Python source of train/ and convert/, sorted (caches and build outputs left out)."""
    return sorted(
        path
        for folder in SOURCE_DIRS
        for path in (root / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def source_hash(root: Path = REPO) -> str:
    """sha256 (first 12 hex digits) over the relative path and bytes of each source file."""
    digest = hashlib.sha256()
    for path in source_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], capture_output=True, text=True, check=True, cwd=root
    ).stdout.strip()


def code_version(root: Path = REPO) -> str:
    """'0.1.0+3f2a9c1d0b7e.src-5e8d2a61c4f0' ('-dirty' appended when train/ or convert/
    differ from that commit, untracked source included); '0.1.0+nogit.src-...' outside git."""
    try:
        base = version("digitcam")
    except PackageNotFoundError:
        base = "unknown"
    src = f"src-{source_hash(root)}"
    try:
        commit = _git(root, "rev-parse", "--short=12", "HEAD")
        changed = _git(root, "status", "--porcelain", "--untracked-files=all", "--", *SOURCE_DIRS)
    except (OSError, subprocess.CalledProcessError):
        return f"{base}+nogit.{src}"
    dirty = any(line.split()[-1].endswith(".py") for line in changed.splitlines())
    return f"{base}+{commit}.{src}" + ("-dirty" if dirty else "")
