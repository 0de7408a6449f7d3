"""Every bad input to the command line: one line on stderr, non-zero exit, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.synthetic import ct_slice

REPO = Path(__file__).resolve().parents[2]


def _run(*argv: str, script: str = "training/train.py") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, script, *argv], capture_output=True, text=True, cwd=REPO, timeout=120
    )


def _assert_one_line_error(completed: subprocess.CompletedProcess, fragment: str) -> None:
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, completed.stderr
    assert fragment in errors[0]


def _layout(root: Path, classes: dict[str, int]) -> Path:
    for name, count in classes.items():
        folder = root / "train" / name
        folder.mkdir(parents=True)
        for index in range(count):
            ct_slice(index, 32, name == "fracture").save(folder / f"S{name} ({index}).png")
    return root


def test_missing_folder(tmp_path: Path) -> None:
    _assert_one_line_error(_run(str(tmp_path / "nowhere")), "dataset folder not found")


def test_one_class_only(tmp_path: Path) -> None:
    root = _layout(tmp_path / "d", {"fracture": 2})
    _assert_one_line_error(_run(str(root)), "needs two class folders")


def test_empty_class_folder(tmp_path: Path) -> None:
    root = _layout(tmp_path / "d", {"fracture": 2, "normal": 0})
    _assert_one_line_error(_run(str(root)), "class folder is empty")


def test_non_image_file(tmp_path: Path) -> None:
    root = _layout(tmp_path / "d", {"fracture": 2, "normal": 2})
    (root / "train" / "normal" / "readme.txt").write_text("not a slice")
    _assert_one_line_error(_run(str(root)), "not an image file")


def test_unreadable_image(tmp_path: Path) -> None:
    root = _layout(tmp_path / "d", {"fracture": 2, "normal": 2})
    (root / "train" / "normal" / "Snormal (9).png").write_bytes(b"\x89PNG broken")
    _assert_one_line_error(_run(str(root)), "cannot read image")


def test_single_base_slice_per_class_cannot_be_split(tmp_path: Path) -> None:
    root = tmp_path / "d"
    for name in ("fracture", "normal"):
        folder = root / "train" / name
        folder.mkdir(parents=True)
        ct_slice(1, 32, name == "fracture").save(folder / "S1 (1)-rotated1.png")
        ct_slice(2, 32, name == "fracture").save(folder / "S1 (1)-rotated2.png")
    _assert_one_line_error(_run(str(root), "--epochs", "1"), "base slice")


def test_missing_test_dir(dataset, tmp_path: Path) -> None:
    _assert_one_line_error(
        _run(str(dataset.root), "--test-dir", str(tmp_path / "none")), "test folder not found"
    )


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--epochs", "0"], "--epochs"),
        (["--size", "8"], "--size"),
        (["--arch", "vgg99"], "invalid choice"),
        (["--quantize", "int4"], "invalid choice"),
        (["--validation-fraction", "1.5"], "--validation-fraction"),
    ],
)
def test_bad_options(dataset, argv: list[str], fragment: str) -> None:
    _assert_one_line_error(_run(str(dataset.root), *argv), fragment)


def test_input_too_small_for_a_pretrained_architecture(dataset) -> None:
    completed = _run(str(dataset.root), "--arch", "xception", "--size", "48", "--quiet")
    _assert_one_line_error(completed, "xception needs an input of at least 71x71")


def test_no_dataset_given() -> None:
    _assert_one_line_error(_run(), "give a dataset folder or --download")


def test_audit_missing_folder(tmp_path: Path) -> None:
    _assert_one_line_error(_run(str(tmp_path / "x"), script="training/audit.py"), "not found")
