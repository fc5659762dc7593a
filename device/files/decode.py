"""Decodes any picture Pillow reads into an upright 2-D uint8 grey array, reduced when large."""

from __future__ import annotations

import contextlib
import functools
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from device.regular import NotRegularFile, open_regular
from device.vision.ink import reduction

# Larger JPEGs are decoded at 1/2, 1/4 or 1/8 scale by the codec itself (draft mode, several
# times faster than a full decode), other formats are box-reduced after decoding, to about the
# size the vision pipeline works at (WORK_SIDE). What a decode would take is known from the
# header: pictures over DECODE_BUDGET are refused before any pixel is decoded.


class DecodeError(Exception):
    """A file that cannot be read as a picture: str() is "name: reason", on one line."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


@dataclass(frozen=True)
class Picture:
    grey: np.ndarray  # (H, W) uint8, upright (EXIF orientation applied)
    scale: float  # original pixels per grey pixel: boxes in grey * scale = boxes in the file
    size: tuple[int, int] | None = None  # (width, height) of the upright picture in the file


# Pillow formats never opened: EPS runs Ghostscript on the file, not a thing to do to a stranger's.
UNSAFE_FORMATS = frozenset({"EPS"})
# At most this much memory holds a decoded picture before it is reduced (the pipeline needs
# ~320 px): 96 MiB is a 24-megapixel RGB(A) picture, or 96 megapixels of grey. Bigger ones are
# refused with an error row instead of being allowed to take the device's memory.
DECODE_BUDGET = 96 << 20
BAND_PIXELS = 1 << 20  # converted to grey and reduced this many pixels at a time
# EXIF orientation -> the transposition that makes the picture upright (as ImageOps does)
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class TooLarge(ValueError):
    """Decoding the picture would take more memory than DECODE_BUDGET."""


# Tried first: Pillow tries formats in order, and those without a header check (a few come
# before JPEG in its registry) are each opened and fail, ~70 us a photo in all
COMMON_FORMATS = ("JPEG", "PNG")


@functools.cache
def open_formats() -> tuple[str, ...]:
    """The Pillow formats digitcam opens: every reader Pillow has, less UNSAFE_FORMATS, the
    common ones first."""
    Image.init()
    readers = [fmt for fmt in Image.OPEN if fmt not in UNSAFE_FORMATS]
    first = [fmt for fmt in COMMON_FORMATS if fmt in readers]
    return (*first, *(fmt for fmt in readers if fmt not in first))


def known_image_suffixes() -> frozenset[str]:
    """Extensions of the formats Pillow can open here (not save-only ones such as .pdf)."""
    formats = open_formats()
    return frozenset(ext for ext, fmt in Image.registered_extensions().items() if fmt in formats)


def looks_like_image(path: Path) -> bool:
    """True when Pillow recognises the file's content as a picture (reads the header only)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with open_regular(path) as f, Image.open(f, formats=open_formats()):
                return True
    except Image.DecompressionBombError:
        return True  # a picture, if a hostile one: reading it reports the error
    except (OSError, ValueError, SyntaxError):
        return False


