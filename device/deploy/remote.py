"""SSH and rsync to the Pi, with each way of failing turned into one line saying what to do."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from device.pi.layout import EXIT_LOCAL, DeployError

# Never prompt (a deploy must not hang on a password or an unknown host key); give up quickly.
SSH_OPTIONS = ("-o", "BatchMode=yes", "-o", "ConnectTimeout=10")
SSH_UNREACHABLE = 255  # ssh's own exit status when it could not connect or log in
RSYNC_EXCLUDES = ("__pycache__/", "*.pyc")
# Nothing sent is writable by anyone but the deployer; all of it is readable by the service's
# own user, whatever the workstation's umask.
RSYNC_CHMOD = "--chmod=go-w,a+rX"


@dataclass(frozen=True)
class TransferStats:
    changed_files: tuple[str, ...]
    bytes_sent: int
    files_total: int


@dataclass(frozen=True)
class Remote:
    target: str  # user@host, or a Host alias from ~/.ssh/config
    ssh: tuple[str, ...] = ("ssh",)  # the ssh command with the user's own options

    def __post_init__(self):
        if not self.target or self.target.startswith("-"):
            raise DeployError(
                EXIT_LOCAL, f"{self.target!r} is not a Pi to ssh to: give user@host or an alias"
            )

    def command(self, remote_argv: list[str]) -> list[str]:
        """A local argv that runs remote_argv on the Pi (quoted for its login shell)."""
        return self.shell(shlex.join(remote_argv))

    def shell(self, line: str) -> list[str]:
        """A local argv that runs one shell command line on the Pi."""
        return [*self.ssh, *SSH_OPTIONS, "--", self.target, line]

    def rsync_shell(self) -> str:
        return shlex.join([*self.ssh, *SSH_OPTIONS])


def require_local_tools(remote: Remote, code: int) -> None:
    for tool, package in ((remote.ssh[0], "openssh-client"), ("rsync", "rsync")):
        if shutil.which(tool) is None:
            raise DeployError(code, f"{tool} is not installed here: sudo apt install {package}")


def ssh_failure(target: str, stderr: str) -> str:
    """One line of advice for ssh's exit status 255, from what ssh printed."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = lines[-1] if lines else "no message from ssh"
    host = target.rpartition("@")[2]
    if "Could not resolve hostname" in stderr:
        local_name = f", or {host}.local" if "." not in host else ""
        advice = f"check the name (try the Pi's IP address{local_name})"
    elif "Host key verification failed" in stderr or "REMOTE HOST IDENTIFICATION" in stderr:
        advice = f"run 'ssh {target}' once to check and accept the Pi's host key"
    elif "Permission denied" in stderr:
        advice = f"set up key login first: ssh-copy-id {target}"
    else:
        advice = (
            "is the Pi on, on this network, with SSH enabled "
            "(sudo raspi-config, Interface Options, SSH)?"
        )
    return f"cannot reach {target} over SSH ({said}): {advice}"


def run_remote(
    remote: Remote, remote_argv: list[str], unreachable_code: int
) -> subprocess.CompletedProcess:
    """Runs a command on the Pi and captures its output; DeployError if SSH itself failed."""
    done = subprocess.run(
        remote.command(remote_argv), capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    if done.returncode == SSH_UNREACHABLE:
        raise DeployError(unreachable_code, ssh_failure(remote.target, done.stderr))
    return done


def send_tree(
    remote: Remote,
    source: Path,
    paths: list[str],
    destination: str,
    link_dest: str | None,
    failure_code: int,
) -> TransferStats:
    """rsyncs paths (relative to source) into destination on the Pi.

    Files that did not change are hard-linked from link_dest (the current release) on the
    Pi instead of being sent, so a new release costs only what changed. Checksums, not
    times, decide what changed: a re-converted model often has the same size.
    """
    argv = ["rsync", "--recursive", "--links", "--perms", "--times", "--relative", "--checksum"]
    argv += ["--itemize-changes", "--stats", "--no-human-readable", RSYNC_CHMOD]
    argv += ["-e", remote.rsync_shell()]
    argv += [f"--exclude={pattern}" for pattern in RSYNC_EXCLUDES]
    if link_dest:
        argv.append(f"--link-dest={link_dest}")
    argv += [path if path.startswith("/") else f"./{path}" for path in paths]  # "/x/./models"
    argv.append(f"{remote.target}:{destination}/")
    done = subprocess.run(argv, cwd=source, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message from rsync"])[-1]
        if "connection unexpectedly closed" in done.stderr or done.returncode == 255:
            last = ssh_failure(remote.target, done.stderr)
        raise DeployError(failure_code, f"copying to {remote.target} failed: {last}")
    return parse_rsync_output(done.stdout)


def parse_rsync_output(stdout: str) -> TransferStats:
    changed = tuple(
        line.split(" ", 1)[1] for line in stdout.splitlines() if line.startswith(("<f", "cL"))
    )
    return TransferStats(
        changed_files=changed,
        bytes_sent=_stat(stdout, r"Total bytes sent: ([0-9,]+)"),
        files_total=_stat(stdout, r"Number of files: [0-9,]+ \(reg: ([0-9,]+)"),
    )


def _stat(stdout: str, pattern: str) -> int:
    match = re.search(pattern, stdout)
    return int(match.group(1).replace(",", "")) if match else 0
