"""Reading the Kaggle layout and splitting it by base slice."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.synthetic import ct_slice
from training.data import (
    DataError,
    base_slice,
    class_names,
    grouped_split,
    held_out_dir,
    open_image,
    read_split,
    train_dir,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CSFDV1B11 (7)-rotated2-sharpened1.png", "CSFDV1B11 (7)"),
        ("CSFDV1B11 (7).png", "CSFDV1B11 (7)"),
        ("CSFDV1B10 (109)-sharpened.png", "CSFDV1B10 (109)"),
    ],
)
def test_base_slice_is_the_stem_before_the_first_dash(name: str, expected: str) -> None:
    assert base_slice(name) == expected


def test_class_names_are_sorted_and_fracture_is_label_one(dataset) -> None:
    records = read_split(train_dir(dataset.root))
    assert class_names(dataset.root / "train") == ["fracture", "normal"]
    assert {r.label for r in records if r.class_name == "fracture"} == {1}
    assert {r.label for r in records if r.class_name == "normal"} == {0}
    assert len(records) == 2 * 6 * 5


def test_grouped_split_keeps_every_base_slice_on_one_side(dataset) -> None:
    records = read_split(train_dir(dataset.root))
    train, validation = grouped_split(records, 0.34, seed=3)
    assert not {r.base_slice for r in train} & {r.base_slice for r in validation}
    assert len(train) + len(validation) == len(records)
    for side in (train, validation):
        assert {r.label for r in side} == {0, 1}


def test_grouped_split_is_reproducible_and_depends_on_the_seed(dataset) -> None:
    records = read_split(train_dir(dataset.root))
    picks = {
        seed: frozenset(r.base_slice for r in grouped_split(records, 0.34, seed)[1])
        for seed in range(6)
    }
    assert picks[0] == frozenset(r.base_slice for r in grouped_split(records, 0.34, 0)[1])
    assert len(set(picks.values())) > 1


def test_test_split_defaults_to_val_and_accepts_test_dir(dataset, tmp_path: Path) -> None:
    assert held_out_dir(dataset.root, None) == dataset.root / "val"
    assert held_out_dir(tmp_path, None) is None
    with pytest.raises(DataError, match="test folder not found"):
        held_out_dir(dataset.root, tmp_path / "missing")


def _two_classes(root: Path) -> None:
    for name, fracture in (("fracture", True), ("normal", False)):
        (root / "train" / name).mkdir(parents=True)
        ct_slice(1, 32, fracture).save(root / "train" / name / f"S{name} (1).png")


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("missing", "dataset folder not found"),
        ("one_class", "needs two class folders"),
        ("empty_class", "class folder is empty"),
        ("not_an_image_name", "not an image file"),
        ("three_classes", "exactly the class folders"),
        ("no_layout", "neither train/ nor class folders"),
    ],
)
def test_bad_folders_raise_one_clear_error(tmp_path: Path, breakage: str, message: str) -> None:
    root = tmp_path / "data"
    if breakage != "missing":
        _two_classes(root)
    if breakage == "one_class":
        for path in (root / "train" / "normal").iterdir():
            path.unlink()
        (root / "train" / "normal").rmdir()
    elif breakage == "empty_class":
        for path in (root / "train" / "normal").iterdir():
            path.unlink()
    elif breakage == "not_an_image_name":
        (root / "train" / "normal" / "notes.txt").write_text("hello")
    elif breakage == "three_classes":
        (root / "train" / "other").mkdir()
    elif breakage == "no_layout":
        root = tmp_path / "elsewhere"
        root.mkdir()
    with pytest.raises(DataError, match=message):
        read_split(train_dir(root))


def test_unreadable_image_raises_data_error(tmp_path: Path) -> None:
    broken = tmp_path / "S1 (1).png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n but not really")
    with pytest.raises(DataError, match="cannot read image"):
        open_image(broken)
