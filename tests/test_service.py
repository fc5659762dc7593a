"""The systemd unit and logrotate rule of the optional service, checked by the real tools."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from device.pi import service
from device.pi.service import SERVICE_USER, render_logrotate, render_unit

MAX_EXPOSURE = 4.0  # systemd-analyze security's "OK" band ends here


def require_tool(name: str) -> str:
    """The tool's path; a missing tool skips the test here but fails it under CI."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found:
        return found
    message = f"{name} not installed (CI installs it: see .ci/run)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def unit_keys(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)  # the last one wins
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(text)
    return parser


@pytest.fixture
def venv() -> Path:
    """This test run's own environment, whose bin/digitcam exists like the Pi's."""
    return Path(sys.prefix)


def analyze_version(analyze: str) -> int:
    done = subprocess.run([analyze, "--version"], capture_output=True, text=True)
    return int(done.stdout.split()[1])


def exposure(analyze: str, unit: Path) -> float:
    """systemd-analyze security's overall exposure (0 safe .. 10 unsafe) of a unit file, read
    offline: no running systemd is needed, and the unit's User= need not exist here."""
    done = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert found, done.stdout
    return float(found.group(1))


def test_unit_runs_watch_as_its_own_user_and_appends_answers_to_the_log(venv, tmp_path):
    log = tmp_path / "answers.jsonl"
    unit = unit_keys(render_unit(Path("/home/pi/digitcam/current"), venv, log, 252))
    service = unit["Service"]
    assert shlex.split(service["ExecStart"]) == [
        f"{venv}/bin/digitcam",
        "watch",
        "--source",
        "picamera",
        "--format",
        "jsonl",
    ]
    assert service["User"] == SERVICE_USER == "digitcam"
    assert service["SupplementaryGroups"] == "video"
    assert service["WorkingDirectory"] == "/home/pi/digitcam/current"
    assert service["StandardOutput"] == f"append:{log}"
    assert service["StandardError"] == "journal"
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == "2"  # bad usage or model: no restart loop
    assert unit["Unit"]["StartLimitIntervalSec"] == "0"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_backoff_grows_only_where_systemd_knows_how(venv):
    bookworm = unit_keys(render_unit(Path("/app"), venv, systemd=252))["Service"]
    trixie = unit_keys(render_unit(Path("/app"), venv, systemd=257))["Service"]
    assert "RestartSteps" not in bookworm and bookworm["RestartSec"] == "10s"
    assert trixie["RestartSteps"] == "6" and trixie["RestartMaxDelaySec"] == "5min"


def test_systemd_analyze_accepts_the_unit(venv, tmp_path):
    analyze = require_tool("systemd-analyze")
    unit = tmp_path / "digitcam.service"
    unit.write_text(
        render_unit(tmp_path, venv, tmp_path / "answers.jsonl", analyze_version(analyze), "root")
    )
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    about_our_unit = [line for line in done.stderr.splitlines() if unit.name in line]
    assert done.returncode == 0, done.stderr
    assert about_our_unit == []


