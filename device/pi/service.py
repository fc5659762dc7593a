"""The optional systemd service: 'digitcam watch' at boot, its answers in a rotated log."""

from __future__ import annotations

import os
import pwd
import re
import subprocess
import tempfile
from pathlib import Path

NAME = "digitcam"
UNIT_PATH = Path(f"/etc/systemd/system/{NAME}.service")
LOGROTATE_PATH = Path(f"/etc/logrotate.d/{NAME}")
LOG_FILE = Path(f"/var/log/{NAME}/answers.jsonl")
SYSTEMD_RUNNING = Path("/run/systemd/system")  # how sd_booted() tells systemd is PID 1
WATCH_ARGS = ("watch", "--source", "picamera", "--format", "jsonl")
GROWING_BACKOFF_SINCE = 254  # systemd version that added RestartSteps= / RestartMaxDelaySec=


class ServiceError(Exception):
    """The service could not be installed or started; the message says what to do."""


def render_unit(
    user: str,
    app_dir: Path,
    venv: Path,
    log_file: Path = LOG_FILE,
    systemd: int | None = None,
    http_port: int | None = None,
) -> str:
    """The unit file. stdout (one JSON answer a line) goes to log_file; stderr to the journal.
    With http_port, watch also serves its live view there, on 127.0.0.1 only (ssh -L).

    'append:' opens the log with O_APPEND, so logrotate's copytruncate leaves no hole of
    zeros in it. Restarts never stop (StartLimitIntervalSec=0): a camera that comes back
    is picked up. From systemd 254 the delay between tries grows to 5 minutes.
    """
    backoff = "RestartSec=10s"
    if systemd is not None and systemd >= GROWING_BACKOFF_SINCE:
        backoff = "RestartSec=5s\nRestartSteps=6\nRestartMaxDelaySec=5min"
    watch_args = WATCH_ARGS + (("--http", f"127.0.0.1:{http_port}") if http_port else ())
    return f"""\
[Unit]
Description=digitcam: read handwritten digits from the Raspberry Pi camera
After=local-fs.target
StartLimitIntervalSec=0

[Service]
Type=exec
User={user}
SupplementaryGroups=video
WorkingDirectory={app_dir}
Environment=PYTHONUNBUFFERED=1
ExecStart={venv}/bin/digitcam {" ".join(watch_args)}
StandardOutput=append:{log_file}
StandardError=journal
Restart=on-failure
{backoff}

[Install]
WantedBy=multi-user.target
"""


def render_logrotate(log_file: Path = LOG_FILE) -> str:
    """Weekly or at 20 MB, 8 old logs kept, gzipped. copytruncate: the service keeps its file
    descriptor, so the file is copied and emptied in place (a line written in between is lost).
    """
    return f"""\
{log_file} {{
    weekly
    maxsize 20M
    rotate 8
    compress
    delaycompress
    missingok
    notifempty
    copytruncate
}}
"""


def systemd_version() -> int | None:
    try:
        first = subprocess.run(
            ["systemctl", "--version"], capture_output=True, text=True
        ).stdout.splitlines()[0]
    except (OSError, IndexError):
        return None
    match = re.match(r"systemd (\d+)", first)
    return int(match.group(1)) if match else None


def installed() -> bool:
    return UNIT_PATH.is_file()


def install(app_dir: Path, venv: Path, http_port: int | None = None) -> str:
    """Writes the unit and the logrotate rule, enables the service and (re)starts it."""
    as_root = _root_prefix()
    user = pwd.getpwuid(os.geteuid()).pw_name
    unit = render_unit(user, app_dir, venv, LOG_FILE, systemd_version(), http_port)
    _install_file(as_root, unit, UNIT_PATH)
    _install_file(as_root, render_logrotate(LOG_FILE), LOGROTATE_PATH)
    _run([*as_root, "install", "-d", "-m", "755", str(LOG_FILE.parent)])
    _run([*as_root, "systemctl", "daemon-reload"])
    _run([*as_root, "systemctl", "enable", "--quiet", f"{NAME}.service"])
    return restart()


def restart() -> str:
    as_root = _root_prefix()
    _run([*as_root, "systemctl", "restart", f"{NAME}.service"])
    state = subprocess.run(
        ["systemctl", "is-active", f"{NAME}.service"], capture_output=True, text=True
    ).stdout.strip()
    return (
        f"service {NAME}: {state}; answers in {LOG_FILE}; "
        f"status: systemctl status {NAME}; its messages: journalctl -u {NAME}"
    )


def _root_prefix() -> list[str]:
    if not SYSTEMD_RUNNING.is_dir():
        raise ServiceError(
            f"systemd is not running on this machine (no {SYSTEMD_RUNNING}): the service "
            "needs Raspberry Pi OS; run 'digitcam watch' by hand instead"
        )
    if os.geteuid() == 0:
        return []
    if subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode != 0:
        raise ServiceError(
            "installing the service needs root, and sudo asks this user for a password: "
            "allow passwordless sudo (Raspberry Pi OS's first user has it) or see the README"
        )
    return ["sudo", "-n"]


def _install_file(as_root: list[str], text: str, destination: Path) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".tmp") as staged:
        staged.write(text)
        staged.flush()
        _run([*as_root, "install", "-m", "644", staged.name, str(destination)])


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ServiceError(f"'{' '.join(argv)}' failed ({said}): see journalctl -u {NAME}")
