"""Faults around the reading processes: dead or killed workers, SIGTERM, the cap, Ctrl-C."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from device.files.batch import read_files, worker_plan
from tests.hostile_corpus import encoded, photo
from tests.hostile_helpers import MODEL


def test_a_dead_worker_costs_its_file_only(tmp_path):
    data = encoded(photo(7), "JPEG")
    paths = []
    for i in range(160):
        paths.append(tmp_path / f"{i:03d}.jpg")
        paths[-1].write_bytes(data)
    for _ in range(3):  # a worker killed before its model loaded had no file to lose: again
        rows = []
        for row in read_files(paths, MODEL, 0.5, workers=2):
            rows.append(row)
            if len(rows) == 20:
                os.kill(multiprocessing.active_children()[0].pid, signal.SIGKILL)
        assert [row.path for row in rows] == [str(p) for p in paths]
        assert not multiprocessing.active_children()  # the pool, replacement included, is gone
        dead = [row for row in rows if row.error is not None]
        assert all(row.reading.digit == 7 for row in rows if row.error is None)
        if dead:
            break
    assert len(dead) == 1 and dead[0].error.startswith("the reader died (killed by SIGKILL")


def session_members(sid: int) -> list[int]:
    """The processes still alive in session sid (field 6 of /proc/PID/stat)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def predict_reading(folder: Path) -> subprocess.Popen:
    """`predict --workers 2` on 2,000 photos, in a session of its own, once it has answered
    (its workers are reading)."""
    data = encoded(photo(3), "JPEG")
    for i in range(2000):
        (folder / f"{i:04d}.jpg").write_bytes(data)
    command = [sys.executable, "-m", "device", "predict", str(folder), "--workers", "2"]
    predict = subprocess.Popen(
        [*command, "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert predict.stdout.readline()
    return predict


def test_workers_exit_when_predict_is_killed(tmp_path):
    """SIGKILL to predict (the out-of-memory killer, systemd's last resort) leaves no reader
    behind: each worker sees its pipe close and exits."""
    predict = predict_reading(tmp_path)
    assert len(session_members(predict.pid)) >= 3
    predict.kill()
    predict.communicate()
    for _ in range(50):
        if not session_members(predict.pid):
            break
        time.sleep(0.1)
    assert session_members(predict.pid) == []


def test_sigterm_stops_predict_like_ctrl_c(tmp_path):
    """kill, timeout or systemd: one line and exit 130, no worker tracebacks."""
    predict = predict_reading(tmp_path)
    predict.terminate()
    out, err = predict.communicate(timeout=60)
    assert predict.returncode == 130
    assert err.splitlines()[-1] == "digitcam predict: interrupted" and "Traceback" not in err


def test_sigterm_to_the_whole_group_ends_the_workers_quietly(tmp_path):
    """timeout(1) and `systemctl stop` signal every process of the group, the workers too:
    they end without a traceback, and predict says it was interrupted."""
    predict = predict_reading(tmp_path)
    os.killpg(predict.pid, signal.SIGTERM)
    out, err = predict.communicate(timeout=60)
    assert predict.returncode == 130
    assert err.splitlines()[-1] == "digitcam predict: interrupted" and "Traceback" not in err


def test_workers_are_capped_by_cores_and_memory(monkeypatch):
    import device.files.batch as batch

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(batch, "available_mib", lambda: 10_000.0)
    assert worker_plan(2, 1000) == (2, None)
    workers, note = worker_plan(16, 1000)
    assert workers == 2 and note.startswith("--workers 16 lowered to 2 (2 core(s)")
    monkeypatch.setattr(batch, "available_mib", lambda: 1.5 * batch.WORKER_MIB)
    workers, note = worker_plan(2, 1000)
    assert workers == 1 and "MiB of memory available" in note
    assert worker_plan(None, 1000)[0] == 1


def test_ctrl_c_during_the_backend_search_is_not_a_broken_backend(monkeypatch, request):
    import importlib

    from device.model import interpreter

    def interrupted_import(name):
        os.kill(os.getpid(), signal.SIGINT)  # arrives while "importing"...
        raise ImportError("initialization failed")  # ...which then looks like a broken wheel

    monkeypatch.setattr(importlib, "import_module", interrupted_import)
    # Ctrl-C as in a terminal, even when the tests run as a background job (SIGINT ignored)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))
    with pytest.raises(KeyboardInterrupt):
        interpreter.find_backend()
