"""digitcam deploy's checks that need no Pi: refused targets and options, venv pins, self-check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from device.cli import main
from device.deploy.push import deploy
from device.deploy.remote import DeployError, Remote
from device.pi.layout import EXIT_LOCAL, EXIT_SELF_CHECK, Layout
from device.pi.release import self_check
from device.pi.venv import requirements
from tests.conftest import REPO


def test_the_venv_keeps_apts_numpy_that_picamera2_is_built_for(tmp_path):
    assert requirements(tmp_path, apt_numpy="1.24.2") == [
        "--editable",
        f"{tmp_path}[device]",
        "numpy==1.24.2",
    ]
    assert requirements(tmp_path, apt_numpy=None) == ["--editable", f"{tmp_path}[device]"]


def test_a_checkout_without_a_model_is_refused_before_connecting(tmp_path):
    with pytest.raises(DeployError) as refused:
        deploy(Remote("pi@nowhere.invalid"), "digitcam", "python3", False, source=tmp_path)
    assert refused.value.code == EXIT_LOCAL
    assert "make train convert" in str(refused.value)


@pytest.mark.parametrize("target", ["-oProxyCommand=touch /tmp/digitcam-owned", ""])
def test_a_target_that_ssh_would_read_as_an_option_is_refused(capsys, target):
    assert main(["deploy", "--ssh", "false", "--", target]) == EXIT_LOCAL
    err = capsys.readouterr().err
    assert err.startswith("digitcam deploy:") and err.count("\n") == 1
    assert "user@host" in err


def test_ssh_is_told_where_its_options_end():
    assert Remote("pi@host", ("ssh", "-p", "2222")).shell("true")[-3:] == ["--", "pi@host", "true"]


@pytest.mark.skipif(Path(sys.prefix) != REPO / ".venv", reason="make uses the checkout's .venv")
def test_makes_pi_variable_may_hold_any_character():
    """PI reaches digitcam through the environment, never pasted into a shell line: a quote
    in it is part of the name, and a leading dash is refused by digitcam, not read by ssh."""

    def make_deploy(pi: str) -> str:
        done = subprocess.run(
            ["make", "-s", "--no-print-directory", "deploy", f"PI={pi}"],
            cwd=REPO,
            capture_output=True,
            text=True,
            env={**os.environ, "DIGITCAM_SSH": "ssh -o ConnectTimeout=2"},
            timeout=120,
        )
        assert done.returncode != 0
        return done.stderr

    assert "cannot reach o'brien@nowhere.invalid over SSH" in make_deploy("o'brien@nowhere.invalid")
    assert "'-oProxyCommand=false' is not a Pi to ssh to" in make_deploy("-oProxyCommand=false")


def test_a_malformed_ssh_option_is_one_line(capsys):
    assert main(["deploy", "pi@host", "--ssh", "ssh -o 'unclosed"]) == EXIT_LOCAL
    err = capsys.readouterr().err
    assert err.startswith("digitcam deploy: --ssh") and err.count("\n") == 1


def test_the_self_check_requires_a_camera_when_a_service_will_run(tmp_path):
    """With --service, 'digitcam doctor --require-camera': no camera fails the deploy
    instead of leaving a service that restarts forever."""
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    doctor = bin_dir / "digitcam"  # a doctor on a Pi without a camera
    doctor.write_text(f'#!/bin/sh\necho "$*" > {tmp_path}/asked\n[ "$2" != --require-camera ]\n')
    doctor.chmod(0o755)
    layout = Layout(tmp_path)
    self_check(layout, failure="no camera", camera=False)
    assert (tmp_path / "asked").read_text() == "doctor\n"
    with pytest.raises(DeployError) as failed:
        self_check(layout, failure="no camera", camera=True)
    assert failed.value.code == EXIT_SELF_CHECK
    assert (tmp_path / "asked").read_text() == "doctor --require-camera\n"
