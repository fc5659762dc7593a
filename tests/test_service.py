"""The systemd unit and logrotate rule of the optional service, checked by the real tools."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from device.pi import service
from device.pi.service import render_logrotate, render_unit


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
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(text)
    return parser


@pytest.fixture
def venv() -> Path:
    """This test run's own environment, whose bin/digitcam exists like the Pi's."""
    return Path(sys.prefix)


def test_unit_runs_watch_as_the_user_and_appends_answers_to_the_log(venv, tmp_path):
    log = tmp_path / "answers.jsonl"
    unit = unit_keys(render_unit("pi", Path("/home/pi/digitcam/current"), venv, log, 252))
    service = unit["Service"]
    assert shlex.split(service["ExecStart"]) == [
        f"{venv}/bin/digitcam",
        "watch",
        "--source",
        "picamera",
        "--format",
        "jsonl",
    ]
    assert service["User"] == "pi"
    assert service["WorkingDirectory"] == "/home/pi/digitcam/current"
    assert service["StandardOutput"] == f"append:{log}"
    assert service["StandardError"] == "journal"
    assert service["Restart"] == "on-failure"
    assert unit["Unit"]["StartLimitIntervalSec"] == "0"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_backoff_grows_only_where_systemd_knows_how(venv):
    bookworm = unit_keys(render_unit("pi", Path("/app"), venv, systemd=252))["Service"]
    trixie = unit_keys(render_unit("pi", Path("/app"), venv, systemd=257))["Service"]
    assert "RestartSteps" not in bookworm and bookworm["RestartSec"] == "10s"
    assert trixie["RestartSteps"] == "6" and trixie["RestartMaxDelaySec"] == "5min"


def test_systemd_analyze_accepts_the_unit(venv, tmp_path):
    analyze = require_tool("systemd-analyze")
    version = int(
        subprocess.run([analyze, "--version"], capture_output=True, text=True).stdout.split()[1]
    )
    unit = tmp_path / "digitcam.service"
    unit.write_text(render_unit("root", tmp_path, venv, tmp_path / "answers.jsonl", version))
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    about_our_unit = [line for line in done.stderr.splitlines() if unit.name in line]
    assert done.returncode == 0, done.stderr
    assert about_our_unit == []


def test_exec_start_runs(venv, tmp_path):
    from device.cli import COMMANDS

    unit = unit_keys(render_unit("root", tmp_path, venv, tmp_path / "log", 252))
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


def test_install_writes_unit_and_rule_then_enables_and_restarts(venv, tmp_path, monkeypatch):
    calls = tmp_path / "systemctl-calls"
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    systemctl = fake_bin / "systemctl"  # records what it is asked; a systemd 257 that says yes
    systemctl.write_text(
        f'#!/bin/sh\necho "$*" >> {calls}\n'
        '[ "$1" = --version ] && echo "systemd 257 (257.9-1)"\n'
        '[ "$1" = is-active ] && echo active\nexit 0\n'
    )
    systemctl.chmod(0o755)
    (tmp_path / "etc").mkdir()
    monkeypatch.setenv("PATH", f"{fake_bin}:{os.environ['PATH']}")
    monkeypatch.setattr(service, "SYSTEMD_RUNNING", tmp_path)
    monkeypatch.setattr(service, "UNIT_PATH", tmp_path / "etc" / "digitcam.service")
    monkeypatch.setattr(service, "LOGROTATE_PATH", tmp_path / "etc" / "digitcam.logrotate")
    monkeypatch.setattr(service, "LOG_FILE", tmp_path / "log" / "answers.jsonl")
    monkeypatch.setattr(os, "geteuid", lambda: 0)  # as root: no sudo

    status = service.install(Path("/home/pi/digitcam/current"), venv)

    assert status.startswith("service digitcam: active")
    unit = unit_keys(service.UNIT_PATH.read_text())["Service"]
    assert unit["StandardOutput"] == f"append:{tmp_path}/log/answers.jsonl"
    assert unit["RestartSteps"] == "6"  # this systemd is new enough for a growing back-off
    assert service.LOGROTATE_PATH.read_text() == render_logrotate(service.LOG_FILE)
    assert (tmp_path / "log").is_dir()
    assert calls.read_text().splitlines() == [
        "--version",
        "daemon-reload",
        "enable --quiet digitcam.service",
        "restart digitcam.service",
        "is-active digitcam.service",
    ]
