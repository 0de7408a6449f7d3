"""A tiny synthetic dataset in the Kaggle layout, with the dataset's traps planted on purpose.

Like the real folder: ROOT/train/{fracture,normal}/ and ROOT/val/{...}/, each base slice
(`SYNF1 (3)`) present as an original (larger, grayscale) plus augmented copies (`-rotated1`,
`-sharpened`, smaller, RGB), and one copy byte-identical to another (`-sharpened1`). Planted
leak: one training file is also in val/ under the same name. Images come from
tests/synthetic.ct_slice; nothing comes from the real dataset.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFilter

from tests.synthetic import ct_slice


@dataclass(frozen=True)
class SyntheticDataset:
    root: Path
    leaked_file: str  # file name present in train/fracture and val/fracture
    duplicates_in_train: int  # byte-identical extra copies planted in train/


def _write_slice(folder: Path, stem: str, seed: int, fracture: bool, size: int) -> int:
    """Original + 3 copies + 1 byte-identical duplicate; returns the duplicates written."""
    original = ct_slice(seed, size=size * 2, fracture=fracture)
    original.save(folder / f"{stem}.png")
    small = ct_slice(seed, size=size, fracture=fracture, mode="RGB")
    small.rotate(90).save(folder / f"{stem}-rotated1.png")
    small.rotate(7, fillcolor=(0, 0, 0)).save(folder / f"{stem}-rotated2.png")
    small.filter(ImageFilter.SHARPEN).save(folder / f"{stem}-sharpened.png")
    shutil.copyfile(folder / f"{stem}-sharpened.png", folder / f"{stem}-sharpened1.png")
    return 1


def write_kaggle_dataset(
    root: Path, train_slices: int = 6, test_slices: int = 2, size: int = 48, leak: bool = True
) -> SyntheticDataset:
    """Write the dataset under `root`; 5 files per base slice."""
    duplicates = 0
    for split, count, offset in (("train", train_slices, 0), ("val", test_slices, 100)):
        for class_name, fracture, series in (("fracture", True, "SYNF"), ("normal", False, "SYNN")):
            folder = root / split / class_name
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(count):
                number = offset + index + 1
                seed = number * 2 + int(fracture)
                written = _write_slice(
                    folder, f"{series}{1 + index % 2} ({number})", seed, fracture, size
                )
                duplicates += written if split == "train" else 0
    leaked = "SYNF1 (1)-rotated1.png"
    if leak:
        shutil.copyfile(root / "train" / "fracture" / leaked, root / "val" / "fracture" / leaked)
    return SyntheticDataset(root, leaked, duplicates)
