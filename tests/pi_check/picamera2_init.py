"""picamera2 for make pi-check: tests/fake_picamera2.py's camera (installed beside this file as
_fake.py), showing each picture in $PICHECK_FRAMES (sorted) for $PICHECK_REPEAT frames, then
again from the first; blank paper when $PICHECK_FRAMES is not set."""

import os
from pathlib import Path

import numpy as np
from PIL import Image

from ._fake import Plan, module


def _frames():
    folder = os.environ.get("PICHECK_FRAMES")
    if not folder:
        return None
    repeat = int(os.environ.get("PICHECK_REPEAT", "5"))
    pictures = [np.asarray(Image.open(p).convert("L")) for p in sorted(Path(folder).glob("*.png"))]
    return [grey for grey in pictures for _ in range(repeat)]


Picamera2 = module(Plan(frames=_frames())).Picamera2
