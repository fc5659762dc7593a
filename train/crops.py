"""Device-made 28x28s: digits and letters drawn on synthetic photos and cut out by the device's
own pipeline, so the model also learns from what the device will show it."""

from __future__ import annotations

import io
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from device.contract import DIGIT_LABELS, MetadataError, sha256_of
from device.files.decode import read_picture
from device.files.mnist import DataError
from device.model.interpreter import DigitModel, ModelError, load_model
from device.synthetic.photos import jpeg_bytes, photo_of_digit
from device.vision.read import read_digit
from train.letters import LetterSplit

FRAME = (240, 320)  # rows, cols: the size the pipeline works at, so no reduction blurs the crop
JPEG_QUALITY = (50, 93)  # a camera's or phone's JPEG, low to high
CHUNK = 250  # images per job; each chunk has its own seed, so the workers' count changes nothing


class DigitsOnly:
    """A model seen through its ten digit scores: segmentation then cuts a letter as it would
    cut a digit, and every piece yields its 28x28 whatever the model thinks of it."""

    labels = list(DIGIT_LABELS)

    def __init__(self, model: DigitModel):
        self.model = model

    def scores(self, digit: np.ndarray) -> np.ndarray:
        return self.model.scores(digit)[: len(DIGIT_LABELS)]


def device_crop(
    image: np.ndarray, rng: np.random.Generator, judge: DigitsOnly
) -> np.ndarray | None:
    """The 28x28 the device makes of one 28x28 image photographed on paper; None when the
    pipeline found no single piece in the photo (nothing, or several pieces)."""
    photo = photo_of_digit(image, rng, size=FRAME)
    grey = read_picture(io.BytesIO(jpeg_bytes(photo, int(rng.integers(*JPEG_QUALITY))))).grey
    inputs = read_digit(grey, judge, 0.0).model_inputs
    return inputs[0] if len(inputs) == 1 else None


def _crop_chunk(images: np.ndarray, seed: int, model_path: Path) -> tuple[np.ndarray, np.ndarray]:
    judge = DigitsOnly(load_model(model_path))
    rng = np.random.default_rng(seed)
    crops, kept = [], []
    for index, image in enumerate(images):
        crop = device_crop(image, rng, judge)
        if crop is not None:
            crops.append(crop)
            kept.append(index)
    return np.array(crops, np.uint8).reshape(-1, 28, 28), np.array(kept, np.int64)


def device_crops(
    images: np.ndarray, seed: int, model_path: Path, workers: int = 2, what: str = "crops"
) -> tuple[np.ndarray, np.ndarray]:
    """The device's 28x28s of `images` and the indices of the images they came from (a photo
    the pipeline reads as several pieces or none is left out). Seeded per chunk of CHUNK
    images, so the result does not depend on `workers`."""
    starts = range(0, len(images), CHUNK)
    jobs = [(images[s : s + CHUNK], seed * 100_003 + s, model_path) for s in starts]
    progress = {"desc": what, "unit": "chunk", "total": len(jobs), "leave": False, "disable": None}
    if workers <= 1 or len(jobs) <= 1:
        results = [_crop_chunk(*job) for job in tqdm(jobs, **progress)]
    else:
        # spawn: the trainer has TensorFlow's threads running, which a fork would not carry over
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context) as pool:
            results = list(tqdm(pool.map(_crop_chunk, *zip(*jobs, strict=True)), **progress))
    crops = [c for c, _ in results]
    kept = [k + s for (_, k), s in zip(results, starts, strict=True)]
    if not crops:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64)
    return np.concatenate(crops), np.concatenate(kept)


@dataclass(frozen=True)
class DeviceCrops:
    """Device-made 28x28s of training and validation digits and letters."""

    digits: np.ndarray
    digit_labels: np.ndarray
    letters: np.ndarray
    val_digits: np.ndarray
    val_digit_labels: np.ndarray
    val_letters: np.ndarray
    recipe: str  # what made them: the cutting model's sha256, the count and the seed

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial.npz")
        np.savez(partial, **{k: v for k, v in self.__dict__.items()})
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> DeviceCrops:
        with np.load(path) as data:
            fields = {key: data[key] for key in data.files}
        return cls(**{**fields, "recipe": str(fields["recipe"])})


def build_device_crops(
    train_digits: tuple[np.ndarray, np.ndarray],
    val_digits: tuple[np.ndarray, np.ndarray],
    letters: LetterSplit,
    count: int,
    seed: int,
    model_path: Path,
    workers: int = 2,
) -> DeviceCrops:
    """Crops of `count` training digits and count / 2 training letters (a seeded sample), and
    of the validation digits and letters (at most `count` of each), cut out by the pipeline
    with the model at `model_path` deciding where glyphs are cut (its `none` is not asked)."""
    (x_tr, y_tr), (x_val, y_val) = train_digits, val_digits
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(x_tr), min(count, len(x_tr)), replace=False))
    picked_letters = np.sort(
        rng.choice(len(letters.train), min(count // 2, len(letters.train)), replace=False)
    )

    def crop(images: np.ndarray, offset: int, what: str) -> tuple[np.ndarray, np.ndarray]:
        return device_crops(images, seed + offset, model_path, workers, f"device crops: {what}")

    digits, kept = crop(x_tr[pick], 1, "training digits")
    letter_crops, _ = crop(letters.train.images[picked_letters], 2, "training letters")
    val_crops, val_kept = crop(x_val[:count], 3, "validation digits")
    val_letter_crops, _ = crop(letters.validation.images[:count], 4, "validation letters")
    return DeviceCrops(
        digits, y_tr[pick][kept], letter_crops, val_crops, y_val[val_kept], val_letter_crops,
        recipe(model_path, count, seed),
    )  # fmt: skip


def recipe(model_path: Path, count: int, seed: int) -> str:
    return f"model sha256 {sha256_of(model_path)}, {count} digits, seed {seed}"


def cached_device_crops(
    path: Path,
    model_path: Path,
    *,
    train_digits: tuple[np.ndarray, np.ndarray],
    val_digits: tuple[np.ndarray, np.ndarray],
    letters: LetterSplit,
    count: int,
    seed: int,
    reuse: bool,
) -> DeviceCrops:
    """The crops of build_device_crops, kept at `path`: a resumed run (`reuse`) reads them back
    when the same model, count and seed made them. DataError when the model cannot be loaded."""
    try:
        load_model(model_path)
    except (ModelError, MetadataError) as exc:
        raise DataError(f"cannot cut device crops: {exc} (--crop-model)") from None
    if reuse and path.exists():
        try:
            kept = DeviceCrops.load(path)
        except (OSError, ValueError, KeyError, TypeError):
            kept = None  # unreadable (an interrupted write never is: see save): made again
        if kept is not None and kept.recipe == recipe(model_path, count, seed):
            return kept
    print(
        f"digitcam-train: photographing {count} training digits and {count // 2} letters on "
        f"synthetic paper and cutting them out with the device pipeline (a few minutes; kept in "
        f"{path})",
        flush=True,
    )
    crops = build_device_crops(
        train_digits, val_digits, letters, count, seed, model_path, os.cpu_count() or 1
    )
    crops.save(path)
    return crops
