"""`digitcam eval`'s work: read the labelled pictures as predict does, score, write the report."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path

from device.eval.draw import confusion_png, model_input_png, thumbnail
from device.eval.labels import Labels
from device.eval.report import report_html
from device.eval.score import Scored, answer_of, confusion, summarise
from device.files.batch import read_files
from device.model.interpreter import DigitModel
from device.output.atomic import write_whole
from device.output.formats import FileReading


def score_readings(
    labels: Labels, folder: Path, results: Iterable[FileReading]
) -> tuple[list[Scored], dict[str, FileReading]]:
    """Scored rows in the labels' order, and the readings of the misread files by name."""
    scored, misread = [], {}
    for (path, label), result in zip(labels.pictures.items(), results, strict=True):
        reading = result.reading
        box = reading.outline if reading else None
        sure = reading.weakest if reading else None
        row = Scored(
            file=os.path.relpath(path, folder),  # as labels.csv names it
            label=label,
            answer=answer_of(reading),
            confidence=None if sure is None else round(sure, 4),
            box=None if box is None else list(box),
            error=result.error,
        )
        scored.append(row)
        if not row.right:
            misread[row.file] = result
    return scored, misread


def evaluate(
    folder: Path,
    labels: Labels,
    model_path: Path,
    min_confidence: float,
    workers: int,
    threads: int,
    progress: Callable[[Iterable, int], Iterable] = lambda items, total: items,
    model: DigitModel | None = None,
) -> tuple[list[Scored], dict[str, FileReading]]:
    """Reads every labelled picture (the same reading as predict) and scores it; `model`, if
    loaded already, serves a single worker."""
    paths = list(labels.pictures)
    results = read_files(
        paths, model_path, min_confidence, workers=workers, threads=threads, model=model
    )
    return score_readings(labels, folder, progress(results, len(paths)))


def write_outputs(
    out: Path,
    meta: dict,
    labels: Labels,
    scored: list[Scored],
    misread: dict[str, FileReading],
    folder: Path,
    max_shown: int,
) -> dict:
    """Writes OUT/summary.json, confusion.png and report.html; returns the summary."""
    summary = summarise(scored)
    rows, columns, counts = confusion(scored)
    matrix = confusion_png(rows, columns, counts) if rows else None
    cases = []
    for row in scored:
        if row.right:
            continue
        shown = len(cases) < max_shown
        result = misread[row.file]
        reading = result.reading
        cases.append(
            asdict(row)
            | {
                "thumbnail": thumbnail(folder / row.file, row.box) if shown else None,
                "model_input": model_input_png(reading.model_inputs) if shown and reading else None,
            }
        )
    meta = meta | {"misreads_shown": min(max_shown, len(cases))}
    document = {
        **meta,
        "figures": summary,
        "label_notes": {"counts": labels.counts, "lines": labels.notes},
        "confusion": {"rows": rows, "columns": columns, "counts": counts},
        "files": [asdict(row) | {"right": row.right} for row in scored],
    }
    out.mkdir(parents=True, exist_ok=True)
    write_whole(out / "summary.json", (json.dumps(document, indent=1) + "\n").encode())
    if matrix:
        write_whole(out / "confusion.png", matrix)
    html = report_html(meta, summary, matrix, cases, labels.notes)
    write_whole(out / "report.html", html.encode())
    return summary
