"""`make eval`: every set the figures come from, each through `digitcam eval`, one table.

python -m device.eval.suite --out build/eval [--photos N --small N --no-digit N --mnist N]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from device.eval.report import percent
from device.files.mnist import DataError, load_local
from device.synthetic.sets import SMALL_DIGITS, SetSpec, build_set, default_workers

REPO = Path(__file__).resolve().parents[2]
REAL_SETS = ("photos", "numbers", "nondigits")
HEADER = ("set", "right", "'no digit' on digits", "wrong digit", "command")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make eval", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/eval"))
    parser.add_argument("--mnist-dir", type=Path, default=os.environ.get("MNIST_DIR") or None)
    parser.add_argument("--real", type=Path, default=REPO.parent / "shared" / "data" / "real")
    parser.add_argument("--mnist", type=int, default=10_000, help="MNIST test images as files")
    parser.add_argument("--photos", type=int, default=1000, help="synthetic photos of digits")
    parser.add_argument("--small", type=int, default=500, help="synthetic photos, small digits")
    parser.add_argument("--no-digit", type=int, default=100, help="pages per kind without one")
    parser.add_argument("--workers", type=int, default=default_workers())
    return parser.parse_args(argv)


def plan(args: argparse.Namespace, have_mnist: bool) -> list[tuple[str, SetSpec | Path, list]]:
    """(title, set, [eval options per run]) for every set that can be made here."""
    runs = []
    if have_mnist and args.mnist:
        spec = SetSpec("mnist-test", "digit-files", min(args.mnist, 10_000), 0)
        runs.append(
            (
                f"{spec.count:,} MNIST test images as 28x28 PNG files",
                spec,
                [[], ["--min-confidence", "0"]],
            )
        )
    if have_mnist and args.photos:
        spec = SetSpec("photos", "photos", args.photos, 1)
        thresholds = [[], ["--min-confidence", "0"], ["--min-confidence", "0.9"]]
        runs.append(
            (f"{spec.count:,} synthetic 640x480 photos of MNIST test digits", spec, thresholds)
        )
    if have_mnist and args.small:
        spec = SetSpec("photos-small", "photos", args.small, 2, SMALL_DIGITS)
        runs.append(
            (f"{spec.count:,} synthetic photos, small digits (6-10% of the height)", spec, [[]])
        )
    if args.no_digit:
        spec = SetSpec("no-digit", "no-digit", args.no_digit, 3)
        runs.append(
            (f"{5 * spec.count:,} synthetic pages without a digit, 5 kinds", spec, [["-r"]])
        )
    for name in REAL_SETS:
        folder = args.real / name
        if (folder / "labels.csv").exists():
            runs.append((f"real photos: {name}/", folder, [[]]))
        else:
            print(f"make eval: {folder}: no labels.csv, left out", file=sys.stderr)
    return runs


def run_eval(folder: Path, out: Path, options: list[str]) -> tuple[str, dict]:
    """Runs `digitcam eval` as its own process, as a user would; returns its summary."""
    shown = ["digitcam", "eval", str(folder), *options]
    command = [sys.executable, "-m", "device", *shown[1:], "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=Path.cwd())
    if done.returncode not in (0, 1):
        reason = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise RuntimeError(f"{shlex.join(shown)} failed: {reason}")
    return shlex.join(shown), json.loads((out / "summary.json").read_text())


def table_rows(title: str, command: str, summary: dict) -> list[tuple[str, ...]]:
    """One row per run: right answers (whole numbers for number labels; "no digit" for pages
    without one), then how the pictures with digits went wrong; a row per subfolder."""
    f = summary["figures"]
    wrong = f["wrong_digit_rate_on_digits"]
    if f["digits"] + f["numbers"] == 0:  # pages without a digit: a digit answered is wrong
        wrong = f["false_digit_rate_on_none"]
    rows = [(title, percent(f["accuracy"]), percent(f["no_digit_rate_on_digits"]), percent(wrong))]
    for folder, group in f["per_folder"].items():
        rows.append((f"{title}: {folder}/", percent(group["accuracy"]), "", ""))
    return [(*row, f"`{command}`") for row in rows]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    mnist = None
    try:
        mnist = load_local(args.mnist_dir) if args.mnist_dir else None
    except DataError as exc:
        print(f"make eval: {exc}", file=sys.stderr)
        return 2
    digits = None if mnist is None else (mnist.x_test, mnist.y_test)
    if mnist is None:
        print(
            "make eval: no MNIST (set MNIST_DIR): the MNIST-based sets are left out",
            file=sys.stderr,
        )
    rows = []
    for title, target, variants in plan(args, mnist is not None):
        if isinstance(target, SetSpec):
            print(f"make eval: set {target.name} ...", file=sys.stderr)
            folder = build_set(target, args.out / "sets", digits, args.workers)
            name = target.name
        else:
            folder, name = Path(os.path.relpath(target)), f"real-{target.name}"
        for options in variants:
            suffix = "-".join(o.lstrip("-") for o in options if o != "-r")
            out = args.out / "reports" / (f"{name}-{suffix}" if suffix else name)
            try:
                command, summary = run_eval(folder, out, options)
            except RuntimeError as exc:
                print(f"make eval: {exc}", file=sys.stderr)
                return 1
            rows += table_rows(title, command, summary)
    lines = ["| " + " | ".join(HEADER) + " |", "|---" * len(HEADER) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    table = "\n".join(lines) + "\n"
    (args.out / "summary.md").write_text(table)
    records = [dict(zip(HEADER, row, strict=True)) for row in rows]
    (args.out / "summary.json").write_text(json.dumps(records, indent=1) + "\n")
    sys.stdout.write(table)
    print(
        f"make eval: {time.perf_counter() - started:.0f} s; reports in {args.out / 'reports'}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
