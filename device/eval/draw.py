"""The pictures of an evaluation report, drawn with Pillow: confusion matrix and thumbnails."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from device.files.decode import DecodeError, read_picture

CELL = 44  # pixels per matrix cell
THUMB = 240  # long side of a misread's thumbnail
INPUT_SCALE = 4  # the 28x28 model input shown 112x112
BOX_COLOUR = (230, 40, 40)


def confusion_png(rows: list[str], columns: list[str], counts: list[list[int]]) -> bytes:
    """A confusion matrix: a row per label, a column per answer, each cell shaded by its
    share of the row (right answers green, wrong ones red) and showing its count."""
    font = ImageFont.load_default(size=14)
    left, top = 3 * CELL // 2, 3 * CELL // 2
    image = Image.new("RGB", (left + CELL * len(columns) + 8, top + CELL * len(rows) + 8), "white")
    draw = ImageDraw.Draw(image)
    draw.text((left + CELL * len(columns) / 2, 10), "answer", fill="black", font=font, anchor="mt")
    draw.text((8, top - 22), "label", fill="black", font=font)
    for j, name in enumerate(columns):
        x = left + j * CELL + CELL / 2
        draw.text((x, top - 8), name, fill="black", font=font, anchor="ms")
    for i, (label, row) in enumerate(zip(rows, counts, strict=True)):
        y = top + i * CELL
        draw.text((left - 8, y + CELL / 2), label, fill="black", font=font, anchor="rm")
        total = max(sum(row), 1)
        for j, (answer, count) in enumerate(zip(columns, row, strict=True)):
            share = count / total
            tint = (60, 170, 80) if answer == label else (220, 60, 60)
            fill = tuple(round(255 - share * (255 - c)) for c in tint)
            x = left + j * CELL
            draw.rectangle((x, y, x + CELL - 1, y + CELL - 1), fill=fill, outline=(200, 200, 200))
            if count:
                ink = "white" if share > 0.55 else "black"
                draw.text(
                    (x + CELL / 2, y + CELL / 2), str(count), fill=ink, font=font, anchor="mm"
                )
    return png_bytes(image)


def thumbnail(path: Path, box: list[int] | None) -> bytes | None:
    """A JPEG thumbnail of the upright picture in grey with the region read boxed in red
    (the box is in the picture's pixels); None if the file cannot be read again."""
    try:
        picture = read_picture(path)
    except DecodeError:
        return None
    image = Image.fromarray(picture.grey).convert("RGB")
    shrink = min(1.0, THUMB / max(image.size))
    if shrink < 1.0:
        size = (max(1, round(image.width * shrink)), max(1, round(image.height * shrink)))
        image = image.resize(size, Image.BILINEAR)
    if box is not None:
        scale = shrink / picture.scale
        x, y, w, h = (v * scale for v in box)
        line = max(2, round(max(image.size) / 120))
        draw = ImageDraw.Draw(image)
        draw.rectangle(
            (x - line, y - line, x + w + line, y + h + line), outline=BOX_COLOUR, width=line
        )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def model_input_png(model_inputs: list[np.ndarray]) -> bytes | None:
    """The 28x28 input(s) the model saw, side by side (one per digit of a number), enlarged
    without smoothing."""
    if not model_inputs:
        return None
    gap = np.zeros((28, 2), np.uint8)
    row = np.hstack([part for m in model_inputs for part in (np.asarray(m, np.uint8), gap)][:-1])
    image = Image.fromarray(row)
    return png_bytes(
        image.resize((image.width * INPUT_SCALE, image.height * INPUT_SCALE), Image.NEAREST)
    )


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
