"""On the Pi: install a sent release, self-check it and make it current; or roll back."""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from device.pi import service

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

KEEP_RELEASES = 3  # the newest few stay on the Pi, for 'digitcam deploy PI --rollback'
GENERATED = ("__pycache__", "build")  # written into a release by Python and pip, never sent


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m device.pi.release", description=__doc__)
    parser.add_argument("root", type=Path, help="the deploy directory on this Pi")
    parser.add_argument("name", nargs="?", help="the release just sent into ROOT/releases/")
    parser.add_argument("--service", action="store_true", help="install the systemd service")
    parser.add_argument(
        "--rollback", action="store_true", help="make the release before the current one current"
    )
    parser.add_argument("--http", type=int, metavar="PORT", help="the service's live view port")
    args = parser.parse_args(argv)
    if (args.name is None) != args.rollback:
        parser.error("give either the name of a sent release or --rollback")
    layout = Layout(args.root.resolve())
    os.chdir(layout.root)  # not the new release: a failed one is deleted, pip needs a cwd
    os.umask(0o022)  # the venv and pip's files must be readable by the service's own user
    try:
        with deploy_lock(layout):
            if args.rollback:
                print(rollback(layout), flush=True)
            else:
                print(activate(layout, args.name, args.service, args.http), flush=True)
    except DeployError as exc:
        print(f"digitcam deploy: {exc}", file=sys.stderr, flush=True)
        return exc.code
    return 0


@contextmanager
def deploy_lock(layout: Layout):
    with open(layout.root / ".deploy.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DeployError(
                EXIT_BUSY, f"another deploy into {layout.root} is running: wait and retry"
            ) from None
        yield


def activate(layout: Layout, name: str, install_service: bool, http_port: int | None = None) -> str:
    """Makes release name current (or drops it when it equals the current one); a summary."""
    new, previous = layout.release(name), layout.current_name()
    if not new.is_dir():
        raise DeployError(EXIT_TRANSFER, f"{new} was not received: deploy again")
    changed = not (
        previous and is_pinned(layout, previous) and same_tree(new, layout.release(previous))
    )
    if changed:
        install_release(layout, name, previous, camera=install_service)
        switch_current(layout, name)
        removed = prune(layout)
        result = f"release {name} is now current in {layout.root}"
        result += f" (removed {len(removed)} old release(s))" if removed else ""
    else:
        shutil.rmtree(new)
        say(f"nothing changed: release {previous} stays current")
        self_check(
            layout,
            failure=f"release {previous} fails its self-check (see above)",
            camera=install_service,
        )
        result = f"release {previous} is current in {layout.root}"
    status = update_service(layout, install=install_service, restart=changed, http_port=http_port)
    return f"{result}\n{status}" if status else result


def install_release(layout: Layout, name: str, previous: str | None, camera: bool) -> None:
    """Installs and self-checks release name; on failure, deletes it and re-pins previous."""
    try:
        ensure_venv(layout)
        pip_install(layout, layout.release(name), with_dependencies=True)
        self_check(
            layout, failure=f"release {name} failed its self-check (see above)", camera=camera
        )
    except DeployError as exc:
        shutil.rmtree(layout.release(name), ignore_errors=True)
        if not previous:
            raise
        if is_pinned(layout, name):
            pip_install(layout, layout.release(previous), with_dependencies=False)
        raise DeployError(exc.code, f"{exc}; release {previous} stays current") from None


def rollback(layout: Layout) -> str:
    """Makes the release before the current one current again: pinned, self-checked, switched,
    the service restarted. If it fails its self-check, the current release stays."""
    current = layout.current_name()
    older = sorted(
        path.name
        for path in layout.releases.iterdir()
        if path.is_dir() and current and path.name < current
    )
    if not current or not older:
        kept = f"only release {current} is on the Pi" if current else "no release is current"
        raise DeployError(EXIT_NO_ROLLBACK, f"nothing to roll back to in {layout.root}: {kept}")
    target = older[-1]
    say(f"rolling back from release {current} to {target}")
    try:
        pip_install(layout, layout.release(target), with_dependencies=True)
        self_check(
            layout,
            failure=f"release {target} fails its self-check (see above)",
            camera=service.installed(),
        )
    except DeployError as exc:
        pip_install(layout, layout.release(current), with_dependencies=False)
        raise DeployError(exc.code, f"{exc}; release {current} stays current") from None
    switch_current(layout, target)
    result = f"release {target} is now current in {layout.root} (rolled back from {current})"
    status = update_service(layout, install=False, restart=True)
    return f"{result}\n{status}" if status else result


def say(line: str) -> None:
    print(line, flush=True)


def same_tree(a: Path, b: Path) -> bool:
    return b.is_dir() and tree_digest(a) == tree_digest(b)


def tree_digest(root: Path) -> str:
    """sha256 over every sent file's relative path and content (not what pip or Python add)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        generated = any(part in GENERATED or part.endswith(".egg-info") for part in path.parts)
        if path.is_file() and not generated:
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


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


def self_check(layout: Layout, failure: str, camera: bool = False) -> None:
    """digitcam doctor, in the venv; with camera (a service will run), no camera is a failure."""
    say("running digitcam doctor on the Pi:")
    argv = [layout.venv / "bin" / "digitcam", "doctor", *(["--require-camera"] if camera else [])]
    done = subprocess.run(argv)
    if done.returncode != 0:
        raise DeployError(EXIT_SELF_CHECK, failure)


def switch_current(layout: Layout, name: str) -> None:
    """Points DIR/current at the new release in one rename, so it is never missing or half-set."""
    staged = layout.root / "current.new"
    staged.unlink(missing_ok=True)
    staged.symlink_to(Path("releases") / name)
    os.replace(staged, layout.current)


def prune(layout: Layout, keep: int = KEEP_RELEASES) -> list[str]:
    current = layout.current_name()
    names = sorted(path.name for path in layout.releases.iterdir() if path.is_dir())
    doomed = [name for name in names[:-keep] if name != current]
    for name in doomed:
        shutil.rmtree(layout.release(name))
    return doomed


def update_service(
    layout: Layout, install: bool, restart: bool, http_port: int | None = None
) -> str | None:
    """Installs the service when asked; otherwise restarts an installed one on a new release."""
    try:
        if install:
            return service.install(layout.current, layout.venv, http_port)
        if restart and service.installed():
            return service.refresh(layout.current, layout.venv)
    except service.ServiceError as exc:
        raise DeployError(EXIT_SERVICE, str(exc)) from None
    return None


if __name__ == "__main__":
    sys.exit(main())
