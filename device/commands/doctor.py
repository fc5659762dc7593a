"""digitcam doctor: check that this machine can run digitcam, and say what to fix."""

from __future__ import annotations

import importlib
import importlib.util
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from device.commands.common import DEFAULT_MODEL_HELP, default_model_path
from device.live.board import raspberry_pi_model

DESCRIPTION = """\
Checks that this machine can run digitcam and says what to do about each problem, one line
each: Python and numpy versions, which TFLite interpreter is used, whether the model matches
its metadata and reads a built-in handwritten 7, and whether a camera is there (a missing
camera is a warning, or with --require-camera, as a deploy with --service asks, a failure).
Exit status: 0 when nothing failed (warnings allowed), 1 when a check failed."""

MIN_PYTHON = (3, 10)
OK, INFO, WARN, FAIL = "ok", "info", "warn", "FAIL"
BACKEND_DISTRIBUTIONS = {
    "ai_edge_litert": ("ai-edge-litert",),
    "tflite_runtime": ("tflite-runtime",),
    "tensorflow.lite": ("tensorflow", "tensorflow-cpu", "tensorflow-aarch64"),
}


@dataclass(frozen=True)
class Finding:
    status: str  # OK, INFO, WARN or FAIL
    topic: str
    message: str  # for WARN and FAIL: what is wrong, then what to do


def add_arguments(parser) -> None:
    parser.add_argument(
        "--model", type=Path, help=f"{DEFAULT_MODEL_HELP} (default: the one predict uses)"
    )
    parser.add_argument(
        "--require-camera",
        action="store_true",
        help="fail when there is no usable camera (the service needs one)",
    )


def run(args) -> int:
    findings = run_checks(
        args.model or default_model_path(), getattr(args, "require_camera", False)
    )
    print(format_report(findings))
    return 1 if any(f.status == FAIL for f in findings) else 0


def run_checks(model_path: Path, require_camera: bool = False) -> list[Finding]:
    findings = [check_python(), check_numpy(), check_pillow()]
    if findings[1].status == FAIL:
        return findings  # everything below needs numpy
    findings.append(check_interpreter())
    findings.extend(check_model(Path(model_path)))
    findings.append(check_camera(require_camera))
    return findings


def format_report(findings: list[Finding]) -> str:
    lines = [f"digitcam doctor on {platform.node()} ({machine_description()})"]
    lines += [f"  {f.status:<5} {f.topic}: {f.message}" for f in findings]
    failed = sum(f.status == FAIL for f in findings)
    warned = sum(f.status == WARN for f in findings)
    if failed or warned:
        lines.append(f"{failed} failed, {warned} warning(s): each line above says what to do")
    else:
        lines.append("all checks passed")
    return "\n".join(lines)


def machine_description() -> str:
    return raspberry_pi_model() or f"{platform.system()} {platform.machine()}"


def check_python(version_info: tuple[int, ...] = tuple(sys.version_info)) -> Finding:
    version = ".".join(str(part) for part in version_info[:3])
    if tuple(version_info[:2]) < MIN_PYTHON:
        return Finding(
            FAIL,
            "python",
            f"Python {version} is too old (digitcam needs 3.10+): use Raspberry Pi OS "
            "Bookworm or later (Python 3.11+)",
        )
    return Finding(OK, "python", f"{version} at {sys.executable}")


def check_numpy() -> Finding:
    try:
        import numpy
    except ImportError as exc:
        return Finding(
            FAIL, "numpy", f"cannot import numpy ({exc}): pip install 'digitcam[device]'"
        )
    return Finding(OK, "numpy", f"{numpy.__version__} at {Path(numpy.__file__).parent}")


def check_pillow() -> Finding:
    """Pillow decodes pictures (predict, watch dir:); the model and camera work without it."""
    try:
        import PIL
    except ImportError as exc:
        return Finding(
            FAIL, "pillow", f"cannot import Pillow ({exc}): pip install 'digitcam[device]'"
        )
    return Finding(OK, "pillow", PIL.__version__)


