"""The deploy tests' Pi: an OpenSSH server on 127.0.0.1 reached as 'fakepi', deploys into it."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from device.deploy.push import MODEL, RUNTIME_FILES, deploy
from device.deploy.remote import Remote
from tests.conftest import REPO

TOOLS = ("/usr/sbin/sshd", "ssh", "ssh-keygen", "rsync")


@dataclass(frozen=True)
class FakePi:
    ssh: str  # the --ssh option: ssh with a config naming the host 'fakepi'
    home: Path
    python: str  # the "Pi's" python3: Debian's, like Raspberry Pi OS's, when there is one

    @property
    def root(self) -> Path:
        return self.home / "my digitcam"  # a space: every layer must quote it

    def run(self, command: str) -> subprocess.CompletedProcess:
        argv = [*shlex.split(self.ssh), "-o", "BatchMode=yes", "fakepi", command]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)

    def current(self) -> str:
        return os.readlink(self.root / "current")

    def deploy_from(self, source: Path) -> str:
        """Calls deploy() directly (no service), from a runtime tree other than the repo."""
        remote = Remote("fakepi", tuple(shlex.split(self.ssh)))
        return deploy(remote, str(self.root), self.python, False, source)


def require_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        message = f"{', '.join(missing)} missing: apt-get install openssh-server rsync"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pi_python() -> str:
    debian = Path("/usr/bin/python3")
    works = (
        debian.exists() and subprocess.run([debian, "-c", "import venv, ensurepip"]).returncode == 0
    )
    return str(debian) if works else getattr(sys, "_base_executable", sys.executable)


def wait_for_login(pi: FakePi, sshd: subprocess.Popen) -> None:
    for _ in range(100):
        if sshd.poll() is not None:
            pytest.fail(f"sshd stopped: {sshd.stderr.read().decode()}")
        if pi.run("true").returncode == 0:
            return
        time.sleep(0.1)
    pytest.fail("sshd did not accept the test key")


def run_deploy(pi: FakePi, *options: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "device", "deploy", "fakepi", "--ssh", pi.ssh]
    argv += ["--dir", str(pi.root), "--python", pi.python, *options]
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=600)


def copy_runtime(destination: Path) -> Path:
    """A copy of what deploy sends, to change without touching the checkout."""
    for name in RUNTIME_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(
                source, destination / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(source, destination / name)
    (destination / "models").mkdir()
    for model_file in (MODEL, MODEL.with_suffix(".json")):
        shutil.copy2(REPO / model_file, destination / model_file)
    return destination
