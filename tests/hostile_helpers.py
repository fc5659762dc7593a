"""What the hostile-input tests share: the shipped model, digitcam in a child process."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO, SHIPPED_MODEL

MODEL = SHIPPED_MODEL


def run_digitcam(*args, **options) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "device", *map(str, args)]
    options.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(command, cwd=REPO, env=env, stderr=subprocess.PIPE, **options)
