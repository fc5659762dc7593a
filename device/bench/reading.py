"""Reading accuracy: real photos (digits, numbers, non-digits) and synthetic numbers and pages.

python -m device.bench.reading [--real DIR] [--mnist DIR] [--letters FILE] [--count N]
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import numpy as np

from device.contract import DEFAULT_MIN_CONFIDENCE
from device.files.decode import read_picture
from device.files.letters import load_letters
from device.files.mnist import load_local
from device.model.interpreter import load_model
from device.synthetic.numbers import NON_DIGIT_PAGES, photo_of_number, photo_without_digits
from device.synthetic.photos import jpeg_bytes
from device.vision.read import Scorer, read_digit

REPO = Path(__file__).resolve().parents[2]


def real_set(folder: Path, model: Scorer) -> list[tuple[str, str | None]]:
    """(label, text read) for every file of a labelled real folder (label "none": no digit)."""
    rows = list(csv.DictReader((folder / "labels.csv").open()))
    out = []
    for row in rows:
        reading = read_digit(read_picture(folder / row["file"]).grey, model, DEFAULT_MIN_CONFIDENCE)
        out.append((row["label"], reading.text))
    return out


def through_jpeg(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return read_picture(io.BytesIO(jpeg_bytes(photo, int(rng.integers(50, 93))))).grey


def synthetic_numbers(mnist, model: Scorer, count: int, lengths: tuple[int, int], seed: int):
    """(label, text read) for `count` synthetic photos of numbers of MNIST test digits."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        picks = rng.integers(0, len(mnist.y_test), int(rng.integers(lengths[0], lengths[1] + 1)))
        label = "".join(str(int(mnist.y_test[i])) for i in picks)
        grey = through_jpeg(photo_of_number([mnist.x_test[i] for i in picks], rng), rng)
        out.append((label, read_digit(grey, model, DEFAULT_MIN_CONFIDENCE).text))
    return out


def synthetic_pages(letters: np.ndarray | None, model: Scorer, count: int, seed: int) -> dict:
    """Fraction answered "no digit" per kind of synthetic non-digit page."""
    rng = np.random.default_rng(seed)
    kinds = [k for k in NON_DIGIT_PAGES if k != "letters" or letters is not None]
    result = {}
    for kind in kinds:
        texts = [
            read_digit(through_jpeg(photo_without_digits(rng, kind, letters), rng), model, 0.5).text
            for _ in range(count)
        ]
        result[kind] = float(np.mean([t is None for t in texts]))
    return result


def letters_as_28(letters: np.ndarray, model: Scorer) -> float:
    """Fraction of 28x28 letters answered "no digit"."""
    texts = [read_digit(image, model, DEFAULT_MIN_CONFIDENCE).text for image in letters]
    return float(np.mean([t is None for t in texts]))


def right(pairs) -> str:
    hits = sum(label == text for label, text in pairs)
    return f"{hits}/{len(pairs)} ({100 * hits / max(len(pairs), 1):.1f}%)"


def none_rate(pairs) -> str:
    hits = sum(text is None for _, text in pairs)
    return f"{hits}/{len(pairs)} ({100 * hits / max(len(pairs), 1):.1f}%)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=REPO / "models" / "digitcam.tflite")
    parser.add_argument("--real", type=Path, default=REPO.parent / "shared" / "data" / "real")
    parser.add_argument("--mnist", type=Path, default=REPO.parent / "shared" / "data" / "mnist")
    parser.add_argument(
        "--letters", type=Path, default=REPO.parent / "shared/data/nondigit/letters.npz"
    )
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args(argv)
    model = load_model(args.model)
    print(f"model {args.model} labels {model.labels}")
    if args.real.exists():
        photos = real_set(args.real / "photos", model)
        print(f"real single digits: right {right(photos)}, no digit {none_rate(photos)}")
        print(f"real numbers: whole string right {right(real_set(args.real / 'numbers', model))}")
        print(f"real non-digits: no digit {none_rate(real_set(args.real / 'nondigits', model))}")
    letters = load_letters(args.letters) if args.letters.exists() else None
    if args.mnist.exists():
        mnist = load_local(args.mnist)
        for lengths in ((2, 6), (1, 1), (7, 8)):
            pairs = synthetic_numbers(mnist, model, args.count, lengths, args.seed)
            print(f"synthetic numbers of {lengths[0]}-{lengths[1]} digits: right {right(pairs)}")
    pages = synthetic_pages(letters, model, args.count // 5, args.seed)
    print("synthetic non-digit pages, no digit:", {k: f"{100 * v:.1f}%" for k, v in pages.items()})
    if letters is not None:
        rate = letters_as_28(letters[:2000], model)
        print(
            f"held-out letters as 28x28 (first 2000 of {len(letters)}): no digit {100 * rate:.1f}%"
        )


if __name__ == "__main__":
    main()
