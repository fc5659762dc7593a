"""Decodes any picture Pillow reads into an upright 2-D uint8 grey array, reduced when large."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from device.vision.ink import reduction

# Larger JPEGs are decoded at 1/2, 1/4 or 1/8 scale by the codec itself (draft mode, several
# times faster than a full decode), other formats are box-reduced after decoding, to about the
# size the vision pipeline works at (WORK_SIDE).


class DecodeError(Exception):
    """A file that cannot be read as a picture: str() is "name: reason", on one line."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


@dataclass(frozen=True)
class Picture:
    grey: np.ndarray  # (H, W) uint8, upright (EXIF orientation applied)
    scale: float  # original pixels per grey pixel: boxes in grey * scale = boxes in the file


def known_image_suffixes() -> frozenset[str]:
    """Extensions of the formats Pillow can open here (not save-only ones such as .pdf)."""
    return frozenset(ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN)


def looks_like_image(path: Path) -> bool:
    """True when Pillow recognises the file's content as a picture (reads the header only)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path):
                return True
    except Image.DecompressionBombError:
        return True  # a picture, if a hostile one: reading it reports the error
    except (OSError, ValueError, SyntaxError):
        return False


def grey_array(image: Image.Image) -> np.ndarray:
    """Any Pillow mode to 2-D uint8 grey; transparency is flattened onto white paper."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # Pillow's convert("L") clips 16-bit values at 255 instead of scaling them.
        wide = np.asarray(image).astype(np.float32)
        top = 65535.0 if wide.max(initial=0) > 255 or image.mode.startswith("I;16") else 255.0
        return np.clip(wide * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
    if image.mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float32))
        top = 1.0 if values.max(initial=0) <= 1.0 else 255.0
        return np.clip(values * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        paper = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(paper, image.convert("RGBA"))
    if image.mode not in ("L", "RGB", "RGBA", "CMYK", "1", "YCbCr"):
        image = image.convert("RGB")  # LAB, HSV and friends have no direct route to L
    return np.asarray(image.convert("L"))


def decode_image(image: Image.Image) -> Picture:
    """An opened (not yet loaded) Pillow image to an upright, possibly reduced, grey Picture."""
    original = image.size
    if image.format == "JPEG":
        factor = reduction(original)
        image.draft("L", (original[0] // factor, original[1] // factor))
    grey = grey_array(ImageOps.exif_transpose(image))  # transposing loads the pixels
    factor = reduction(grey.shape)
    if factor > 1:  # formats without a draft mode: a box filter in C after decoding
        grey = np.asarray(Image.fromarray(grey).reduce(factor))
    return Picture(grey=grey, scale=max(original) / max(grey.shape))


def read_picture(source: str | Path | BinaryIO) -> Picture:
    """Decodes a file (path or binary file object); DecodeError names it on failure."""
    name = str(source) if isinstance(source, (str, Path)) else getattr(source, "name", "<stream>")
    try:
        with warnings.catch_warnings():
            # Large photos are decoded reduced, so only Pillow's hard limit (an error) applies.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                picture = decode_image(image)
    except FileNotFoundError:
        raise DecodeError(name, "no such file") from None
    except IsADirectoryError:
        raise DecodeError(name, "is a directory") from None
    except PermissionError:
        raise DecodeError(name, "permission denied") from None
    except Image.DecompressionBombError as exc:
        size = str(exc).split(",")[0]  # "Image size (N pixels) exceeds limit of M pixels"
        raise DecodeError(name, f"refused as a possible decompression bomb ({size})") from None
    except UnidentifiedImageError:
        raise DecodeError(name, _unidentified_reason(source)) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DecodeError(name, f"damaged image ({reason})") from None
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
