"""digitcam deploy and rollback into a real OpenSSH server on 127.0.0.1 standing in for the Pi."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from device.contract import sha256_of
from device.deploy.push import MODEL
from device.deploy.remote import DeployError
from device.model.selftest import LABEL, builtin_digit
from device.pi.layout import (
    EXIT_NO_ROLLBACK,
    EXIT_PI_NOT_READY,
    EXIT_SELF_CHECK,
    EXIT_SERVICE,
    EXIT_UNREACHABLE,
)
from device.pi.service import SYSTEMD_RUNNING
from tests.conftest import REPO
from tests.fake_pi import (
    FakePi,
    copy_runtime,
    free_port,
    pi_python,
    require_tools,
    run_deploy,
    wait_for_login,
)

SSHD_LIFETIME_S = 900  # the server stops itself even if this test run is killed


@pytest.fixture(scope="module")
def fake_pi(tmp_path_factory):
    require_tools()
    keys = tmp_path_factory.mktemp("ssh")
    for name in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keys / name], check=True
        )
    shutil.copy(keys / "client_key.pub", keys / "authorized_keys")
    port = free_port()
    (keys / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1:{port}\nHostKey {keys}/host_key\n"
        f"AuthorizedKeysFile {keys}/authorized_keys\nPidFile {keys}/sshd.pid\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\n"
    )
    host_key = (keys / "host_key.pub").read_text().strip()
    (keys / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key}\n")
    (keys / "ssh_config").write_text(
        f"Host fakepi\n  HostName 127.0.0.1\n  Port {port}\n  IdentityFile {keys}/client_key\n"
        f"  IdentitiesOnly yes\n  UserKnownHostsFile {keys}/known_hosts\n"
        "  StrictHostKeyChecking yes\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
    sshd = subprocess.Popen(
        ["timeout", str(SSHD_LIFETIME_S), "/usr/sbin/sshd", "-D", "-e", "-f", keys / "sshd_config"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    pi = FakePi(f"ssh -F {keys}/ssh_config", tmp_path_factory.mktemp("pi-home"), pi_python())
    try:
        wait_for_login(pi, sshd)
        yield pi
    finally:
        sshd.terminate()
        sshd.wait(timeout=10)


def bytes_sent(output: str) -> int:
    return int(re.search(r"sent ([0-9,]+) bytes", output).group(1).replace(",", ""))


@pytest.fixture(scope="module")
def first_deploy(fake_pi):
    return run_deploy(fake_pi)


@pytest.fixture(scope="module")
def second_deploy(fake_pi, first_deploy):
    assert first_deploy.returncode == 0, first_deploy.stderr
    return run_deploy(fake_pi)


def test_first_deploy_installs_and_self_checks_on_the_pi(fake_pi, first_deploy):
    assert first_deploy.returncode == 0, first_deploy.stdout + first_deploy.stderr
    assert "all checks passed" in first_deploy.stdout  # digitcam doctor's report, run there
    assert re.search(r"release \S+ is now current", first_deploy.stdout)
    venv_config = (fake_pi.root / "venv" / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = true" in venv_config
    deployed_model = fake_pi.root / "current" / MODEL
    assert sha256_of(deployed_model) == sha256_of(REPO / MODEL)
    assert not (fake_pi.root / "current" / "train").exists()


def test_doctor_runs_over_ssh_in_the_deployed_environment(fake_pi, first_deploy):
    done = fake_pi.run(shlex.quote(f"{fake_pi.root}/venv/bin/digitcam") + " doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"python: {fake_pi.python}" not in done.stdout  # the venv's, not the system's
    assert f"{fake_pi.root}/venv/bin/python" in done.stdout


def test_predict_runs_over_ssh_in_the_deployed_environment(fake_pi, first_deploy, tmp_path):
    ink_on_paper = (235 - 0.8 * builtin_digit()).astype("uint8")  # dark ink, light paper
    photo = Image.new("L", (320, 320), 235)
    photo.paste(Image.fromarray(ink_on_paper).resize((168, 168), Image.BILINEAR), (76, 76))
    photo.save(tmp_path / "seven.png")
    digitcam = shlex.quote(f"{fake_pi.root}/venv/bin/digitcam")
    command = f"{digitcam} predict {tmp_path}/seven.png --format jsonl"
    done = fake_pi.run(command)
    assert done.returncode == 0, done.stdout + done.stderr
    (answer,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert answer["digit"] == LABEL
    assert answer["error"] is None


def test_second_deploy_sends_almost_nothing(fake_pi, first_deploy, second_deploy):
    assert second_deploy.returncode == 0, second_deploy.stderr
    assert "nothing changed" in second_deploy.stdout
    assert "all checks passed" in second_deploy.stdout
    assert bytes_sent(second_deploy.stdout) < bytes_sent(first_deploy.stdout) / 20
    assert bytes_sent(second_deploy.stdout) < (REPO / MODEL).stat().st_size / 10


def test_a_changed_file_alone_travels_and_becomes_a_new_release(
    fake_pi, second_deploy, tmp_path, capfd
):
    source = copy_runtime(tmp_path)
    (source / "README.md").write_text((source / "README.md").read_text() + "\nOn this Pi.\n")
    (source / "README.md").chmod(0o666)  # writable by all here; never on the Pi
    before = fake_pi.current()
    fake_pi.deploy_from(source)
    output = capfd.readouterr().out
    assert "1 of " in output and "files changed: README.md" in output
    assert fake_pi.current() != before
    assert (fake_pi.root / "current" / "README.md").read_text().endswith("On this Pi.\n")
    assert (fake_pi.root / before).is_dir()  # kept for a rollback
    mode = stat.S_IMODE((fake_pi.root / "current" / "README.md").stat().st_mode)
    assert mode & 0o022 == 0 and mode & 0o004  # rsync --chmod=go-w, readable by the service


def deployed_code(pi: FakePi) -> str:
    """The release directory the venv's editable install imports digitcam from."""
    python = shlex.quote(f"{pi.root}/venv/bin/python")
    done = pi.run(f"cd / && {python} -c 'import device; print(device.__file__)'")
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip()).parents[1].name


