"""The optional systemd service: 'digitcam watch' at boot, its answers in a rotated log."""

from __future__ import annotations

import os
import pwd
import re
import subprocess
import tempfile
from pathlib import Path

NAME = "digitcam"
SERVICE_USER = "digitcam"  # a system user of its own, in the video group; never the deployer
UNIT_PATH = Path(f"/etc/systemd/system/{NAME}.service")
LOGROTATE_PATH = Path(f"/etc/logrotate.d/{NAME}")
LOG_FILE = Path(f"/var/log/{NAME}/answers.jsonl")
SYSTEMD_RUNNING = Path("/run/systemd/system")  # how sd_booted() tells systemd is PID 1
WATCH_ARGS = ("watch", "--source", "picamera", "--format", "jsonl")
GROWING_BACKOFF_SINCE = 254  # systemd version that added RestartSteps= / RestartMaxDelaySec=
EXIT_USAGE = 2  # watch's exit status for wrong usage or an unusable model: restarting won't help

# What libcamera (under picamera2) opens, by the kernel's device class (/proc/devices): the
# sensor, the Unicam/CFE receivers and the ISP (/dev/video*, /dev/v4l-subdev*: video4linux),
# their media controllers (/dev/media*) and the DMA heaps its buffers come from
# (/dev/dma_heap/*). Raspberry Pi OS gives all of them to the video group.
PLAIN_WORD = re.compile(r"[A-Za-z0-9_./@+=,-]+")  # needs no quotes anywhere in a unit
CAMERA_DEVICES = ("char-video4linux rw", "char-media rw", "char-dma_heap rw")


class ServiceError(Exception):
    """The service could not be installed or started; the message says what to do."""


def render_unit(
    app_dir: Path,
    venv: Path,
    log_file: Path = LOG_FILE,
    systemd: int | None = None,
    user: str = SERVICE_USER,
    http_port: int | None = None,
) -> str:
    """The unit file. stdout (one JSON answer a line) goes to log_file; stderr to the journal.
    With http_port, watch also serves its live view there, on 127.0.0.1 only (ssh -L).

    'append:' opens the log with O_APPEND, so logrotate's copytruncate leaves no hole of
    zeros in it. Restarts never stop (StartLimitIntervalSec=0): a camera that comes back
    is picked up; exit status 2 (bad usage or model) is permanent and stops them. From
    systemd 254 the delay between tries grows to 5 minutes.
    """
    backoff = "RestartSec=10s"
    if systemd is not None and systemd >= GROWING_BACKOFF_SINCE:
        backoff = "RestartSec=5s\nRestartSteps=6\nRestartMaxDelaySec=5min"
    deploy_root = Path(os.path.commonpath([app_dir, venv]))
    return f"""\
[Unit]
Description=digitcam: read handwritten digits from the Raspberry Pi camera
After=local-fs.target
StartLimitIntervalSec=0

[Service]
Type=exec
User={user}
SupplementaryGroups=video
WorkingDirectory={escape_specifiers(str(app_dir))}
Environment=PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
ExecStart={exec_start(venv, http_port)}
StandardOutput=append:{log_file}
StandardError=journal
Restart=on-failure
RestartPreventExitStatus={EXIT_USAGE}
{backoff}
{hardening(deploy_root, network=http_port is not None)}

[Install]
WantedBy=multi-user.target
"""


def exec_start(venv: Path, http_port: int | None = None) -> str:
    """The ExecStart= value: venv's digitcam running watch (with its live view on 127.0.0.1
    when http_port is given), each word quoted for systemd (which expands $VARIABLES in the
    arguments, not in the executable's path)."""
    words = WATCH_ARGS + (("--http", f"127.0.0.1:{http_port}") if http_port else ())
    arguments = " ".join(quote(word, dollar=True) for word in words)
    return f"{quote(str(venv / 'bin' / NAME))} {arguments}"


