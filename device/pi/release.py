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
from pathlib import Path

from device.pi import service
from device.pi.layout import (
    EXIT_BUSY,
    EXIT_NO_ROLLBACK,
    EXIT_SELF_CHECK,
    EXIT_SERVICE,
    EXIT_TRANSFER,
    DeployError,
    Layout,
    say,
)
from device.pi.venv import ensure_venv, is_pinned, pip_install

KEEP_RELEASES = 3  # the newest few stay on the Pi, for 'digitcam deploy PI --rollback'
GENERATED = ("__pycache__", "build")  # written into a release by Python and pip, never sent


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