def check_interpreter() -> Finding:
    """The interpreter digitcam will use, and advice about a stale tflite-runtime."""
    import numpy

    from device.model.interpreter import ModelError, find_backend

    numpy_2 = int(numpy.__version__.split(".")[0]) >= 2
    tflite_runtime_here = importlib.util.find_spec("tflite_runtime") is not None
    stale = (
        f"tflite-runtime is installed but crashes under numpy {numpy.__version__} "
        "(its last release, 2.14, needs numpy<2)"
    )
    try:
        backend = find_backend()
    except ModelError as exc:
        if tflite_runtime_here and numpy_2:
            return Finding(
                FAIL,
                "interpreter",
                f"{stale}: pip install ai-edge-litert (or pip install 'numpy<2' on Python <= 3.11)",
            )
        return Finding(FAIL, "interpreter", str(exc))
    if tflite_runtime_here and numpy_2:
        return Finding(
            WARN,
            "interpreter",
            f"using {backend.name}; {stale}: pip uninstall tflite-runtime to silence this",
        )
    passed_over = f" (passed over: {'; '.join(backend.skipped)})" if backend.skipped else ""
    version = distribution_version(backend.name)
    return Finding(OK, "interpreter", f"{backend.name} {version}{passed_over}")


def distribution_version(backend_name: str) -> str:
    """The installed version of the package that provides a backend, or '' if pip can't tell."""
    from importlib import metadata

    for distribution in BACKEND_DISTRIBUTIONS.get(backend_name, ()):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return ""


def check_model(model_path: Path) -> list[Finding]:
    """The model matches its metadata, loads, and reads the built-in 7 as 7."""
    from device.contract import MetadataError, metadata_path
    from device.model.interpreter import ModelError, load_model
    from device.model.selftest import LABEL, builtin_digit
    from device.model_pair import load_metadata

    if not _is_file(model_path):
        return [
            Finding(
                FAIL,
                "model",
                f"{model_path} not found: run 'make train convert' on the workstation, then "
                "'make deploy PI=user@host' (or pass --model)",
            )
        ]
    if not metadata_path(model_path).is_file():
        return [
            Finding(
                FAIL,
                "model",
                f"{metadata_path(model_path)} (its metadata) is missing: copy it from the same "
                "'make convert' run as the model ('make deploy' sends both)",
            )
        ]
    try:
        meta = load_metadata(model_path)
    except MetadataError as exc:
        return [
            Finding(
                FAIL,
                "model",
                f"{exc}: use the .tflite and .json written by one 'make convert' run "
                "('make deploy' sends both)",
            )
        ]
    found = [
        Finding(
            OK,
            "model",
            f"{model_path} matches its metadata ({meta.size_bytes:,} bytes, "
            f"int8 test accuracy {100 * meta.int8_accuracy:.2f}%)",
        )
    ]
    try:
        model = load_model(model_path)  # without LiteRT's INFO line in the report
        started = time.perf_counter()
        scores = model.scores(builtin_digit())
        elapsed_ms = 1000 * (time.perf_counter() - started)
    except (ModelError, MetadataError, ValueError) as exc:
        return [*found, Finding(FAIL, "self-test", f"{exc}: re-run 'make convert'")]
    index = model.metadata.answer(scores)  # by the model's decision rule: "none" is no digit
    answer = model.labels[index]
    if answer != str(LABEL):
        return [
            *found,
            Finding(
                FAIL,
                "self-test",
                f"the model read the built-in {LABEL} as {answer}: retrain and convert it "
                "('make train convert'), then deploy again",
            ),
        ]
    confidence = float(scores[index])
    detail = f"read the built-in {LABEL} as {answer} (confidence {confidence:.2f})"
    return [*found, Finding(OK, "self-test", f"{detail} in {elapsed_ms:.1f} ms")]


def check_camera(required: bool = False) -> Finding:
    """Whether picamera2 imports and sees a camera; advice only matters on a Raspberry Pi,
    unless required (the service is to run 'watch --source picamera' here)."""
    from device.live.camera import import_picamera2, list_cameras
    from device.live.frames import NoCamera, SourceError

    try:
        cameras = list_cameras(import_picamera2())
    except SourceError as exc:
        if required:
            return Finding(
                FAIL, "camera", f"{exc} (the service needs the camera; or deploy without it)"
            )
        on_a_pi = raspberry_pi_model() or isinstance(exc, NoCamera)
        return Finding(WARN if on_a_pi else INFO, "camera", str(exc))
    names = ", ".join(str(camera.get("Model", "unknown")) for camera in cameras)
    return Finding(OK, "camera", f"{len(cameras)} found ({names})")


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long: the finding says the model is not there
        return False
