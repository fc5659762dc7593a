"""code_version names the commit and the train/ and convert/ source that built a model."""

from __future__ import annotations

import re
import subprocess

from convert.version import code_version, source_hash


def git(root, *args):
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=root, check=True, capture_output=True,
    )  # fmt: skip


def make_repo(root):
    for folder in ("train", "convert", "device"):
        (root / folder).mkdir()
        (root / folder / "a.py").write_text(f"# {folder}\n")
    (root / "README.md").write_text("readme\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")


def test_a_clean_checkout_names_its_commit_and_source(tmp_path):
    make_repo(tmp_path)
    version = code_version(tmp_path)
    head = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"], cwd=tmp_path, capture_output=True, text=True
    ).stdout.strip()
    assert re.fullmatch(rf".+\+{head}\.src-[0-9a-f]{{12}}", version), version


def test_changes_elsewhere_leave_it_clean_and_the_same(tmp_path):
    make_repo(tmp_path)
    before = code_version(tmp_path)
    (tmp_path / "README.md").write_text("edited\n")
    (tmp_path / "device" / "a.py").write_text("# edited\n")
    (tmp_path / "train" / "notes.txt").write_text("not source\n")
    assert code_version(tmp_path) == before


def test_edited_or_new_source_is_dirty_with_another_hash(tmp_path):
    make_repo(tmp_path)
    clean = code_version(tmp_path)
    (tmp_path / "train" / "a.py").write_text("# changed\n")
    edited = code_version(tmp_path)
    assert edited.endswith("-dirty") and edited.split(".src-")[1] != clean.split(".src-")[1]
    git(tmp_path, "commit", "-qam", "second")
    assert not code_version(tmp_path).endswith("-dirty")
    (tmp_path / "convert" / "new.py").write_text("x = 1\n")
    assert code_version(tmp_path).endswith("-dirty")


def test_outside_git_the_source_hash_still_identifies_the_code(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "a.py").write_text("# train\n")
    assert code_version(tmp_path).endswith(f"+nogit.src-{source_hash(tmp_path)}")
