"""A fuzz corpus of hostile pictures, made on the fly: memory bombs, extreme shapes, corrupted
files, wrong extensions, non-UTF-8 names. `python -m tests.hostile_corpus DIR --full` writes
the issue's full-size bombs (13,000 px squares) for measuring by hand."""

from __future__ import annotations

import io
import os
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from device.synthetic.photos import font_digit, photo_of_digit


def png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def blank_png(width: int, height: int, bit_depth: int = 8, colour: int = 6) -> bytes:
    """A real (complete, decodable) PNG of zeros: small on disk, huge decoded."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    row = b"\0" * (1 + width * channels * bit_depth // 8)
    packer = zlib.compressobj(1)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    chunks = png_chunk(b"IHDR", header) + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def jpeg_claiming(width: int, height: int, progressive: bool) -> bytes:
    """A small JPEG whose frame header is edited to claim width x height: the decoder sets
    up (and, progressive, zeroes) its full-size buffers before it finds the data short."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buffer, "JPEG", progressive=progressive)
    data = bytearray(buffer.getvalue())
    marker = data.find(b"\xff\xc2" if progressive else b"\xff\xc0")
    struct.pack_into(">HH", data, marker + 5, height, width)
    return bytes(data)


def photo(seed: int, size=(480, 640)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return photo_of_digit(font_digit(seed % 10, rng), rng, size)


def encoded(rgb: np.ndarray, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image = Image.fromarray(rgb)
    if fmt == "GIF":
        image = image.convert("P")
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def bombs(full: bool = False) -> dict[str, bytes]:
    """Pictures that decode to hundreds of MiB (full: the issue's 13,000 px squares)."""
    side = 13000 if full else 7000
    return {
        "bomb-rgba.png": blank_png(side, side, 8, 6),
        "bomb-16bit.png": blank_png(side, side + 1000, 16, 0),
        "big-rgba-within-budget.png": blank_png(4800, 4800, 8, 6),  # 88 MiB: decoded
        "bomb-progressive.jpg": jpeg_claiming(13000, 13000, progressive=True),
        "bomb-baseline.jpg": jpeg_claiming(13000, 13000, progressive=False),
        "bomb-over-pillow-limit.png": b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + png_chunk(b"IEND", b""),
    }


def shapes() -> dict[str, bytes]:
    """Thin and tiny pictures (every one decodes)."""
    files = {}
    for name, (w, h) in {
        "thin-1x20000": (1, 20000),
        "thin-20000x1": (20000, 1),
        "thin-3x60000": (3, 60000),
        "tiny-1x1": (1, 1),
        "tiny-2x3": (2, 3),
    }.items():
        grey = np.full((h, w), 200, np.uint8)
        grey[::7] = 0
        files[f"{name}.png"] = encoded(np.stack([grey] * 3, -1), "PNG")
        if max(w, h) < 65500:
            files[f"{name}.jpg"] = encoded(np.stack([grey] * 3, -1), "JPEG")
    return files


def corrupted(count: int, seed: int = 0) -> dict[str, bytes]:
    """Real photos of digits in several formats, then bit flips, truncations, header edits."""
    rng = np.random.default_rng(seed)
    formats = [("jpg", "JPEG"), ("png", "PNG"), ("gif", "GIF"), ("bmp", "BMP"),
               ("tif", "TIFF"), ("webp", "WEBP")]  # fmt: skip
    originals = [(ext, encoded(photo(i, (120, 160)), fmt)) for i, (ext, fmt) in enumerate(formats)]
    files = {}
    for i in range(count):
        ext, data = originals[i % len(originals)]
        data = bytearray(data)
        kind = ("flip", "truncate", "header", "extension")[i % 4]
        if kind == "flip":
            for position in rng.integers(0, len(data), 1 + i % 8):
                data[position] ^= 1 << int(rng.integers(8))
        elif kind == "truncate":
            data = data[: int(rng.integers(0, len(data)))]
        elif kind == "header":
            start = int(rng.integers(0, min(64, len(data))))
            data[start : start + 4] = rng.integers(0, 256, 4, dtype=np.uint8).tobytes()
        else:
            ext = formats[(i + 1) % len(formats)][0]  # intact, but named as another format
        files[f"fuzz-{i:03d}-{kind}.{ext}"] = bytes(data)
    return files


def write_corpus(directory: Path, count: int = 240, full: bool = False) -> list[Path]:
    """Writes every class of file into directory; returns the paths (FIFOs included)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {**bombs(full), **shapes(), **corrupted(count)}
    files["empty.png"] = b""
    files["not-a-picture.jpg"] = b"hello, this is text\n"
    paths = []
    for name, data in files.items():
        (directory / name).write_bytes(data)
        paths.append(directory / name)
    odd = os.fsencode(directory) + b"/bad\xff-name.png"
    with open(odd, "wb") as f:
        f.write(encoded(photo(3), "PNG"))
    paths.append(Path(os.fsdecode(odd)))
    fifo = directory / "fifo.png"
    os.mkfifo(fifo)
    paths.append(fifo)
    return paths


if __name__ == "__main__":
    out = Path(sys.argv[1])
    written = write_corpus(out, full="--full" in sys.argv)
    print(f"{len(written)} files in {out}")
