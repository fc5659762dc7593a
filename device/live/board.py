"""The Raspberry Pi this runs on, if any: its model, and whether apt's picamera2 is visible."""

from __future__ import annotations

import sys
from pathlib import Path

DEVICE_TREE_MODEL = Path("/proc/device-tree/model")


def raspberry_pi_model() -> str | None:
    """'Raspberry Pi 5 Model B Rev 1.0' on a Pi, None elsewhere."""
    try:
        model = DEVICE_TREE_MODEL.read_text(errors="replace").strip("\x00\n ")
    except OSError:
        return None
    return model if model.startswith("Raspberry Pi") else None


def picamera2_advice() -> str:
    if in_venv_without_system_packages():
        return (
            f"this environment ({sys.prefix}) hides the system packages: recreate it with "
            "'python3 -m venv --system-site-packages' ('make deploy' does), after "
            "'sudo apt install python3-picamera2'"
        )
    return "sudo apt install python3-picamera2"


def in_venv_without_system_packages() -> bool:
    config = Path(sys.prefix) / "pyvenv.cfg"
    if sys.prefix == sys.base_prefix or not config.is_file():
        return False
    for line in config.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "include-system-site-packages":
            return value.strip().lower() != "true"
    return True
