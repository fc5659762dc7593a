"""The workstation side of a deploy: send the runtime and model over SSH, install, self-check;
or roll the Pi back to its previous release."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from device.contract import MetadataError, metadata_path
from device.deploy.remote import (
    SSH_UNREACHABLE,
    DeployError,
    Remote,
    TransferStats,
    require_local_tools,
    run_remote,
    send_tree,
)
from device.model_pair import read_model_pair
from device.pi.layout import (
    EXIT_BUSY,
    EXIT_INSTALL,
    EXIT_LOCAL,
    EXIT_NO_ROLLBACK,
    EXIT_PI_NOT_READY,
    EXIT_SELF_CHECK,
    EXIT_SERVICE,
    EXIT_TRANSFER,
    EXIT_UNREACHABLE,
)

REPO = Path(__file__).resolve().parents[2]
MODEL = Path("models/digitcam.tflite")
RUNTIME_FILES = ("pyproject.toml", "README.md", "device")

# Runs on the Pi before anything is sent: makes DIR and checks what the deploy will need.
PREPARE_SCRIPT = r"""
umask 022
case "$1" in "~/"*) set -- "${1#"~/"}" "$2" "$3" ;; esac
mkdir -p -- "$1/releases" || exit 41
cd -- "$1" && echo "root=$(pwd -P)" || exit 41
[ -w releases ] || { echo "$(pwd -P)/releases is not writable" >&2; exit 41; }
if [ -L current ]; then echo "current=$(pwd -P)/$(readlink current)"; fi
command -v rsync >/dev/null || exit 42
"$2" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' || exit 43
if [ "$3" = service ]; then
  [ -d /run/systemd/system ] || exit 44
  [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null || exit 45
fi
"""
# --rollback: the deploy directory and its current release, resolved; nothing is created.
ROLLBACK_SCRIPT = r"""
case "$1" in "~/"*) set -- "${1#"~/"}" ;; esac
cd -- "$1" 2>/dev/null && [ -L current ] || exit 46
echo "root=$(pwd -P)"
"""
PI_SIDE_EXITS = (
    EXIT_TRANSFER,
    EXIT_INSTALL,
    EXIT_SELF_CHECK,
    EXIT_SERVICE,
    EXIT_BUSY,
    EXIT_NO_ROLLBACK,
)
PREPARE_FAILURES = {
    41: "cannot create or write {dir} on {target} ({said}): "
    "choose another directory (--dir, or make deploy PI_DIR=...)",
    42: "rsync is not installed on {target}: run 'sudo apt install rsync' there",
    43: "{python} on {target} is missing, older than 3.10 or lacks venv ({said}): "
    "use Raspberry Pi OS Bookworm or later and 'sudo apt install python3-venv'",
    44: "systemd is not running on {target}, so the service cannot be installed: "
    "deploy without SERVICE=1 (--service) and run 'digitcam watch' by hand",
    45: "installing the service needs root, and sudo asks {target} for a password: "
    "allow that user passwordless sudo (the Pi's first user has it), or deploy without it",
}


@dataclass(frozen=True)
class PiState:
    root: str  # absolute path of DIR on the Pi
    current: str | None  # absolute path of the current release, if any


def deploy(
    remote: Remote,
    remote_dir: str,
    python: str,
    service: bool,
    source: Path = REPO,
    http_port: int | None = None,
) -> str:
    """Sends source's runtime to the Pi and activates it there; returns a summary line."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="digitcam-deploy-") as stage:
        paths = runtime_paths(source, Path(stage))
        return _deploy(remote, remote_dir, python, service, source, paths, started, http_port)


def _deploy(remote, remote_dir, python, service, source, paths, started, http_port) -> str:
    require_local_tools(remote, EXIT_LOCAL)
    state = prepare(remote, remote_dir, python, service)
    release = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    destination = f"{state.root}/releases/{release}"
    try:
        stats = send_tree(remote, source, paths, destination, state.current, EXIT_TRANSFER)
    except DeployError:
        remove_partial(remote, destination)
        raise
    print(f"sent {stats.bytes_sent:,} bytes to {remote.target}; {describe_changes(stats)}")
    activate(remote, state.root, release, python, service, http_port)
    seconds = time.monotonic() - started
    return (
        f"deployed to {remote.target}:{state.root} in {seconds:.1f} s; try: "
        f"ssh {remote.target} {state.root}/venv/bin/digitcam predict PHOTO.jpg"
    )


def describe_changes(stats: TransferStats, shown: int = 4) -> str:
    changed = stats.changed_files
    if not changed:
        return f"none of the {stats.files_total} files changed"
    names = ", ".join(changed[:shown]) + (
        f" and {len(changed) - shown} more" if len(changed) > shown else ""
    )
    return f"{len(changed)} of {stats.files_total} files changed: {names}"


