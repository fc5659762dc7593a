"""Snapshots of what the camera saw: the frame, each digit's box, the text, the model's inputs."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from device.output.atomic import write_whole
from device.output.formats import Answer, caption
from device.vision.read import Reading

READ_COLOUR, UNSURE_COLOUR = (40, 200, 60), (255, 160, 0)
INSET_SCALE = 3  # each 28x28 model input is shown 84x84 along the top right
MAX_INSETS = 8  # model inputs shown at most (a long number's first digits)


def annotate(grey: np.ndarray, reading: Reading) -> Image.Image:
    """An RGB picture of the frame with every digit read boxed and labelled, the text written
    at the top left and the 28x28 images the model was shown along the top right."""
    image = Image.fromarray(grey).convert("RGB")
    draw = ImageDraw.Draw(image)
    line = max(2, min(image.size) // 160)
    small = ImageFont.load_default(size=max(10, min(image.size) // 25))
    for digit in reading.digits:
        x, y, w, h = digit.box
        draw.rectangle((x, y, x + w - 1, y + h - 1), outline=READ_COLOUR, width=line)
        draw.text(
            (x, max(0, y - small.size - line)), str(digit.digit), fill=READ_COLOUR, font=small
        )
    if not reading.digits and reading.box is not None:  # the glyph the model was unsure of
        x, y, w, h = reading.box
        draw.rectangle((x, y, x + w - 1, y + h - 1), outline=UNSURE_COLOUR, width=line)
    colour = READ_COLOUR if reading.digits else UNSURE_COLOUR
    font = ImageFont.load_default(size=max(12, min(image.size) // 15))
    text = caption(reading)
    left, top, right, bottom = draw.textbbox((line, line), text, font=font)
    draw.rectangle((0, 0, right + line, bottom + line), fill=(0, 0, 0))
    draw.text((line, line), text, fill=colour, font=font)
    inputs = [d.model_input for d in reading.digits if d.model_input is not None]
    if not inputs and reading.model_input is not None:
        inputs = [reading.model_input]
    right_edge = image.width
    for model_input in inputs[:MAX_INSETS][::-1]:  # right to left, so the first digit leads
        side = model_input.shape[0] * INSET_SCALE
        inset = Image.fromarray(model_input).resize((side, side), Image.NEAREST)
        corner = (max(0, right_edge - side - line), line)
        draw.rectangle(
            (corner[0] - line, 0, right_edge - 1, side + 2 * line - 1), fill=(128, 128, 128)
        )
        image.paste(inset.convert("RGB"), corner)
        right_edge = corner[0] - line
    return image


def snapshot_name(when: float, frame: int, reading: Reading) -> str:
    """'20240501-131415-000123-digit3.jpg' (one digit), '...-number2025.jpg' (lines joined by
    '-') or '...-nodigit.jpg': local time, frame number and answer, sortable."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    text = reading.text
    if text is None:
        answer = "nodigit"
    elif len(reading.digits) == 1:
        answer = f"digit{text}"
    else:
        answer = "number" + text.replace(" ", "-")
    return f"{stamp}-{frame:06d}-{answer}.jpg"


def save_snapshot(directory: Path, answer: Answer, grey: np.ndarray) -> Path:
    """Writes the annotated frame of an answer as a JPEG in directory (OSError if it cannot)."""
    path = Path(directory) / snapshot_name(answer.t, answer.frame, answer.reading)
    encoded = io.BytesIO()
    annotate(grey, answer.reading).save(encoded, "JPEG", quality=85)
    write_whole(path, encoded.getvalue())
    return path
