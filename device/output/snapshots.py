"""Snapshots of what the camera saw: the frame, the digit's box, the answer, the model's input."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from device.output.formats import Answer, caption
from device.vision.read import Reading

READ_COLOUR, UNSURE_COLOUR = (40, 200, 60), (255, 160, 0)
INSET_SCALE = 3  # the 28x28 model input is shown 84x84 in the top-right corner


def annotate(grey: np.ndarray, reading: Reading) -> Image.Image:
    """An RGB picture of the frame with the region read boxed, the answer written at the top
    left and the 28x28 image the model was shown in the top right."""
    image = Image.fromarray(grey).convert("RGB")
    draw = ImageDraw.Draw(image)
    line = max(2, min(image.size) // 160)
    colour = READ_COLOUR if reading.digit is not None else UNSURE_COLOUR
    if reading.box is not None:
        x, y, w, h = reading.box
        draw.rectangle((x, y, x + w - 1, y + h - 1), outline=colour, width=line)
    font = ImageFont.load_default(size=max(12, min(image.size) // 15))
    text = caption(reading)
    left, top, right, bottom = draw.textbbox((line, line), text, font=font)
    draw.rectangle((0, 0, right + line, bottom + line), fill=(0, 0, 0))
    draw.text((line, line), text, fill=colour, font=font)
    if reading.model_input is not None:
        side = reading.model_input.shape[0] * INSET_SCALE
        inset = Image.fromarray(reading.model_input).resize((side, side), Image.NEAREST)
        corner = (max(0, image.width - side - line), line)
        draw.rectangle(
            (corner[0] - line, 0, image.width - 1, side + 2 * line - 1), fill=(128, 128, 128)
        )
        image.paste(inset.convert("RGB"), corner)
    return image


def snapshot_name(when: float, frame: int, reading: Reading) -> str:
    """'20240501-131415-000123-digit3.jpg': local time, frame number and answer, sortable."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    answer = "nodigit" if reading.digit is None else f"digit{reading.digit}"
    return f"{stamp}-{frame:06d}-{answer}.jpg"


def save_snapshot(directory: Path, answer: Answer, grey: np.ndarray) -> Path:
    """Writes the annotated frame of an answer as a JPEG in directory (OSError if it cannot)."""
    path = Path(directory) / snapshot_name(answer.t, answer.frame, answer.reading)
    annotate(grey, answer.reading).save(path, "JPEG", quality=85)
    return path
