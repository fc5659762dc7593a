"""The live stream's pictures: the frame with the boxes read and the model's 28x28 input(s)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from device.output.snapshots import READ_COLOUR, UNSURE_COLOUR
from device.vision.read import Reading

INSET_SHARE = 1 / 4  # each 28x28 model input is enlarged to about a quarter of the frame
JPEG_QUALITY = 75


def boxes_of(fields: dict) -> list[tuple[list[int], bool]]:
    """(box, read) for every digit of a reading's JSON fields: each of `digits` when the reading
    has them (whole numbers), else its single `box`. read: the model was sure of it."""
    digits = fields.get("digits")
    if digits:
        return [(d["box"], d.get("digit") is not None) for d in digits if d.get("box")]
    return [(fields["box"], fields.get("digit") is not None)] if fields.get("box") else []


def annotate_live(grey: np.ndarray, reading: Reading) -> Image.Image:
    """An RGB picture of the frame, its size unchanged, with every box read drawn and the
    model's input(s) enlarged in the top right corner."""
    image = Image.fromarray(grey).convert("RGB")
    draw = ImageDraw.Draw(image)
    line = max(2, min(image.size) // 160)
    for (x, y, w, h), read in boxes_of(reading.fields()):
        colour = READ_COLOUR if read else UNSURE_COLOUR
        draw.rectangle((x, y, x + w - 1, y + h - 1), outline=colour, width=line)
    right = image.width - line
    scale = max(1, round(min(image.size) * INSET_SHARE / 28))  # whole pixels: 4x at 640x480
    for model_input in reversed(reading.model_inputs):
        side = model_input.shape[0] * scale
        if right - side < 0:
            break
        inset = Image.fromarray(model_input).resize((side, side), Image.NEAREST).convert("RGB")
        frame = (right - side - line, 0, right + line - 1, side + 2 * line - 1)
        draw.rectangle(frame, fill=(128, 128, 128))
        image.paste(inset, (right - side, line))
        right -= side + 2 * line
    return image


def live_jpeg(grey: np.ndarray, reading: Reading, quality: int = JPEG_QUALITY) -> bytes:
    """The annotated frame as JPEG bytes."""
    buffer = io.BytesIO()
    annotate_live(grey, reading).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
