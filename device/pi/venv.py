"""The deploy directory's virtual environment: made once, seeing apt's packages, with each
release installed into it editable."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

from device.pi.layout import EXIT_INSTALL, DeployError, Layout, say


def is_pinned(layout: Layout, name: str) -> bool:
    stamp = layout.pinned_stamp
    return stamp.is_file() and stamp.read_text().strip() == name and venv_works(layout)


def venv_works(layout: Layout) -> bool:
    python = layout.venv / "bin" / "python"
    return python.exists() and subprocess.run([python, "-c", ""]).returncode == 0


def ensure_venv(layout: Layout) -> None:
    """A venv that also sees apt's packages (python3-picamera2 cannot be pip-installed)."""
    if venv_works(layout):
        return
    say(
        f"creating {layout.venv} (--system-site-packages, so apt's picamera2 is visible); "
        "the first install downloads LiteRT and numpy, a minute or two on a Pi"
    )
    argv = [sys.executable, "-m", "venv", "--clear", "--system-site-packages", str(layout.venv)]
    if subprocess.run(argv).returncode != 0:
        raise DeployError(
            EXIT_INSTALL,
            f"could not create {layout.venv}: sudo apt install python3-venv, then deploy again",
        )


def pip_install(layout: Layout, release: Path, with_dependencies: bool) -> None:
    """Editable install: the venv's digitcam runs the code and model inside release."""
    python = layout.venv / "bin" / "python"
    argv = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if with_dependencies:
        say(f"installing digitcam[device] from release {release.name} into {layout.venv}")
        argv += requirements(release, system_numpy())
    else:
        argv += ["--no-deps", "--editable", str(release)]
    if subprocess.run(argv).returncode != 0:
        raise DeployError(
            EXIT_INSTALL,
            "pip could not install digitcam[device] (its message is above): check the Pi's "
            "internet connection and free space (df -h), then deploy again",
        )
    layout.pinned_stamp.write_text(release.name + "\n")


def requirements(release: Path, apt_numpy: str | None) -> list[str]:
    """What pip installs. apt's numpy, when there is one, is kept: apt's picamera2 (simplejpeg)
    is compiled against it and fails to import under another, while LiteRT's newest
    dependencies would otherwise pull numpy 2 into the venv on Bookworm (numpy 1.24).
    """
    pinned = [f"numpy=={apt_numpy}"] if apt_numpy else []
    return ["--editable", f"{release}[device]", *pinned]


def system_numpy() -> str | None:
    """The numpy version this (system) Python has, e.g. Debian's python3-numpy."""
    try:
        return metadata.version("numpy")
    except metadata.PackageNotFoundError:
        return None