def hardening(deploy_root: Path, network: bool = False) -> str:
    """The sandbox: nothing but the camera devices, deploy_root read-only, no privileges.

    ProtectHome=tmpfs hides every home directory (the deployer's keys among them) and
    BindReadOnlyPaths= brings back deploy_root alone, at the same path, whatever its
    parents' modes. network adds IPv4/IPv6 sockets, for a service that serves over HTTP.
    """
    families = "AF_UNIX AF_NETLINK" + (" AF_INET AF_INET6" if network else "")
    lines = [
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
        "ProtectSystem=strict",
        "ProtectHome=tmpfs",
        f"BindReadOnlyPaths={quote(str(deploy_root), colon=True)}",
        "PrivateTmp=yes",
        "PrivateMounts=yes",
        "DevicePolicy=closed",
        *(f"DeviceAllow={device}" for device in CAMERA_DEVICES),
        f"RestrictAddressFamilies={families}",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectClock=yes",
        "ProtectHostname=yes",
        "ProtectProc=invisible",
        "RemoveIPC=yes",
        "SystemCallArchitectures=native",
        "SystemCallFilter=@system-service",
        "SystemCallFilter=~@privileged @resources",
        "SystemCallErrorNumber=EPERM",
        "UMask=0022",  # the answers log stays readable to the Pi's users, as /var/log is
    ]
    return "\n".join(lines)


def escape_specifiers(text: str) -> str:
    """systemd expands %-specifiers in most settings: a literal % is written %%."""
    if any(ord(char) < 32 for char in text):
        raise ServiceError(f"{text!r}: a control character cannot go into a systemd unit")
    return text.replace("%", "%%")


def quote(word: str, dollar: bool = False, colon: bool = False) -> str:
    """One word for a unit file, double-quoted unless plain: %, \\ and " escaped; $ (which
    ExecStart= expands) when dollar; : (BindPaths='s separator) when colon."""
    if PLAIN_WORD.fullmatch(word):
        return word
    text = escape_specifiers(word).replace("\\", "\\\\").replace('"', '\\"')
    if dollar:
        text = text.replace("$", "$$")
    if colon:
        text = text.replace(":", "\\:")
    return f'"{text}"'


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
    """Makes the service user, writes the unit and the logrotate rule, enables the service
    and (re)starts it."""
    as_root = _root_prefix()
    ensure_user(as_root)
    unit = render_unit(app_dir, venv, LOG_FILE, systemd_version(), http_port=http_port)
    _install_file(as_root, unit, UNIT_PATH)
    _install_file(as_root, render_logrotate(LOG_FILE), LOGROTATE_PATH)
    _run([*as_root, "install", "-d", "-m", "755", str(LOG_FILE.parent)])
    _run([*as_root, "systemctl", "daemon-reload"])
    _run([*as_root, "systemctl", "enable", "--quiet", f"{NAME}.service"])
    return restart()


def ensure_user(as_root: list[str]) -> None:
    """SERVICE_USER: a system user with no home, no login shell and no sudo, in group video."""
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        _run(
            [*as_root, "useradd", "--system", "--user-group", "--no-create-home"]
            + ["--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin"]
            + ["--groups", "video", "--comment", "digitcam service", SERVICE_USER]
        )
    else:
        _run([*as_root, "usermod", "--append", "--groups", "video", SERVICE_USER])


def refresh(app_dir: Path, venv: Path) -> str:
    """An installed service, on a new current release: restarted, and first rewritten (with its
    user) when this release renders another unit, as when the sandbox was added. A live view
    the service had stays on its port."""
    installed = UNIT_PATH.read_text()
    port = installed_http_port(installed)
    if port and not (app_dir / "device" / "web").is_dir():
        port = None  # a release from before the live view (a rollback): its watch has no --http
    if installed != render_unit(app_dir, venv, LOG_FILE, systemd_version(), http_port=port):
        return install(app_dir, venv, port)
    return restart()


def installed_http_port(unit: str) -> int | None:
    """The live-view port an installed unit's watch serves on, if any."""
    found = re.search(r"--http \"?127\.0\.0\.1:(\d+)", unit)
    return int(found.group(1)) if found else None


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
