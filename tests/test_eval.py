"""`digitcam eval`: labels and their notes, the figures, the report, the same reading as predict."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from device.cli import main
from device.eval.labels import LabelsError, parse_label, read_labels
from device.eval.score import SEVERAL, Scored, answer_of, confusion, summarise
from device.synthetic.photos import (
    font_digit,
    jpeg_bytes,
    photo_and_box,
    photo_of_digit,
    photo_without_digit,
)
from device.synthetic.sets import SMALL_DIGITS, SetSpec, build_set
from device.vision.read import Reading


def test_labels_are_digits_digit_strings_or_none():
    assert parse_label("7") == "7"
    assert parse_label(" 0792 ") == "0792"
    assert parse_label("NONE") == "none"
    assert parse_label("12   34") == "12 34"  # a number on two lines
    for bad in ("", "seven", "7.0", "-1", "7a", "٣"):
        assert parse_label(bad) is None, bad


def test_bad_rows_are_noted_and_skipped(tmp_path):
    for name in ("a.jpg", "b.jpg", "c.jpg", "d.jpg"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "labels.csv").write_text(
        "\ufefffile, label\n"  # a BOM and spaces, as spreadsheets write it
        "a.jpg,7\nb.jpg,seven\na.jpg,1\ngone.jpg,3\nc.jpg,none\n\n"
        "sub/../a.jpg,2\n../outside.jpg,4\n/etc/hostname,5\nfifo.jpg,6\n"
    )
    (tmp_path.parent / "outside.jpg").write_bytes(b"x")
    os.mkfifo(tmp_path / "fifo.jpg")
    labels = read_labels(tmp_path / "labels.csv", tmp_path)
    assert labels.pictures == {tmp_path / "a.jpg": "7", tmp_path / "c.jpg": "none"}
    assert labels.counts == {
        "missing file": 2,  # gone.jpg, and the FIFO, which is no picture file
        "unknown label": 1,
        "duplicate row": 2,  # a.jpg again, also as sub/../a.jpg
        "outside the folder": 2,
        "no label": 0,
    }
    assert [n.split(":")[0] for n in labels.notes] == [
        f"labels.csv line {n}" for n in (3, 4, 5, 8, 9, 10, 11)
    ]


def test_a_labels_file_that_is_no_regular_file_is_one_error(tmp_path):
    """A FIFO (or a link to /dev/zero) would block or never end: refused at once."""
    os.mkfifo(tmp_path / "labels.csv")
    with pytest.raises(LabelsError, match="not a regular file"):
        read_labels(tmp_path / "labels.csv", tmp_path)


def test_a_labels_file_without_its_header_is_refused(tmp_path):
    (tmp_path / "labels.csv").write_text("a.jpg,7\n")
    with pytest.raises(LabelsError, match="file,label"):
        read_labels(tmp_path / "labels.csv", tmp_path)
    with pytest.raises(LabelsError, match="no labels file"):
        read_labels(tmp_path / "none.csv", tmp_path)


def row(label: str, answer: str | None, file: str = "x.jpg", error: str | None = None) -> Scored:
    return Scored(file, label, answer, None if answer is None else 0.9, None, error)


def test_the_figures_count_each_way_of_being_wrong():
    scored = [
        row("7", "7"), row("7", "1"), row("3", None), row("3", "3"),  # digits: 2 of 4 right
        row("2025", "2025"), row("2025", "2"),  # numbers: 1 of 2 whole
        row("none", None), row("none", "4"), row("none", None, error="empty file"),
    ]  # fmt: skip
    figures = summarise(scored)
    assert figures["pictures"] == 9 and figures["unreadable"] == 1
    assert figures["accuracy"] == pytest.approx(4 / 9)  # an unreadable picture counts wrong
    assert figures["digit_accuracy"] == 0.5 and figures["number_accuracy"] == 0.5
    assert figures["no_digit_accuracy"] == pytest.approx(1 / 3)
    assert figures["no_digit_rate_on_digits"] == pytest.approx(1 / 6)
    assert figures["wrong_digit_rate_on_digits"] == pytest.approx(2 / 6)
    assert figures["false_digit_rate_on_none"] == pytest.approx(1 / 3)
    assert figures["per_class"]["7"] == {"pictures": 2, "accuracy": 0.5}
    assert "2025" not in figures["per_class"]


def test_the_confusion_matrix_has_a_row_per_label_and_a_column_per_answer():
    scored = [row("7", "7"), row("7", "1"), row("7", "71"), row("none", None), row("1", None)]
    scored.append(row("2025", "2025"))  # numbers are scored whole, not in the matrix
    rows, columns, counts = confusion(scored)
    assert rows == ["1", "7", "none"] and columns[-1] == SEVERAL
    table = dict(zip(rows, counts, strict=True))
    assert table["7"][columns.index("7")] == 1 and table["7"][columns.index("1")] == 1
    assert table["7"][columns.index(SEVERAL)] == 1 and table["1"][columns.index("none")] == 1
    assert sum(map(sum, counts)) == 5


def test_per_subfolder_figures():
    scored = [row("none", None, "blank/1.jpg"), row("none", "1", "line/1.jpg"), row("4", "4")]
    assert summarise(scored)["per_folder"] == {
        "blank": {"pictures": 1, "accuracy": 1.0},
        "line": {"pictures": 1, "accuracy": 0.0},
    }


def test_the_scored_answer_is_the_readings_digit_as_text():
    assert answer_of(Reading(7, 0.99, (0, 0, 1, 1), None, "read")) == "7"
    assert answer_of(Reading(None, 0.3, (0, 0, 1, 1), None, "low confidence")) is None
    assert answer_of(None) is None


def make_labelled_folder(folder):
    """Five photos of font digits, two pages without one, an unreadable file, an unlabelled
    picture and label rows of every bad kind."""
    rng = np.random.default_rng(5)
    folder.mkdir()
    rows = ["file,label"]
    for i, digit in enumerate((0, 3, 4, 7, 8)):
        (folder / f"d{i}.jpg").write_bytes(
            jpeg_bytes(photo_of_digit(font_digit(digit, rng), rng), 85)
        )
        rows.append(f"d{i}.jpg,{digit}")
    rows.append("d4.jpg,1")  # a deliberate wrong label: one misread at least
    for kind in ("blank", "ruled"):
        (folder / f"{kind}.jpg").write_bytes(jpeg_bytes(photo_without_digit(rng, kind), 85))
        rows.append(f"{kind}.jpg,none")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff not really")
    rows += ["broken.jpg,5", "gone.jpg,2", "d1.jpg,3", "blank.jpg,maybe"]
    (folder / "unlabelled.jpg").write_bytes(jpeg_bytes(photo_without_digit(rng, "blank"), 85))
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    make_labelled_folder(root / "pics")
    return root


def test_eval_writes_the_figures_the_matrix_and_a_self_contained_report(evaluated, capsys):
    out = evaluated / "out"
    assert main(["eval", str(evaluated / "pics"), "--out", str(out)]) == 1  # notes: exit 1
    captured = capsys.readouterr()
    summary = json.loads((out / "summary.json").read_text())
    files = summary["files"]
    assert [f["file"] for f in files] == [
        "d0.jpg", "d1.jpg", "d2.jpg", "d3.jpg", "d4.jpg", "blank.jpg", "ruled.jpg", "broken.jpg",
    ]  # fmt: skip
    figures = summary["figures"]
    assert figures["accuracy"] == pytest.approx(np.mean([f["right"] for f in files]))
    assert figures["unreadable"] == 1 and files[-1]["error"]
    assert summary["label_notes"]["counts"] == {
        "missing file": 1, "unknown label": 1, "duplicate row": 2, "outside the folder": 0,
        "no label": 1,
    }  # fmt: skip
    assert len(captured.err.splitlines()) == 5  # one line per note
    assert "right answers, all labelled pictures" in captured.out
    with Image.open(out / "confusion.png") as matrix:
        assert matrix.format == "PNG"
    page = (out / "report.html").read_text()
    assert re.findall(r'src="([^"]{0,5})', page) == ["data:"] * len(re.findall(r"src=", page))
    misread = [f for f in files if not f["right"]]
    assert page.count('class="card"') == len(misread) >= 1
    assert page.count('alt="28x28 model input"') >= len([f for f in misread if f["box"]])


def test_eval_reads_each_picture_as_predict_does(evaluated, capsys):
    out = evaluated / "out-same"
    main(["eval", str(evaluated / "pics"), "--out", str(out)])
    capsys.readouterr()
    summary = json.loads((out / "summary.json").read_text())
    paths = [str(evaluated / "pics" / f["file"]) for f in summary["files"]]
    assert main(["predict", *paths, "--format", "jsonl"]) == 1  # broken.jpg
    predicted = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for mine, theirs in zip(summary["files"], predicted, strict=True):
        digit = theirs["digit"]
        assert mine["answer"] == (None if digit is None else str(digit))
        assert (mine["confidence"], mine["box"]) == (theirs["confidence"], theirs["box"])


def test_eval_usage_errors_are_one_line(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "nowhere")]) == 2
    (tmp_path / "pics").mkdir()
    assert main(["eval", str(tmp_path / "pics"), "--out", str(tmp_path / "o")]) == 2
    (tmp_path / "pics" / "labels.csv").write_text("file,label\n")
    assert main(["eval", str(tmp_path / "pics"), "--out", str(tmp_path / "o")]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and all(line.startswith("digitcam eval: error: ") for line in lines)
    assert "not a folder" in lines[0] and "no labels file" in lines[1]
    assert "no labelled picture" in lines[2]


def test_small_digits_are_drawn_at_the_height_asked_for():
    rng = np.random.default_rng(0)
    for _ in range(5):
        _, (_, _, _, h) = photo_and_box(font_digit(1, rng), rng, height=SMALL_DIGITS)
        assert 0.06 * 480 - 1 <= h <= 0.10 * 480 + 1


def test_a_larger_set_starts_with_the_files_of_a_smaller_one(tmp_path):
    digits = np.stack([font_digit(d, np.random.default_rng(d)) for d in range(10)])
    mnist = (digits, np.arange(10, dtype=np.uint8))
    small = build_set(SetSpec("s", "photos", 2, 7), tmp_path / "a", mnist, workers=1)
    large = build_set(SetSpec("s", "photos", 3, 7), tmp_path / "b", mnist, workers=1)
    assert (small / "00001.jpg").read_bytes() == (large / "00001.jpg").read_bytes()
    assert (large / "labels.csv").read_text().startswith((small / "labels.csv").read_text())
    blank = build_set(SetSpec("n", "no-digit", 1, 7), tmp_path, None, workers=1)
    assert len(list(blank.glob("*/*.jpg"))) == 5
    assert (blank / "labels.csv").read_text().count(",none") == 5
    with Image.open(io.BytesIO((large / "00002.jpg").read_bytes())) as photo:
        assert photo.size == (640, 480)


def test_make_eval_prints_each_figure_with_its_command(mnist_dir, tmp_path, capsys):
    from device.eval.suite import HEADER
    from device.eval.suite import main as suite

    sizes = ["--mnist", "30", "--photos", "4", "--small", "0", "--no-digit", "1"]
    args = ["--out", str(tmp_path), "--mnist-dir", str(mnist_dir), "--real", str(tmp_path / "x")]
    assert suite([*args, *sizes]) == 0
    table = capsys.readouterr().out
    records = json.loads((tmp_path / "summary.json").read_text())
    assert table == (tmp_path / "summary.md").read_text()
    assert all(set(r) == set(HEADER) for r in records)
    commands = {r["command"] for r in records}
    assert f"`digitcam eval {tmp_path}/sets/photos --min-confidence 0.9`" in commands
    row = next(r for r in records if r["command"] == f"`digitcam eval {tmp_path}/sets/photos`")
    report = json.loads((tmp_path / "reports" / "photos" / "summary.json").read_text())
    assert row["right"] == f"{100 * report['figures']['accuracy']:.2f}%"
    no_digit = [r for r in records if r["set"].startswith("5 synthetic pages")]
    assert len(no_digit) == 6  # the whole set and each of the five kinds


def test_a_full_disk_leaves_no_half_written_report(evaluated, capsys, monkeypatch):
    out = evaluated / "full"
    real_write = Path.write_bytes

    def full_disk(path, data):
        if "report.html" in path.name:
            real_write(path, data[:100])  # what fitted
            raise OSError(28, "No space left on device")
        return real_write(path, data)

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    assert main(["eval", str(evaluated / "pics"), "--out", str(out)]) == 74
    err = capsys.readouterr().err.splitlines()
    assert err[-1].endswith("report.html: cannot write (No space left on device)")
    assert sorted(p.name for p in out.iterdir()) == ["confusion.png", "summary.json"]
