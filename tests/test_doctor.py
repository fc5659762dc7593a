"""digitcam doctor: each problem it can find is reported in one line that says what to do."""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest

from device.commands import doctor
from device.commands.doctor import FAIL, INFO, OK, WARN
from device.live import board as pi
from device.model import interpreter
from device.model import selftest as builtin_digit
from tests.conftest import SHIPPED_MODEL


def one_finding(findings, topic):
    (found,) = [f for f in findings if f.topic == topic]
    return found


def assert_actionable(finding):
    """One line: what is wrong, a colon, then what to do."""
    assert "\n" not in finding.message
    assert ": " in finding.message


@pytest.fixture
def model_copy(tmp_path):
    model = tmp_path / "digitcam.tflite"
    shutil.copy(SHIPPED_MODEL, model)
    shutil.copy(SHIPPED_MODEL.with_suffix(".json"), model.with_suffix(".json"))
    return model


@pytest.fixture
def on_a_pi(tmp_path, monkeypatch):
    model = tmp_path / "device-tree-model"
    model.write_bytes(b"Raspberry Pi 4 Model B Rev 1.4\x00")
    monkeypatch.setattr(pi, "DEVICE_TREE_MODEL", model)


@pytest.fixture
def no_picamera2(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", None)  # makes 'import picamera2' fail


@pytest.fixture
def tflite_runtime_installed(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args):
        if name == "tflite_runtime":
            return importlib.machinery.ModuleSpec("tflite_runtime", None)
        return real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(np, "__version__", "2.1.0")


def test_the_shipped_model_passes_every_check(capsys):
    exit_code = doctor.run(argparse.Namespace(model=SHIPPED_MODEL))
    report = capsys.readouterr().out
    assert exit_code == 0, report
    assert (
        f"ok    self-test: read the built-in {builtin_digit.LABEL} as {builtin_digit.LABEL}"
        in report
    )
    for topic in ("python", "numpy", "interpreter", "model", "camera"):
        assert f" {topic}: " in report


def test_a_failed_check_makes_the_exit_status_1(tmp_path, capsys):
    exit_code = doctor.run(argparse.Namespace(model=tmp_path / "nothing.tflite"))
    assert exit_code == 1
    assert "FAIL  model:" in capsys.readouterr().out


def test_without_model_option_it_checks_the_model_predict_would_use(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DIGITCAM_MODEL", str(tmp_path / "elsewhere.tflite"))
    assert doctor.run(argparse.Namespace(model=None)) == 1
    assert f"FAIL  model: {tmp_path / 'elsewhere.tflite'} not found" in capsys.readouterr().out


def test_missing_model_says_to_train_and_convert(tmp_path):
    (found,) = doctor.check_model(tmp_path / "digitcam.tflite")
    assert found.status == FAIL
    assert "make train convert" in found.message
    assert_actionable(found)


def test_missing_metadata_says_to_copy_it_from_the_same_convert(model_copy):
    model_copy.with_suffix(".json").unlink()
    (found,) = doctor.check_model(model_copy)
    assert found.status == FAIL
    assert "digitcam.json" in found.message and "make convert" in found.message
    assert_actionable(found)


def test_metadata_not_matching_the_file_is_refused(model_copy):
    data = bytearray(model_copy.read_bytes())
    data[-1] ^= 0xFF
    model_copy.write_bytes(bytes(data))
    (found,) = doctor.check_model(model_copy)
    assert found.status == FAIL
    assert "does not match" in found.message and "make convert" in found.message
    assert_actionable(found)


def test_a_model_that_misreads_the_builtin_digit_fails(model_copy, monkeypatch):
    monkeypatch.setattr(builtin_digit, "LABEL", 3)  # the image stays a 7
    found = one_finding(doctor.check_model(model_copy), "self-test")
    assert found.status == FAIL
    assert "read the built-in 3 as 7" in found.message and "make train convert" in found.message


def test_tflite_runtime_alone_under_numpy_2_says_to_install_litert(
    tflite_runtime_installed, monkeypatch
):
    monkeypatch.setattr(
        interpreter, "BACKENDS", (("tflite_runtime", "tflite_runtime.interpreter"),)
    )
    found = doctor.check_interpreter()
    assert found.status == FAIL
    assert "tflite-runtime" in found.message and "numpy 2.1.0" in found.message
    assert "pip install ai-edge-litert" in found.message
    assert_actionable(found)


def test_tflite_runtime_beside_litert_under_numpy_2_is_a_warning(tflite_runtime_installed):
    found = doctor.check_interpreter()
    assert found.status == WARN
    assert (
        "using ai_edge_litert" in found.message and "pip uninstall tflite-runtime" in found.message
    )


def test_no_interpreter_at_all_says_what_to_install(monkeypatch):
    monkeypatch.setattr(interpreter, "BACKENDS", (("nothing_here", "nothing_here.interpreter"),))
    found = doctor.check_interpreter()
    assert found.status == FAIL
    assert "pip install ai-edge-litert" in found.message


def test_picamera2_missing_on_a_pi_says_to_apt_install_it(on_a_pi, no_picamera2):
    found = doctor.check_camera()
    assert found.status == WARN
    assert "sudo apt install python3-picamera2" in found.message
    assert_actionable(found)


def test_picamera2_hidden_by_a_venv_says_to_use_system_site_packages(
    on_a_pi, no_picamera2, monkeypatch
):
    monkeypatch.setattr(pi, "in_venv_without_system_packages", lambda: True)
    found = doctor.check_camera()
    assert "--system-site-packages" in found.message


def test_picamera2_missing_off_a_pi_is_no_problem(tmp_path, monkeypatch, no_picamera2):
    monkeypatch.setattr(pi, "DEVICE_TREE_MODEL", tmp_path / "absent")
    assert doctor.check_camera().status == INFO


def test_picamera2_built_for_another_numpy_says_to_redeploy(on_a_pi, monkeypatch):
    class BrokenPicamera2:
        def find_spec(self, name, path=None, target=None):
            if name == "picamera2":
                raise ValueError("numpy.dtype size changed, may indicate binary incompatibility")

    monkeypatch.delitem(sys.modules, "picamera2", raising=False)
    monkeypatch.setattr(sys, "meta_path", [BrokenPicamera2(), *sys.meta_path])
    found = doctor.check_camera()
    assert found.status == WARN
    assert "numpy.dtype size changed" in found.message and "python3-numpy" in found.message


@pytest.mark.parametrize(
    ("cameras", "status", "words"),
    [([], WARN, "ribbon cable"), ([{"Model": "imx708"}], OK, "1 found (imx708)")],
)
def test_camera_presence_is_reported(on_a_pi, monkeypatch, cameras, status, words):
    fake = types.ModuleType("picamera2")
    fake.Picamera2 = types.SimpleNamespace(global_camera_info=lambda: cameras)
    monkeypatch.setitem(sys.modules, "picamera2", fake)
    found = doctor.check_camera()
    assert found.status == status and words in found.message


def test_old_python_says_which_os_to_use():
    found = doctor.check_python((3, 9, 2))
    assert found.status == FAIL
    assert "Bookworm" in found.message
    assert doctor.check_python((3, 11, 2)).status == OK


def test_doctor_starts_and_says_what_to_do_when_numpy_is_missing():
    code = "import sys; sys.modules['numpy'] = None; from device.cli import main; sys.exit(main())"
    done = subprocess.run(
        [sys.executable, "-c", code, "doctor"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "cannot import numpy" in done.stdout and "pip install" in done.stdout
    assert "Traceback" not in done.stderr


def test_doctor_reports_missing_pillow_as_a_finding_and_still_checks_the_model():
    code = "import sys; sys.modules['PIL'] = None; from device.cli import main; sys.exit(main())"
    done = subprocess.run(
        [sys.executable, "-c", code, "doctor"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "FAIL  pillow: cannot import Pillow" in done.stdout
    assert "ok    self-test" in done.stdout  # the model needs numpy and LiteRT, not Pillow
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("cameras", [[], None])  # none found; picamera2 not installed
def test_a_missing_camera_fails_when_the_service_needs_it(on_a_pi, monkeypatch, cameras):
    if cameras is None:
        monkeypatch.setitem(sys.modules, "picamera2", None)
    else:
        fake = types.ModuleType("picamera2")
        fake.Picamera2 = types.SimpleNamespace(global_camera_info=lambda: cameras)
        monkeypatch.setitem(sys.modules, "picamera2", fake)
    assert doctor.check_camera().status in (WARN, INFO)
    found = doctor.check_camera(required=True)
    assert found.status == FAIL
    assert_actionable(found)
    assert "service" in found.message


def test_require_camera_makes_doctor_exit_1_without_a_camera(model_copy, no_picamera2, capsys):
    args = argparse.Namespace(model=model_copy, require_camera=True)
    assert doctor.run(args) == 1
    assert "FAIL  camera:" in capsys.readouterr().out