def test_rollback_makes_the_previous_release_current_again(fake_pi, second_deploy, tmp_path, capfd):
    source = copy_runtime(tmp_path)
    (source / "README.md").write_text(source.joinpath("README.md").read_text() + "\nNew.\n")
    before = Path(fake_pi.current()).name
    fake_pi.deploy_from(source)
    newer = Path(fake_pi.current()).name
    assert newer != before and deployed_code(fake_pi) == newer
    capfd.readouterr()

    done = run_deploy(fake_pi, "--rollback")

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"release {before} is now current" in done.stdout
    assert f"rolled back from {newer}" in done.stdout
    assert "all checks passed" in done.stdout  # the doctor, run on the rolled-back release
    assert Path(fake_pi.current()).name == before
    assert deployed_code(fake_pi) == before  # the editable install points at it again
    assert not (fake_pi.root / "current" / "README.md").read_text().endswith("New.\n")
    assert (fake_pi.root / "releases" / newer).is_dir()  # still there, to go forward again


def test_rollback_without_an_older_release_says_so_and_changes_nothing(fake_pi, tmp_path):
    empty = FakePi(fake_pi.ssh, tmp_path, fake_pi.python)
    done = run_deploy(empty, "--rollback")
    assert done.returncode == EXIT_NO_ROLLBACK
    assert done.stderr.count("\n") == 1 and "nothing to roll back" in done.stderr
    assert not empty.root.exists()  # a rollback creates nothing


def test_a_release_failing_its_self_check_leaves_the_previous_one_current(
    fake_pi, second_deploy, tmp_path, capfd
):
    source = copy_runtime(tmp_path)
    model = source / MODEL
    model.write_bytes(b"not a TFLite model" * 100)  # with metadata to match, so it gets sent
    metadata = json.loads(model.with_suffix(".json").read_text())
    metadata.update(sha256=sha256_of(model), size_bytes=model.stat().st_size)
    model.with_suffix(".json").write_text(json.dumps(metadata))
    before = fake_pi.current()
    with pytest.raises(DeployError) as failed:
        fake_pi.deploy_from(source)
    assert failed.value.code == EXIT_SELF_CHECK
    assert "stays current" in capfd.readouterr().err
    assert fake_pi.current() == before
    assert fake_pi.run(shlex.quote(f"{fake_pi.root}/venv/bin/digitcam") + " doctor").returncode == 0


def test_unreachable_pi_fails_in_one_line_and_changes_nothing(fake_pi, second_deploy):
    before = fake_pi.current()
    done = run_deploy(
        FakePi(f"{fake_pi.ssh} -o Port=1", fake_pi.home, fake_pi.python)
    )  # nothing listens on port 1
    assert done.returncode == EXIT_UNREACHABLE
    assert done.stderr.count("\n") == 1
    assert "cannot reach fakepi over SSH" in done.stderr and "Connection refused" in done.stderr
    assert fake_pi.current() == before


def test_unwritable_directory_fails_in_one_line_and_changes_nothing(fake_pi, second_deploy):
    before = fake_pi.current()
    done = run_deploy(FakePi(fake_pi.ssh, Path("/proc/no-such-dir"), fake_pi.python))
    assert done.returncode == EXIT_PI_NOT_READY
    assert done.stderr.count("\n") == 1
    assert "cannot create or write /proc/no-such-dir/my digitcam on fakepi" in done.stderr
    assert fake_pi.current() == before


@pytest.mark.skipif(SYSTEMD_RUNNING.is_dir(), reason="would install a real service here")
def test_service_without_systemd_fails_in_one_line_and_changes_nothing(fake_pi, second_deploy):
    before = fake_pi.current()
    done = run_deploy(fake_pi, "--service")
    assert done.returncode == EXIT_SERVICE
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("digitcam deploy: systemd is not running on fakepi")
    assert fake_pi.current() == before
