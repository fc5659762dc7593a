"""make pi-check's Python side: inputs, the fake camera's frames, pip settings, comparisons.

Runs on the workstation only and imports nothing from device/: digitcam is driven through its
command line, on x86 and on the arm64 root alike.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

REAL_FOLDERS = ("photos", "numbers", "nondigits")
FRAME_SIZE = (640, 480)  # the lores stream watch asks picamera2 for
# pip settings that name places on this machine; carried into the root at the same path
PIP_CONFIG_FILES = ("/etc/pip.conf", "/etc/xdg/pip/pip.conf")
USER_PIP_CONFIG_FILES = (".config/pip/pip.conf", ".pip/pip.conf")
CARRIED_ENV = (
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
)


def read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as stream:
        data = stream.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def make_inputs(args) -> None:
    """real/<folder>/ copies of the real photos and mnist/ PNGs of the first MNIST test images."""
    out = args.out
    for folder in REAL_FOLDERS:
        source = args.real / folder
        if not source.is_dir():
            sys.exit(f"pi-check: {source} missing (the real photos beside the checkout)")
        shutil.copytree(source, out / "real" / folder, dirs_exist_ok=True)
    images = read_idx(args.mnist / "t10k-images-idx3-ubyte.gz")[: args.count]
    labels = read_idx(args.mnist / "t10k-labels-idx1-ubyte.gz")[: args.count]
    (out / "mnist").mkdir(parents=True, exist_ok=True)
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        Image.fromarray(image).save(out / "mnist" / f"{index:05d}-{label}.png")
    frames = out / "frames"
    frames.mkdir(exist_ok=True)
    photos = sorted(p for p in (args.real / "photos").iterdir() if p.suffix.lower() == ".jpg")
    for index, photo in enumerate(photos[: args.frames]):
        with Image.open(photo) as picture:
            grey = ImageOps.exif_transpose(picture).convert("L")
        framed = ImageOps.pad(grey, FRAME_SIZE, color=int(np.median(np.asarray(grey))))
        framed.save(frames / f"{index:03d}.png")


def pip_settings(args) -> None:
    """Prints what carries this machine's pip settings into the root, one item a line:
    `file SRC DEST` (copy), `dir PATH` (bind read-only at the same path), `env NAME=VALUE`."""
    home = Path.home()
    files = [(Path(p), Path(p)) for p in PIP_CONFIG_FILES]
    files += [(home / p, Path("/home/pi") / p) for p in USER_PIP_CONFIG_FILES]
    if os.environ.get("PIP_CONFIG_FILE"):
        files.append((Path(os.environ["PIP_CONFIG_FILE"]),) * 2)
    env = {k: v for k, v in os.environ.items() if k.startswith("PIP_") or k in CARRIED_ENV}
    values = list(env.values())
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True
    )
    for line in listed.stdout.splitlines():
        _, _, value = line.partition("=")
        values.append(value.strip().strip("'\""))
    for source, dest in files:
        if source.is_file():
            print(f"file {source} {dest}")
    seen = set()
    for value in values:
        for token in value.split():
            path = token.removeprefix("file://").rstrip("/")
            if path.endswith("/simple"):
                path = path.removesuffix("/simple")  # a local index's pages link to ../../files/
            if not path.startswith("/") or path in seen:
                continue
            seen.add(path)
            if os.path.isfile(path):
                print(f"file {path} {path}")  # a CA bundle, a constraints file
            elif os.path.isdir(path):
                print(f"dir {path}")  # a local index or find-links folder
    for name, value in sorted(env.items()):
        print(f"env {name}={value}")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def answers(row: dict) -> dict:
    """The row with `read`: the digits read, in order (each digit of a number)."""
    return row | {"read": [d.get("digit") for d in row.get("digits") or []]}


def placed(row: dict) -> list:
    """Confidences and boxes: of the single digit, and of each digit of a number."""
    each = [(d.get("confidence"), d.get("box")) for d in row.get("digits") or []]
    return [(row.get("confidence"), row.get("box")), *each]


def compare(args) -> None:
    """Row by row: the arm64 answers against the x86 ones for the same input."""
    x86, arm = read_jsonl(args.x86), read_jsonl(args.arm)
    # text is the whole number read (digit the single digit, when exactly one)
    keys = ("text", "digit", "read", "rejected", "crowded")
    keys = ("path", *keys, "error") if args.kind == "predict" else keys
    mismatches = []
    for index in range(max(len(x86), len(arm))):
        a = answers(x86[index]) if index < len(x86) else None
        b = answers(arm[index]) if index < len(arm) else None
        if a is None or b is None or any(a.get(k) != b.get(k) for k in keys):
            mismatches.append((index, a, b))
    other = sum(1 for a, b in zip(x86, arm, strict=False) if placed(a) != placed(b))
    read = sum(1 for row in x86 if row.get("text") is not None)
    print(
        f"  {args.label}: {len(x86)} x86 rows, {len(arm)} arm64 rows ({read} with digits read); "
        f"{len(mismatches)} mismatch(es) in {'/'.join(keys)}; "
        f"{other} row(s) with a different confidence or box"
    )
    for index, a, b in mismatches[:10]:
        print(f"    row {index}: x86   {json.dumps(a)}\n    row {index}: arm64 {json.dumps(b)}")
    if mismatches or not x86:
        sys.exit(1)


def ssh_env(args) -> None:
    """The SetEnv line for the root's sshd_config (sshd reads only the first SetEnv line):
    the carried pip variables in every session."""
    pairs = []
    for line in args.settings.read_text().splitlines():
        kind, _, pair = line.partition(" ")
        if kind == "env":
            pairs.append(f'"{pair}"' if " " in pair else pair)
    if pairs:
        print("SetEnv", *pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(required=True)
    inputs = commands.add_parser("inputs")
    inputs.add_argument("--real", type=Path, required=True)
    inputs.add_argument("--mnist", type=Path, required=True)
    inputs.add_argument("--count", type=int, default=300)
    inputs.add_argument("--frames", type=int, default=12)
    inputs.add_argument("out", type=Path)
    inputs.set_defaults(run=make_inputs)
    commands.add_parser("pip-settings").set_defaults(run=pip_settings)
    env = commands.add_parser("ssh-env")
    env.add_argument("settings", type=Path)
    env.set_defaults(run=ssh_env)
    check = commands.add_parser("compare")
    check.add_argument("--kind", choices=("predict", "watch"), required=True)
    check.add_argument("--label", required=True)
    check.add_argument("x86", type=Path)
    check.add_argument("arm", type=Path)
    check.set_defaults(run=compare)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
