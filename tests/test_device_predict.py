"""`digitcam predict` end to end: good, odd and broken files, formats, order, exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from device.cli import main
from device.output.formats import CSV_FIELDS, FIELDS
from device.synthetic.photos import font_digit, jpeg_bytes, photo_of_digit, photo_without_digit
from tests.conftest import REPO, SHIPPED_MODEL
from tests.test_device_decode import write_bomb_png

# name -> the digit in it (None: no digit), or the words its error must contain
GOOD = {
    "01-three.jpg": 3,
    "02-transparent.png": 7,
    "03-cmyk.jpg": 4,
    "04-palette.png": 2,
    "05-sixteen-bit.png": 5,
    "06-exif-rotated.jpg": 6,
    "07-no-extension": 9,
    "12-blank.jpg": None,
}
BROKEN = {
    "08-empty.png": "empty file",
    "09-truncated.jpg": "truncated",
    "11-bomb.png": "decompression bomb",
}
NOT_A_PICTURE = "10-notes.txt"


def make_folder(folder) -> None:
    rng = np.random.default_rng(11)

    def photo(digit: int) -> np.ndarray:
        return photo_of_digit(font_digit(digit, rng), rng)

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "01-three.jpg").write_bytes(jpeg_bytes(photo(3), 85))
    ink = np.asarray(Image.fromarray(font_digit(7, rng)).resize((200, 200), Image.BICUBIC))
    rgba = np.zeros((300, 400, 4), np.uint8)  # black ink on a transparent page
    rgba[50:250, 100:300, 3] = ink
    Image.fromarray(rgba, "RGBA").save(folder / "02-transparent.png")
    Image.fromarray(photo(4)).convert("CMYK").save(folder / "03-cmyk.jpg", quality=90)
    Image.fromarray(photo(2)).convert("P", palette=Image.ADAPTIVE).save(folder / "04-palette.png")
    grey16 = np.asarray(Image.fromarray(photo(5)).convert("L")).astype(np.uint16) * 257
    Image.fromarray(grey16).save(folder / "05-sixteen-bit.png")
    sideways = Image.fromarray(np.rot90(photo(6)).copy())  # stored turned a quarter left...
    exif = sideways.getexif()
    exif[0x0112] = 6  # ...with EXIF saying "turn it a quarter right to view"
    sideways.save(folder / "06-exif-rotated.jpg", exif=exif, quality=90)
    (folder / "07-no-extension").write_bytes(jpeg_bytes(photo(9), 85))
    (folder / "08-empty.png").write_bytes(b"")
    data = jpeg_bytes(photo(8), 85)
    (folder / "09-truncated.jpg").write_bytes(data[: len(data) // 3])
    (folder / NOT_A_PICTURE).write_text("not a picture\n")
    write_bomb_png(folder / "11-bomb.png")
    (folder / "12-blank.jpg").write_bytes(jpeg_bytes(photo_without_digit(rng, "ruled"), 85))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("photos")
    make_folder(path)
    return path


def predict(capsys, *args) -> tuple[int, str, str]:
    code = main(["predict", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def jsonl(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_a_folder_gives_one_json_line_per_picture_in_name_order(capsys, folder):
    code, out, err = predict(capsys, folder)
    records = jsonl(out)
    expected = sorted([*GOOD, *BROKEN])
    assert [r["path"] for r in records] == [str(folder / name) for name in expected]
    assert all(tuple(r) == FIELDS for r in records)
    for record in records:
        name = os.path.basename(record["path"])
        if name in BROKEN:
            assert BROKEN[name] in record["error"], record
            assert record["digit"] is None and record["confidence"] is None
            assert record["box"] is None
            continue
        assert record["error"] is None
        assert record["digit"] == GOOD[name], record
        if record["digit"] is not None:
            assert 0.5 <= record["confidence"] <= 1.0
            x, y, w, h = record["box"]
            width, height = Image.open(record["path"]).size
            if name == "06-exif-rotated.jpg":
                width, height = height, width  # the box is in upright pixels
            assert x >= 0 and y >= 0 and w > 0 and h > 0
            assert x + w <= width and y + h <= height
    assert code == 1  # some files could not be read
    assert "3 of 11 file(s) could not be read" in err and "Traceback" not in err


def test_files_named_directly_keep_their_order_and_a_non_picture_is_an_error(capsys, folder):
    names = ["05-sixteen-bit.png", NOT_A_PICTURE, "01-three.jpg"]
    code, out, _ = predict(capsys, *(folder / n for n in names))
    records = jsonl(out)
    assert [os.path.basename(r["path"]) for r in records] == names
    assert records[1]["error"] == "not an image Pillow can read"
    assert [r["digit"] for r in records] == [5, None, 3]
    assert code == 1


def test_exit_status_is_0_when_every_file_was_read_digit_or_not(capsys, folder):
    code, out, err = predict(capsys, folder / "01-three.jpg", folder / "12-blank.jpg")
    assert code == 0 and err == ""
    assert [r["digit"] for r in jsonl(out)] == [3, None]


def test_csv_and_table_carry_the_same_fields(capsys, folder):
    files = [folder / "01-three.jpg", folder / "08-empty.png", folder / "12-blank.jpg"]
    _, out_json, _ = predict(capsys, "--format", "jsonl", *files)
    _, out_csv, _ = predict(capsys, "--format", "csv", *files)
    _, out_table, _ = predict(capsys, "--format", "table", *files)
    rows = list(csv.DictReader(io.StringIO(out_csv)))
    assert tuple(rows[0]) == CSV_FIELDS
    for row, record in zip(rows, jsonl(out_json), strict=True):
        assert row["path"] == record["path"]
        assert row["digit"] == ("" if record["digit"] is None else str(record["digit"]))
        assert row["box"] == ("" if record["box"] is None else " ".join(map(str, record["box"])))
        assert row["error"] == (record["error"] or "")
        assert row["text"] == (record["text"] or "")
        assert row["rejected"] == str(record["rejected"]) and row["crowded"] == "0"
    lines = out_table.splitlines()
    assert lines[0].split() == ["text", "confidence", "box", "path"] and len(lines) == 4
    assert lines[1].split()[0] == "3" and lines[2].startswith("error")
    assert lines[3].startswith("no digit") and "empty file" in lines[2]


def test_worker_processes_do_not_change_the_output(capsys, folder):
    _, alone, _ = predict(capsys, "--workers", "1", folder)
    code, together, _ = predict(capsys, "--workers", "2", folder)
    assert together == alone and code == 1


def test_save_crops_writes_what_the_model_saw(capsys, folder, tmp_path):
    crops = tmp_path / "crops" / "deep"
    predict(capsys, "--save-crops", crops, folder / "01-three.jpg", folder / "12-blank.jpg")
    (saved,) = sorted(crops.iterdir())
    assert saved.name == "000000-01-three.png"
    assert Image.open(saved).size == (28, 28) and Image.open(saved).mode == "L"


def test_subfolders_only_with_recursive(capsys, folder, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(folder, root / "inner")
    shutil.copy(folder / "01-three.jpg", root / "top.jpg")
    code, out, err = predict(capsys, root)
    assert [r["digit"] for r in jsonl(out)] == [3] and code == 0
    assert "--recursive" in err
    _, out, _ = predict(capsys, "--recursive", root)
    names = [os.path.relpath(r["path"], root) for r in jsonl(out)]
    assert names == [os.path.join("inner", n) for n in sorted([*GOOD, *BROKEN])] + ["top.jpg"]


def one_line_error(err: str, *words: str) -> None:
    """The error is one line, last (argparse puts its usage summary above it), no traceback."""
    last = err.strip().splitlines()[-1]
    assert re.match(r"digitcam( predict)?: error: ", last) and "Traceback" not in err
    for word in words:
        assert word in last


def test_usage_errors_exit_2_with_a_one_line_message(capsys, folder, tmp_path, monkeypatch):
    code, out, err = predict(capsys, folder / "01-three.jpg", tmp_path / "nowhere.jpg")
    assert code == 2 and out == ""
    one_line_error(err, "no such file or directory", "nowhere.jpg")
    for bad in (["--min-confidence", "1.5"], ["--workers", "0"], ["--format", "xml"], ["--nope"]):
        with pytest.raises(SystemExit) as exited:
            main(["predict", *bad, str(folder)])
        assert exited.value.code == 2
        one_line_error(capsys.readouterr().err)
    code, _, err = predict(capsys, "--model", tmp_path / "none.tflite", folder)
    assert code == 2
    one_line_error(err, "none.json", "not found")
    monkeypatch.setenv("DIGITCAM_MODEL", str(tmp_path / "elsewhere.tflite"))
    code, _, err = predict(capsys, folder)
    assert code == 2 and "elsewhere.json" in err


def test_a_damaged_model_is_a_usage_error(capsys, folder, tmp_path):
    model = tmp_path / "digitcam.tflite"
    shutil.copy(SHIPPED_MODEL, model)
    shutil.copy(SHIPPED_MODEL.with_suffix(".json"), model.with_suffix(".json"))
    model.write_bytes(model.read_bytes()[:1000])  # no longer matches its metadata
    code, out, err = predict(capsys, "--model", model, folder)
    assert code == 2 and out == ""
    one_line_error(err, "does not match its metadata")


def test_python_m_device_runs_the_same_command(folder):
    done = subprocess.run(
        [sys.executable, "-m", "device", "predict", str(folder / "01-three.jpg")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (record,) = jsonl(done.stdout)
    assert record["digit"] == 3 and done.stderr == ""
