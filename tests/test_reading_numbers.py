"""Whole numbers and "no digit" with the shipped model: synthetic numbers, the real photos in
../shared/data/real, and the output of a number in every format and in watch."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from device.bench.reading import real_set, synthetic_numbers, synthetic_pages
from device.files.letters import heldout_rows, load_letters
from device.live.loop import watch
from device.model.interpreter import load_model
from device.output.formats import Answer, FileReading, caption, format_jsonl, make_sink
from device.output.snapshots import snapshot_name
from device.synthetic import numbers
from device.synthetic.numbers import photo_of_number
from device.synthetic.photos import font_digit
from device.vision.read import DigitRead, Reading, read_digit
from tests.conftest import SHIPPED_MODEL


@pytest.fixture(scope="module")
def model():
    return load_model(SHIPPED_MODEL)


def rate(pairs) -> float:
    return float(np.mean([label == text for label, text in pairs]))


def has_none(model) -> bool:
    return "none" in model.labels


def test_synthetic_numbers_of_2_to_6_mnist_digits_are_read_whole(mnist, model):
    pairs = synthetic_numbers(mnist, model, 150, (2, 6), seed=31)
    # 81% measured with the 10-class model at stop 22 (65% before the generator wrote a
    # number with one pen, 63% before seams; halves of digits and touching pairs look like
    # digits to it); raise the bar to the 90% target once a model with "none" is in models/
    assert rate(pairs) >= 0.75, pairs[:10]
    lengths = np.mean([len(text or "") == len(label) for label, text in pairs])
    assert lengths >= 0.85  # the right number of digits (91% measured), even if one is misread


def test_a_number_of_font_digits_reads_as_the_number(model):
    rng = np.random.default_rng(8)
    right = 0
    for _ in range(20):
        digits = rng.integers(0, 10, int(rng.integers(2, 5)))
        grey = np.asarray(
            photo_of_number([font_digit(int(d), rng) for d in digits], rng).mean(axis=2),
            np.uint8,
        )
        right += read_digit(grey, model, 0.5).text == "".join(map(str, digits))
    assert right >= 13  # 15 of 20 measured with the 10-class model (12 before one pen a number)


def test_a_synthetic_number_is_written_with_one_pen(monkeypatch):
    """A person writes a number with one pen: a fine-pen 1 beside marker digits (each digit's
    pen drawn anew) made the generator's numbers harder than anyone's."""
    pens = []

    def recorded(digit, rng, side, blur, pen=None):
        pens.append(pen)
        return pen_strokes(digit, rng, side, blur, pen)

    pen_strokes = numbers._pen_strokes
    monkeypatch.setattr(numbers, "_pen_strokes", recorded)
    rng = np.random.default_rng(0)
    for count in (2, 5, 8):
        pens.clear()
        photo_of_number([font_digit(d % 10, rng) for d in range(count)], rng)
        assert len(pens) == count and pens[0] is not None
        assert all(pen is pens[0] for pen in pens)


def test_synthetic_pages_without_digits(model, letters_file):
    rates = synthetic_pages(load_letters(letters_file), model, 30, seed=4)
    if not has_none(model):
        pytest.skip(f"needs the model with a 'none' class (10-class now: {rates})")
    assert np.mean(list(rates.values())) >= 0.9, rates


def test_the_letters_held_out_are_the_ones_training_never_sees(letters_file):
    from device.files.letters import split_rows

    train, validation, held_rows = split_rows(34853)
    assert heldout_rows(34853).tolist() == held_rows.tolist()
    assert len(held_rows) == 5228 and not set(held_rows) & (set(train) | set(validation))
    held = load_letters(letters_file)
    rest = load_letters(letters_file, heldout=False)
    assert len(held) == 5228 and len(held) + len(rest) == 34853 and held.shape[1:] == (28, 28)


def test_real_single_digit_photos(real_dir, model):
    pairs = real_set(real_dir / "photos", model)
    assert rate(pairs) >= 0.9, [p for p in pairs if p[0] != p[1]]
    assert np.mean([text is None for _, text in pairs]) <= 0.05


def test_real_number_photos(real_dir, model):
    pairs = real_set(real_dir / "numbers", model)
    assert sum(label == text for label, text in pairs) >= 6, pairs


def test_real_letters_and_words(real_dir, model):
    pairs = real_set(real_dir / "nondigits", model)
    no_digit = np.mean([text is None for _, text in pairs])
    if not has_none(model):
        pytest.skip(f"needs the model with a 'none' class ({no_digit:.0%} with 10 classes)")
    assert no_digit >= 0.9


TWO_LINES = Reading(
    None, None, None, None, "read",
    (DigitRead(2, 0.99, (10, 10, 20, 30), 0), DigitRead(5, 0.9, (34, 12, 18, 30), 0),
     DigitRead(7, 0.97, (12, 60, 20, 30), 1)),
    rejected=1, crowded=True,
)  # fmt: skip


def test_a_number_in_every_predict_format():
    result = FileReading("page.jpg", TWO_LINES, None)
    out = {}
    for fmt in ("jsonl", "csv", "table"):
        stream = io.StringIO()
        make_sink(fmt, stream).write(result)
        out[fmt] = stream.getvalue()
    record = json.loads(out["jsonl"])
    assert record["text"] == "25 7" and record["digit"] is None and record["box"] is None
    assert [d["digit"] for d in record["digits"]] == [2, 5, 7]
    assert record["digits"][2] == {"digit": 7, "confidence": 0.97, "box": [12, 60, 20, 30],
                                   "line": 1}  # fmt: skip
    assert record["rejected"] == 1 and record["crowded"] is True
    (row,) = csv.DictReader(io.StringIO(out["csv"]))
    assert (row["text"], row["digit"], row["rejected"], row["crowded"]) == ("25 7", "", "1", "1")
    line = out["table"].splitlines()[1]
    assert line.startswith("25 7+") and "0.900" in line and "10 10 42 80" in line


def test_one_digit_keeps_the_old_fields_and_watch_shows_the_text():
    one = Reading(4, 0.98, (1, 2, 3, 4), None, "read")
    assert one.text == "4" and one.fields()["digits"][0]["box"] == [1, 2, 3, 4]
    answer = json.loads(format_jsonl(Answer(1.0, 1, TWO_LINES, 30.0)))
    assert answer["text"] == "25 7" and len(answer["digits"]) == 3 and answer["fps"] == 30.0
    assert caption(TWO_LINES) == "25 7 (0.90, crowded)"
    assert snapshot_name(0.0, 3, TWO_LINES).endswith("-000003-number25-7.jpg")
    assert snapshot_name(0.0, 3, one).endswith("-digit4.jpg")


def test_watch_is_stable_on_the_text(monkeypatch):
    texts = ["12", "12", "13", "12", "12", "12", None, None, None]
    readings = iter(
        Reading(None, None, None, None, "read", tuple(
            DigitRead(int(c), 0.9, (0, 0, 1, 1), 0) for c in t)) if t
        else Reading(None, None, None, None, "no plausible digit")
        for t in texts
    )  # fmt: skip
    monkeypatch.setattr("device.live.loop.read_digit", lambda *args: next(readings))
    answers = []
    watch([np.zeros((4, 4), np.uint8)] * len(texts), None, lambda a, g: answers.append(a), 3)
    assert [(a.frame, a.reading.text) for a in answers] == [(6, "12"), (9, None)]
