"""The MNIST loader: IDX directories, npz files, MNIST_DIR, one-line errors for damaged files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import write_idx
from train.cli import main as train_main
from train.data import DataError, load_mnist, read_idx, split_validation


def make_idx_dir(directory: Path, n_train: int = 12, n_test: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test),
    }
    for stem, array in arrays.items():
        write_idx(directory / f"{stem}.gz", array)
    return arrays


def test_idx_directory_loads(tmp_path):
    arrays = make_idx_dir(tmp_path)
    data = load_mnist(tmp_path)
    assert data.x_train.shape == (12, 28, 28) and data.x_train.dtype == np.uint8
    np.testing.assert_array_equal(data.x_test, arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(data.y_train, arrays["train-labels-idx1-ubyte"])


def test_npz_loads_from_file_and_from_mnist_dir(tmp_path, monkeypatch):
    (tmp_path / "idx").mkdir()
    arrays = make_idx_dir(tmp_path / "idx")
    idx = load_mnist(tmp_path / "idx")
    npz = tmp_path / "npz" / "mnist.npz"
    npz.parent.mkdir()
    np.savez(npz, x_train=idx.x_train, y_train=idx.y_train, x_test=idx.x_test, y_test=idx.y_test)
    from_file = load_mnist(npz)
    np.testing.assert_array_equal(from_file.x_train, arrays["train-images-idx3-ubyte"])
    monkeypatch.setenv("MNIST_DIR", str(npz.parent))
    from_env = load_mnist()
    assert from_env.source == str(npz)
    np.testing.assert_array_equal(from_env.y_test, idx.y_test)


def test_real_mnist_has_the_test_set_and_a_training_set(mnist):
    # any part of the 60,000 training images (22,699 offline here, all of them elsewhere)
    assert mnist.x_train.shape[1:] == (28, 28) and 0 < len(mnist.x_train) <= 60000
    assert len(mnist.y_train) == len(mnist.x_train)
    assert set(np.unique(mnist.y_train)) == set(range(10))
    assert mnist.x_test.shape == (10000, 28, 28)
    assert np.bincount(mnist.y_test).sum() == 10000


def test_bad_magic_names_the_file(tmp_path):
    make_idx_dir(tmp_path)
    bad = tmp_path / "train-labels-idx1-ubyte.gz"
    write_idx(bad, np.zeros(12), magic=0x12345678)
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz: bad magic number"):
        load_mnist(tmp_path)


def test_count_mismatch_names_both_files(tmp_path):
    make_idx_dir(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(11))
    with pytest.raises(DataError, match=r"12 images but .*train-labels-idx1-ubyte\.gz has 11"):
        load_mnist(tmp_path)


def test_header_count_larger_than_data(tmp_path):
    path = tmp_path / "t.gz"
    write_idx(path, np.zeros((3, 28, 28)), count=5)
    with pytest.raises(DataError, match=r"t\.gz: header promises"):
        read_idx(path)


def test_truncated_gzip(tmp_path):
    make_idx_dir(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: truncated or corrupt gzip"):
        load_mnist(tmp_path)


def test_missing_file_and_bad_npz(tmp_path):
    make_idx_dir(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="missing t10k-labels-idx1-ubyte.gz"):
        load_mnist(tmp_path)
    junk = tmp_path / "junk.npz"
    junk.write_text("not a zip")
    with pytest.raises(DataError, match=r"junk\.npz: not a readable npz"):
        load_mnist(junk)


def test_train_command_reports_bad_data_in_one_line(tmp_path, capsys):
    make_idx_dir(tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b broken")
    assert train_main(["--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("digitcam-train: ") and "train-images-idx3-ubyte.gz" in err
    assert len(err.splitlines()) == 1


def test_validation_split_is_seeded_and_disjoint():
    x = np.arange(100).reshape(100, 1, 1)
    y = np.arange(100) % 10
    first = split_validation(x, y, 0.1, seed=3)
    again = split_validation(x, y, 0.1, seed=3)
    other = split_validation(x, y, 0.1, seed=4)
    np.testing.assert_array_equal(first[2], again[2])
    assert len(first[2]) == 10 and len(first[0]) == 90
    assert not set(first[0].ravel()) & set(first[2].ravel())
    assert not np.array_equal(first[2], other[2])
