"""The model pair: replaced so that readers (and kills) see the old or the new pair, never a mix;
its metadata checked field by field, unknown fields ignored."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from convert.install import TEMPORARY, install_model
from device.commands.common import EXIT_INTERNAL
from device.contract import MetadataError
from device.model.interpreter import DigitModel, ModelError
from device.model_pair import OUTGOING, load_metadata, read_model_pair

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "models" / "digitcam.tflite"
SHIPPED_META = json.loads((REPO / "models" / "digitcam.json").read_text())
KILLS = 200


def fake_model(tag: bytes) -> tuple[bytes, bytes]:
    """Model bytes and their metadata (the pair reader never runs them)."""
    content = b"TFL3" + tag * 2000
    sha = hashlib.sha256(content).hexdigest()
    meta = SHIPPED_META | {"sha256": sha, "size_bytes": len(content)}
    return content, (json.dumps(meta, indent=2) + "\n").encode()


def installing_forever(path: Path, models: list[tuple[bytes, bytes]]) -> int:
    """A child process that installs the models in turn until it is killed."""
    pid = os.fork()
    if pid == 0:
        try:
            while True:
                for content, meta in models:
                    install_model(path, content, meta)
        finally:
            os._exit(0)
    return pid


def test_killing_an_install_at_random_points_leaves_the_old_or_the_new_pair(tmp_path):
    path = tmp_path / "models" / "digitcam.tflite"
    a, b = fake_model(b"a"), fake_model(b"b")
    install_model(path, *a)
    shas = {json.loads(meta)["sha256"] for _, meta in (a, b)}
    rng = random.Random(0)
    mid_switch = leftovers = 0
    for _ in range(KILLS):
        pid = installing_forever(path, [a, b] if rng.random() < 0.5 else [b, a])
        time.sleep(rng.uniform(0, 0.03))  # an install takes ~16 ms here (three fsyncs)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pair = read_model_pair(path)  # never "does not match its metadata"
        assert pair.metadata.sha256 in shas
        assert hashlib.sha256(pair.content).hexdigest() == pair.metadata.sha256
        mid_switch += OUTGOING in json.loads(path.with_suffix(".json").read_text())
        leftovers += any(TEMPORARY.match(p.name) for p in path.parent.iterdir())
    # the kills did land inside installs: between the renames, and while writing
    assert mid_switch > 0 and leftovers > 0
    install_model(path, *a)  # the next install cleans up after the killed ones
    assert sorted(p.name for p in path.parent.iterdir()) == ["digitcam.json", "digitcam.tflite"]
    assert OUTGOING not in json.loads(path.with_suffix(".json").read_text())
    assert read_model_pair(path).content == a[0]


def test_readers_during_installs_always_get_a_matching_pair(tmp_path):
    path = tmp_path / "digitcam.tflite"
    models = [fake_model(bytes([65 + i])) for i in range(3)]
    install_model(path, *models[0])
    pid = installing_forever(path, models)
    try:
        for _ in range(300):
            pair = read_model_pair(path)
            assert hashlib.sha256(pair.content).hexdigest() == pair.metadata.sha256
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


@pytest.fixture
def model_copy(tmp_path) -> Path:
    path = tmp_path / "digitcam.tflite"
    path.write_bytes(SHIPPED.read_bytes())
    return path


def with_metadata(model: Path, **changes) -> None:
    meta = SHIPPED_META | changes
    model.with_suffix(".json").write_text(json.dumps({k: v for k, v in meta.items() if v != ...}))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"output_quantization": {"scale": "0.1", "zero_point": 0}}, "output_quantization"),
        ({"input_quantization": {"scale": 0, "zero_point": 0}}, "input_quantization out of"),
        ({"output_quantization": {"scale": 1, "zero_point": 300}}, "output_quantization out"),
        ({"labels": "0123456789"}, "labels must be a list"),
        ({"labels": [0, 1]}, "labels item must be a string"),
        ({"int8_accuracy": 1.5}, "int8_accuracy must be between 0 and 1"),
        ({"test_images": True}, "test_images must be a whole number"),
        ({"input_dtype": "float32"}, "input_dtype must be one of uint8, int8"),
        ({"labels": ...}, "lacks labels"),
        ({"format": "digitcam-model/9"}, "format 'digitcam-model/9'"),
    ],
)
def test_bad_metadata_is_a_one_line_error_naming_the_field(model_copy, changes, message):
    with_metadata(model_copy, **changes)
    with pytest.raises(MetadataError) as error:
        load_metadata(model_copy)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_nan_in_metadata_is_refused(model_copy):
    quantization = SHIPPED_META["output_quantization"] | {"scale": float("nan")}
    text = json.dumps(SHIPPED_META | {"output_quantization": quantization})  # writes NaN
    assert "NaN" in text
    model_copy.with_suffix(".json").write_text(text)
    with pytest.raises(MetadataError, match="NaN is not a number JSON allows"):
        load_metadata(model_copy)


def test_unknown_fields_are_ignored(model_copy):
    with_metadata(model_copy, letter_rejection=0.97, future={"anything": [1, 2]})
    assert load_metadata(model_copy).labels == SHIPPED_META["labels"]


def test_metadata_quantization_must_match_the_models_own_tensors(model_copy):
    with_metadata(model_copy, output_quantization={"scale": 0.5, "zero_point": -128})
    with pytest.raises(ModelError, match="output quantization .* does not match its metadata"):
        DigitModel(model_copy)


def test_commands_refuse_a_string_scale_in_one_line(model_copy, capsys):
    from device.cli import main

    with_metadata(model_copy, output_quantization={"scale": "x", "zero_point": -128})
    for argv in (["watch", "--source", "synthetic", "--frames", "1"], ["doctor"]):
        code = main([*argv, "--model", str(model_copy)])
        out, err = capsys.readouterr()
        err += out  # doctor reports on stdout
        assert code not in (0, EXIT_INTERNAL) and "Traceback" not in err
        assert "output_quantization must be an object" in err or "must be a finite" in err