def grey_array(image: Image.Image, top: float | None = None) -> np.ndarray:
    """Any Pillow mode to 2-D uint8 grey; transparency is flattened onto white paper.

    `top` is the value that maps to white in 16-bit and float pictures (by default found from
    `image` itself; decode_image passes the whole picture's when converting it in bands)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # Pillow's convert("L") clips 16-bit values at 255 instead of scaling them.
        wide = np.asarray(image).astype(np.float32)
        wide *= 255.0 / (top or _white_level(image))
        wide += 0.5
        return np.clip(wide, 0, 255, out=wide).astype(np.uint8)
    if image.mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float32))
        top = top or _white_level(image)
        return np.clip(values * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        paper = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(paper, image.convert("RGBA"))
    if image.mode not in ("L", "RGB", "RGBA", "CMYK", "1", "YCbCr"):
        image = image.convert("RGB")  # LAB, HSV and friends have no direct route to L
    return np.asarray(image.convert("L"))


def _white_level(image: Image.Image) -> float:
    """The value that is white in a 16-bit or float picture: its full range, judged by content."""
    low, high = image.getextrema()
    if image.mode == "F":
        return 1.0 if (high if math.isfinite(high) else 0) <= 1.0 else 255.0
    return 65535.0 if high > 255 or image.mode.startswith("I;16") else 255.0


def decoded_bytes(image: Image.Image, original: tuple[int, int]) -> int:
    """Memory that decoding the opened (and perhaps drafted) image takes before reduction."""
    width, height = image.size
    pixel = 1 if image.mode in ("1", "L", "P") else 2 if image.mode.startswith("I;16") else 4
    total = width * height * pixel
    if image.format == "WEBP":
        total *= 2  # libwebp decodes into a buffer of its own, then Pillow copies it
    if image.format == "JPEG" and image.info.get("progressive"):
        # libjpeg keeps every DCT coefficient of a progressive JPEG (2 bytes each), at full
        # size whatever the draft scale: a 13,000 px square one takes 500 MB.
        layers = getattr(image, "layer", None) or [("", 1, 1, 0)]
        h_max, v_max = max(layer[1] for layer in layers), max(layer[2] for layer in layers)
        share = sum(layer[1] * layer[2] for layer in layers) / (h_max * v_max)
        total += int(original[0] * original[1] * share * 2)
    return total


def decode_image(image: Image.Image, budget: int = DECODE_BUDGET) -> Picture:
    """An opened (not yet loaded) Pillow image to an upright, possibly reduced, grey Picture.

    TooLarge when decoding it would take more than `budget` bytes."""
    original = image.size
    if image.format == "JPEG":
        factor = reduction(original)  # the codec decodes at 1/2, 1/4 or 1/8 scale (draft)
        image.draft("L", (max(1, original[0] // factor), max(1, original[1] // factor)))
    need = decoded_bytes(image, original)
    if need > budget:
        raise TooLarge(
            f"{original[0]}x{original[1]} {image.mode} takes {need / 2**20:.0f} MiB to decode, "
            f"the limit is {budget >> 20} MiB"
        )
    orientation = image.getexif().get(0x0112, 1)
    image.load()
    grey = _reduced_grey(image, reduction(image.size))
    if orientation in UPRIGHT:
        grey = np.asarray(Image.fromarray(grey).transpose(UPRIGHT[orientation]))
    upright = original[::-1] if orientation in (5, 6, 7, 8) else original
    return Picture(grey=grey, scale=max(original) / max(grey.shape), size=upright)


def _reduced_grey(image: Image.Image, factor: int) -> np.ndarray:
    """Grey, box-reduced by `factor`, a band of rows at a time: the temporaries of the mode
    conversion stay small whatever the picture's size."""
    width, height = image.size
    top = _white_level(image) if image.mode in ("I", "F") or image.mode.startswith("I;16") else None
    rows = factor * max(1, BAND_PIXELS // (width * factor))
    bands = []
    for y in range(0, height, rows):
        band = image if rows >= height else image.crop((0, y, width, min(height, y + rows)))
        grey = grey_array(band, top)
        if factor > 1:
            grey = np.asarray(Image.fromarray(grey).reduce(factor))
        bands.append(grey)
    return bands[0] if len(bands) == 1 else np.concatenate(bands)


def read_picture(source: str | Path | BinaryIO) -> Picture:
    """Decodes a file (path or binary file object); DecodeError names it on failure.

    Only regular files are opened: a FIFO or a device would block or never end."""
    name = str(source) if isinstance(source, (str, Path)) else getattr(source, "name", "<stream>")
    try:
        with warnings.catch_warnings():
            # Large photos are decoded reduced or refused (DECODE_BUDGET), so only Pillow's hard
            # limit (an error) applies.
            # Damaged files make Pillow warn (TIFF tags, EXIF): their row says what went wrong.
            warnings.simplefilter("ignore")
            with contextlib.ExitStack() as stack:
                stream = source
                if isinstance(source, (str, Path)):
                    stream = stack.enter_context(open_regular(source))
                image = stack.enter_context(Image.open(stream, formats=open_formats()))
                picture = decode_image(image)
    except FileNotFoundError:
        raise DecodeError(name, "no such file") from None
    except IsADirectoryError:
        raise DecodeError(name, "is a directory") from None
    except PermissionError:
        raise DecodeError(name, "permission denied") from None
    except NotRegularFile as exc:
        raise DecodeError(name, str(exc)) from None
    except TooLarge as exc:
        raise DecodeError(name, f"refused as too large ({exc})") from None
    except Image.DecompressionBombError as exc:
        size = str(exc).split(",")[0]  # "Image size (N pixels) exceeds limit of M pixels"
        raise DecodeError(name, f"refused as a possible decompression bomb ({size})") from None
    except UnidentifiedImageError:
        raise DecodeError(name, _unidentified_reason(source)) from None
    except (OSError, ValueError, SyntaxError, EOFError, NotImplementedError) as exc:
        # NotImplementedError: Pillow's answer to some damaged headers (DDS pixel formats)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DecodeError(name, f"damaged image ({reason})") from None
    except MemoryError:
        raise DecodeError(name, "out of memory decoding it") from None
    if picture.grey.size == 0:
        raise DecodeError(name, "image has no pixels")
    return picture


def _unidentified_reason(source: str | Path | BinaryIO) -> str:
    if isinstance(source, (str, Path)):
        try:
            if Path(source).stat().st_size == 0:
                return "empty file"
        except OSError:
            pass
    return "not an image Pillow can read"
