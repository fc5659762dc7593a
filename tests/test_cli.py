"""The command line as a whole: the command list, --version, --debug and the error policy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from device.cli import main
from device.commands.common import EXIT_INTERNAL
from device.vision import read
from tests.conftest import SHIPPED_MODEL


def test_bare_digitcam_lists_the_commands_and_exits_0(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for command in ("predict", "watch", "doctor", "deploy", "bench"):
        assert f"    {command}" in out


def test_version_names_the_shipped_model(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    sha = SHIPPED_MODEL.with_suffix(".json").read_text().split('"sha256": "')[1][:8]
    assert capsys.readouterr().out.strip().endswith(f"model digitcam.tflite {sha}")


def test_building_the_command_line_imports_no_numpy_or_pillow():
    code = (
        "import sys; from device.cli import build_parser; build_parser(); "
        "heavy = [m for m in ('numpy', 'PIL', 'tqdm') if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.fixture
def broken_pipeline(monkeypatch):
    """A bug in the vision code: every frame raises an unexpected exception."""

    def explode(grey, model, lap=None):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(read, "_judge_frame", explode)


def picture(tmp_path, name: str):
    path = tmp_path / name
    Image.fromarray(np.full((60, 60), 255, np.uint8)).save(path)
    return path


def test_a_bug_in_predict_is_one_line_naming_the_file_and_the_rest_go_on(
    tmp_path, capsys, broken_pipeline
):
    a, b = picture(tmp_path, "a.png"), picture(tmp_path, "b.png")
    code = main(["predict", str(a), str(b), "--format", "jsonl", "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 1
    assert len(captured.out.splitlines()) == 2  # both files still have their row
    assert '"error": "internal error (ZeroDivisionError: a bug)"' in captured.out
    bug_lines = [line for line in captured.err.splitlines() if "internal error" in line]
    assert bug_lines == [
        f"digitcam predict: internal error (ZeroDivisionError: a bug) on {p} "
        "(run with --debug for the traceback)"
        for p in (a, b)
    ]
    assert "Traceback" not in captured.err


def test_debug_shows_the_traceback(tmp_path, capsys, broken_pipeline):
    main(["--debug", "predict", str(picture(tmp_path, "a.png")), "--format", "jsonl"])
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "ZeroDivisionError: a bug" in err


def test_a_bug_in_watch_names_the_frame_and_exits_70(tmp_path, capsys, broken_pipeline):
    picture(tmp_path, "a.png")
    code = main(["watch", "--source", f"dir:{tmp_path}", "--format", "jsonl"])
    err = capsys.readouterr().err
    assert code == EXIT_INTERNAL
    assert err.splitlines()[-1] == (
        "digitcam watch: internal error on frame 1: ZeroDivisionError: a bug "
        "(run with --debug for the traceback)"
    )
    code = main(["watch", "--debug", "--source", f"dir:{tmp_path}", "--format", "jsonl"])
    assert code == EXIT_INTERNAL
    assert "Traceback (most recent call last)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        (["--source", "synthetic", "--loop"], "--loop applies to --source dir:FOLDER"),
        (["--source", "dir:.", "--seed", "3"], "--seed applies to --source synthetic"),
        (["--seed", "3"], "--seed applies to --source synthetic, not picamera"),
    ],
)
def test_watch_options_for_another_source_are_usage_errors(capsys, options, complaint):
    assert main(["watch", *options, "--frames", "1"]) == 2
    assert complaint in capsys.readouterr().err


def test_watch_and_predict_share_the_name_table(tmp_path, capsys):
    picture(tmp_path, "a.png")
    for fmt in ("table", "text"):  # 'text' is the older name, still accepted
        code = main(["watch", "--source", f"dir:{tmp_path}", "--format", fmt, "--stable", "1"])
        assert code == 0
        assert "no digit" in capsys.readouterr().out
    assert main(["predict", str(tmp_path), "--format", "table"]) == 0
    assert capsys.readouterr().out.startswith("text")


@pytest.mark.parametrize(("package", "what"), [("train", "training"), ("convert", "converting")])
def test_training_commands_on_the_pi_say_where_they_belong(monkeypatch, capsys, package, what):
    """A deploy sends device/ only: on the Pi, train/ and convert/ are not there."""
    import importlib.util

    from device import cli

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == package else real_find_spec(name, *args),
    )
    assert cli.workstation_stage(package) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"digitcam-{package}: {what}") and err.count("\n") == 1
    assert "belongs on the workstation" in err


def test_training_commands_without_tensorflow_say_how_to_get_it(monkeypatch, capsys):
    import importlib.util

    from device import cli

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "tensorflow" else real_find_spec(name, *args),
    )
    assert cli.train_main() == 2
    err = capsys.readouterr().err
    assert "needs TensorFlow" in err and "make train" in err and err.count("\n") == 1


def test_training_commands_on_the_workstation_run_the_stage():
    code = (
        "import sys; from device.cli import convert_main; sys.argv[1:] = ['--help']; convert_main()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: digitcam-convert")