def test_exec_start_runs(venv, tmp_path):
    from device.cli import COMMANDS

    unit = unit_keys(render_unit(tmp_path, venv, tmp_path / "log", 252))
    argv = shlex.split(unit["Service"]["ExecStart"])
    # 'watch' is written separately; until it is registered, check the executable itself runs.
    help_argv = [*argv[:2], "--help"] if "watch" in COMMANDS else [argv[0], "--help"]
    done = subprocess.run(help_argv, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "usage: digitcam" in done.stdout


def test_logrotate_rotates_while_the_service_keeps_writing(tmp_path):
    logrotate = require_tool("logrotate")
    log = tmp_path / "answers.jsonl"
    config = tmp_path / "digitcam.logrotate"
    config.write_text(render_logrotate(log))
    # systemd's StandardOutput=append: hands the service a descriptor opened with O_APPEND.
    service_stdout = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(service_stdout, b'{"digit": 7}\n' * 100)
        done = subprocess.run(
            [logrotate, "--force", "--state", str(tmp_path / "state"), str(config)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        os.write(service_stdout, b'{"digit": 1}\n')
    finally:
        os.close(service_stdout)
    assert (tmp_path / "answers.jsonl.1").read_bytes() == b'{"digit": 7}\n' * 100
    assert log.read_bytes() == b'{"digit": 1}\n'  # no hole of zeros where the old lines were


def fake_tool(fake_bin: Path, calls: Path, name: str, body: str = "") -> None:
    """A stand-in for a system tool that records how it was called, then runs body."""
    tool = fake_bin / name
    tool.write_text(f'#!/bin/sh\necho "{name} $*" >> {calls}\n{body}exit 0\n')
    tool.chmod(0o755)


@pytest.fixture
def fake_system(tmp_path, monkeypatch):
    """A systemd 257 that says yes, useradd and usermod that change nothing here, root, and the
    service's files under tmp_path; returns the file where the tools record their calls."""
    calls = tmp_path / "calls"
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake_tool(
        fake_bin,
        calls,
        "systemctl",
        '[ "$1" = --version ] && echo "systemd 257 (257.9-1)"\n'
        '[ "$1" = is-active ] && echo active\n',
    )
    fake_tool(fake_bin, calls, "useradd")
    fake_tool(fake_bin, calls, "usermod")
    (tmp_path / "etc").mkdir()
    monkeypatch.setenv("PATH", f"{fake_bin}:{os.environ['PATH']}")
    monkeypatch.setattr(service, "SYSTEMD_RUNNING", tmp_path)
    monkeypatch.setattr(service, "UNIT_PATH", tmp_path / "etc" / "digitcam.service")
    monkeypatch.setattr(service, "LOGROTATE_PATH", tmp_path / "etc" / "digitcam.logrotate")
    monkeypatch.setattr(service, "LOG_FILE", tmp_path / "log" / "answers.jsonl")
    monkeypatch.setattr(os, "geteuid", lambda: 0)  # as root: no sudo
    monkeypatch.setattr(service.pwd, "getpwnam", lambda name: object())  # the user exists
    return calls


@pytest.mark.parametrize("user_exists", [False, True])
def test_install_makes_the_user_writes_unit_and_rule_then_enables_and_restarts(
    venv, tmp_path, monkeypatch, fake_system, user_exists
):
    calls = fake_system

    def getpwnam(name):
        if user_exists and name == SERVICE_USER:
            return object()
        raise KeyError(name)

    monkeypatch.setattr(service.pwd, "getpwnam", getpwnam)

    status = service.install(Path("/home/pi/digitcam/current"), venv)

    assert status.startswith("service digitcam: active")
    unit = unit_keys(service.UNIT_PATH.read_text())["Service"]
    assert unit["User"] == "digitcam"
    assert unit["StandardOutput"] == f"append:{tmp_path}/log/answers.jsonl"
    assert unit["RestartSteps"] == "6"  # this systemd is new enough for a growing back-off
    assert service.LOGROTATE_PATH.read_text() == render_logrotate(service.LOG_FILE)
    assert (tmp_path / "log").is_dir()
    made_user = (
        "usermod --append --groups video digitcam"
        if user_exists
        else "useradd --system --user-group --no-create-home --home-dir /nonexistent "
        "--shell /usr/sbin/nologin --groups video --comment digitcam service digitcam"
    )
    assert calls.read_text().splitlines() == [
        made_user,
        "systemctl --version",
        "systemctl daemon-reload",
        "systemctl enable --quiet digitcam.service",
        "systemctl restart digitcam.service",
        "systemctl is-active digitcam.service",
    ]


@pytest.mark.parametrize("port", [None, 8000], ids=["camera only", "with the live view"])
def test_the_unit_is_rated_ok_by_systemd_analyze_security(venv, tmp_path, port):
    analyze = require_tool("systemd-analyze")
    unit = tmp_path / "digitcam.service"
    unit.write_text(
        render_unit(Path("/home/pi/digitcam/current"), venv, systemd=252, http_port=port)
    )
    assert exposure(analyze, unit) <= MAX_EXPOSURE


def test_without_the_hardening_the_same_check_fails(venv, tmp_path, monkeypatch):
    analyze = require_tool("systemd-analyze")
    monkeypatch.setattr(service, "hardening", lambda root, network: "")
    unit = tmp_path / "digitcam.service"
    unit.write_text(render_unit(Path("/home/pi/digitcam/current"), venv, systemd=252))
    assert exposure(analyze, unit) > MAX_EXPOSURE


def test_the_sandbox_leaves_the_camera_devices_and_hides_homes_but_the_deploy(venv):
    unit = render_unit(Path("/home/pi/digitcam/current"), Path("/home/pi/digitcam/venv"))
    lines = unit.splitlines()
    assert "DevicePolicy=closed" in lines
    for device in ("char-video4linux rw", "char-media rw", "char-dma_heap rw"):
        assert f"DeviceAllow={device}" in lines
    assert not any(line.startswith("PrivateDevices=yes") for line in lines)  # would hide them
    assert "ProtectHome=tmpfs" in lines and "BindReadOnlyPaths=/home/pi/digitcam" in lines
    assert "NoNewPrivileges=yes" in lines and "CapabilityBoundingSet=" in lines


def test_paths_with_spaces_percent_and_dollar_survive_systemds_parsing(venv, tmp_path):
    """A deploy directory like --dir 'my digitcam 100% $HOME': systemd-analyze verify checks
    that ExecStart='s executable, as systemd parses it, exists and runs."""
    analyze = require_tool("systemd-analyze")
    root = tmp_path / "my digitcam 100% $HOME"
    (root / "venv" / "bin").mkdir(parents=True)
    (root / "venv" / "bin" / "digitcam").symlink_to(venv / "bin" / "digitcam")
    (root / "current").mkdir()
    unit = tmp_path / "digitcam.service"
    text = render_unit(root / "current", root / "venv", tmp_path / "answers.jsonl", 252, "root")
    unit.write_text(text)
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if unit.name in line] == []
    keys = unit_keys(text)["Service"]
    assert keys["WorkingDirectory"] == f"{root}/current".replace("%", "%%")
    assert keys["BindReadOnlyPaths"] == f'"{root}"'.replace("%", "%%")
    (root / "venv" / "bin" / "digitcam").unlink()  # the same check fails when it is not there
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    assert "digitcam" in done.stderr and done.returncode != 0


def test_a_control_character_in_a_path_is_refused(venv):
    with pytest.raises(service.ServiceError, match="control character"):
        render_unit(Path("/home/pi/odd\ndir/current"), Path("/home/pi/odd\ndir/venv"))


def test_a_new_release_rewrites_an_outdated_unit_else_only_restarts(venv, fake_system):
    app_dir = Path("/home/pi/digitcam/current")
    service.UNIT_PATH.write_text("[Service]\nUser=pi\nExecStart=/old/digitcam watch\n")
    service.refresh(app_dir, venv)  # a unit from before the sandbox: rewritten
    assert unit_keys(service.UNIT_PATH.read_text())["Service"]["User"] == SERVICE_USER
    assert "systemctl daemon-reload" in fake_system.read_text()
    fake_system.unlink()
    service.refresh(app_dir, venv)  # the same unit: restarted only
    assert fake_system.read_text().splitlines() == [
        "systemctl --version",
        "systemctl restart digitcam.service",
        "systemctl is-active digitcam.service",
    ]