def runtime_paths(source: Path, stage: Path) -> list[str]:
    """What the Pi needs, relative to source; DeployError if the model is missing or stale.

    The model pair is read once, as one consistent pair (a convert may be installing a new
    one meanwhile), and sent from a copy in `stage` ("STAGE/./models/..." for rsync)."""
    model = source / MODEL
    if not model.is_file():
        raise DeployError(EXIT_LOCAL, f"{model} not found: run 'make train convert' first")
    try:
        pair = read_model_pair(model)
    except MetadataError as exc:
        raise DeployError(EXIT_LOCAL, f"{exc}: run 'make convert' again") from None
    missing = [name for name in RUNTIME_FILES if not (source / name).exists()]
    if missing:
        raise DeployError(
            EXIT_LOCAL, f"{source} lacks {', '.join(missing)}: deploy from a checkout"
        )
    times = model.stat()
    for name, data in (
        (MODEL, pair.content),
        (metadata_path(MODEL), (json.dumps(pair.entry, indent=2) + "\n").encode()),
    ):
        staged = stage / name
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_bytes(data)
        os.chmod(staged, 0o644)
        os.utime(staged, ns=(times.st_atime_ns, times.st_mtime_ns))  # unchanged: hard-linked
    return [*RUNTIME_FILES, f"{stage}/./{MODEL}", f"{stage}/./{metadata_path(MODEL)}"]


def prepare(remote: Remote, remote_dir: str, python: str, service: bool) -> PiState:
    """Creates the deploy directory on the Pi and checks it can take a release (and service)."""
    argv = ["sh", "-c", PREPARE_SCRIPT, "prepare", remote_dir, python, "service" if service else ""]
    done = run_remote(remote, argv, EXIT_UNREACHABLE)
    if done.returncode in (44, 45):
        raise DeployError(
            EXIT_SERVICE, PREPARE_FAILURES[done.returncode].format(target=remote.target)
        )
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no message"])[-1]
        template = PREPARE_FAILURES.get(
            done.returncode, "preparing {dir} on {target} failed ({said})"
        )
        message = template.format(dir=remote_dir, target=remote.target, python=python, said=said)
        raise DeployError(EXIT_PI_NOT_READY, message)
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return PiState(root=values["root"], current=values.get("current"))


def remove_partial(remote: Remote, destination: str) -> None:
    with contextlib.suppress(DeployError):  # the Pi is gone; a later deploy's prune cleans up
        run_remote(remote, ["rm", "-rf", destination], EXIT_UNREACHABLE)


def rollback(remote: Remote, remote_dir: str, python: str) -> str:
    """Makes the Pi's previous release current again; returns a summary line."""
    require_local_tools(remote, EXIT_LOCAL)
    done = run_remote(
        remote, ["sh", "-c", ROLLBACK_SCRIPT, "rollback", remote_dir], EXIT_UNREACHABLE
    )
    if done.returncode != 0:
        raise DeployError(
            EXIT_NO_ROLLBACK,
            f"nothing to roll back: no deployed release in {remote_dir} on {remote.target}",
        )
    root = done.stdout.strip().partition("root=")[2]
    # The current release's own device.pi.release does it: it knows the layout it made.
    argv = [python, "-u", "-m", "device.pi.release", root, "--rollback"]
    run_release(remote, f"{root}/current", argv, doing="rolling back")
    return f"rolled back {remote.target}:{root}"


def activate(
    remote: Remote, root: str, release: str, python: str, service: bool, http_port: int | None
) -> None:
    """Runs device.pi.release from the sent tree with the Pi's Python; its output shows here."""
    argv = [python, "-u", "-m", "device.pi.release", root, release]
    argv += ["--service"] if service else []
    argv += ["--http", str(http_port)] if http_port else []
    run_release(remote, f"{root}/releases/{release}", argv, doing="installing")


def run_release(remote: Remote, cwd: str, argv: list[str], doing: str) -> None:
    """Runs argv in cwd on the Pi, its output shown here as it comes; DeployError on failure."""
    line = f"cd {shlex.quote(cwd)} && PYTHONDONTWRITEBYTECODE=1 {shlex.join(argv)}"
    done = subprocess.run(remote.shell(line), stdin=subprocess.DEVNULL)
    if done.returncode == SSH_UNREACHABLE:
        raise DeployError(
            EXIT_UNREACHABLE,
            f"lost the SSH connection to {remote.target} while {doing}: try again",
        )
    if done.returncode in PI_SIDE_EXITS:
        raise DeployError(done.returncode, "")  # device.pi.release has said why, in one line
    if done.returncode != 0:
        raise DeployError(
            EXIT_INSTALL,
            f"{doing} on {remote.target} failed (exit {done.returncode}, see above)",
        )
