"""device.files.decode: any picture Pillow reads becomes an upright 2-D uint8 grey array."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from device.files.decode import (
    UNSAFE_FORMATS,
    DecodeError,
    known_image_suffixes,
    looks_like_image,
    open_formats,
    read_picture,
)
from device.vision.ink import WORK_SIDE


def marked_page(size=(160, 120)) -> np.ndarray:
    """Light grey page (200) with a black square in its top-left corner: shows orientation."""
    page = np.full((size[1], size[0]), 200, np.uint8)
    page[10:40, 10:40] = 0
    return page


def write_bomb_png(path) -> None:
    """A tiny PNG whose header claims 20000 x 20000 pixels, over Pillow's hard limit."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 1000)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_rgb_jpeg_becomes_grey_of_the_same_size(tmp_path):
    path = tmp_path / "page.jpg"
    Image.fromarray(marked_page()).convert("RGB").save(path, quality=95)
    picture = read_picture(path)
    assert picture.grey.shape == (120, 160) and picture.grey.dtype == np.uint8
    assert picture.scale == 1.0
    assert picture.grey[20, 20] < 30 and abs(int(picture.grey[100, 100]) - 200) < 5


def test_transparent_png_is_flattened_on_white(tmp_path):
    rgba = np.zeros((120, 160, 4), np.uint8)  # transparent black everywhere...
    rgba[10:40, 10:40, 3] = 255  # ...but an opaque black square
    Image.fromarray(rgba, "RGBA").save(tmp_path / "ink.png")
    grey = read_picture(tmp_path / "ink.png").grey
    assert grey[20, 20] == 0 and grey[100, 100] == 255


def test_palette_image_with_transparency(tmp_path):
    image = Image.fromarray(marked_page()).convert("P")
    image.info["transparency"] = int(image.getpixel((100, 100)))  # the page colour
    image.save(tmp_path / "page.gif", transparency=image.info["transparency"])
    grey = read_picture(tmp_path / "page.gif").grey
    assert grey[20, 20] < 30 and grey[100, 100] == 255


def test_cmyk_jpeg_reads_like_rgb(tmp_path):
    Image.fromarray(marked_page()).convert("CMYK").save(tmp_path / "print.jpg", quality=95)
    grey = read_picture(tmp_path / "print.jpg").grey
    assert grey[20, 20] < 40 and grey[100, 100] > 150


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    wide = marked_page().astype(np.uint16) * 257  # 200 -> 51400, 0 -> 0
    Image.fromarray(wide).save(tmp_path / "scan16.png")
    assert Image.open(tmp_path / "scan16.png").mode.startswith("I")
    grey = read_picture(tmp_path / "scan16.png").grey
    assert grey[20, 20] == 0 and grey[100, 100] == 200


def test_exif_orientation_is_applied(tmp_path):
    image = Image.fromarray(marked_page()).convert("RGB")
    exif = image.getexif()
    exif[0x0112] = 6  # stored sideways: display rotated 90 degrees clockwise
    image.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    grey = read_picture(tmp_path / "phone.jpg").grey
    assert grey.shape == (160, 120)  # upright: portrait
    assert grey[:40, -40:].mean() < 100 < grey[:40, :40].mean()  # the square moved top-right


def test_large_jpeg_is_decoded_reduced_with_the_scale_to_map_back(tmp_path):
    big = np.kron(marked_page(), np.ones((16, 16), np.uint8))  # 2560 x 1920
    Image.fromarray(big).save(tmp_path / "big.jpg", quality=90)
    picture = read_picture(tmp_path / "big.jpg")
    assert WORK_SIDE <= max(picture.grey.shape) < 2 * WORK_SIDE
    assert picture.scale == pytest.approx(2560 / picture.grey.shape[1])
    start, stop = (int(v * 16 / picture.scale) for v in (10, 40))  # the square, reduced
    assert picture.grey[start + 2 : stop - 2, start + 2 : stop - 2].max() < 40


def test_large_png_is_box_reduced(tmp_path):
    big = np.kron(marked_page(), np.ones((8, 8), np.uint8))  # 1280 x 960
    Image.fromarray(big).save(tmp_path / "big.png")
    picture = read_picture(tmp_path / "big.png")
    assert picture.grey.shape == (240, 320) and picture.scale == 4.0


def test_reads_from_a_binary_stream():
    buffer = io.BytesIO()
    Image.fromarray(marked_page()).save(buffer, "PNG")
    buffer.seek(0)
    assert read_picture(buffer).grey.shape == (120, 160)


def broken_files(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("a shopping list, not a picture\n")
    buffer = io.BytesIO()
    Image.fromarray(marked_page((640, 480))).save(buffer, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 3])
    write_bomb_png(tmp_path / "bomb.png")
    return {
        "empty.png": "empty file",
        "notes.txt": "not an image",
        "cut.jpg": "truncated",
        "bomb.png": "decompression bomb",
        "missing.jpg": "no such file",
    }


def test_unreadable_files_raise_one_line_errors_naming_the_file(tmp_path):
    for name, reason in broken_files(tmp_path).items():
        with pytest.raises(DecodeError) as caught:
            read_picture(tmp_path / name)
        message = str(caught.value)
        assert message.startswith(str(tmp_path / name) + ": ")
        assert reason in caught.value.reason and "\n" not in message


def test_pictures_are_recognised_by_content(tmp_path):
    broken_files(tmp_path)
    Image.fromarray(marked_page()).save(tmp_path / "scan", "JPEG")  # no extension
    assert looks_like_image(tmp_path / "scan")
    assert looks_like_image(tmp_path / "bomb.png")  # a picture, if a hostile one
    assert not looks_like_image(tmp_path / "notes.txt")
    assert not looks_like_image(tmp_path / "empty.png")
    assert {".jpg", ".png", ".gif", ".tif"} <= known_image_suffixes()


def test_the_common_formats_are_tried_first_and_every_safe_reader_is_kept():
    """Pillow tries formats in the order given, opening each reader without a header check:
    JPEG first makes a camera photo's open cheap; no reader is lost and EPS stays out."""
    formats = open_formats()
    assert formats[:2] == ("JPEG", "PNG")
    Image.init()
    assert sorted(formats) == sorted(f for f in Image.OPEN if f not in UNSAFE_FORMATS)
    assert "EPS" not in formats
