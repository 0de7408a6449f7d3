"""The Kaggle folder -> labelled records -> a grouped, seeded split -> serving tensors.

The dataset holds ~21 augmented copies of every base slice (`CSFDV1B11 (7)-rotated2.png`),
so a split by image puts copies of one slice on both sides and reports a validation score
that means little. Splits here are by base slice (the file-name stem before the first '-').
Class names come from the sorted folder names, never from `os.listdir` order: the original
project's unsorted listing is a label-flip hazard.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from inference.preprocessing import image_to_tensor

POSITIVE_CLASS = "fracture"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp"}


class DataError(Exception):
    """The dataset folder cannot be used as given; the message is the one line the user sees."""


@dataclass(frozen=True)
class ImageRecord:
    """One labelled file. `label` is 1 for the positive class (fracture)."""

    path: Path
    class_name: str
    label: int
    base_slice: str


def base_slice(path: Path | str) -> str:
    """The base slice a file is a copy of.

    `CSFDV1B11 (7)-rotated2-sharpened1.png` -> `CSFDV1B11 (7)`.
    """
    return Path(path).stem.split("-", 1)[0].strip()


def class_names(split_dir: Path) -> list[str]:
    """Sorted class folder names of one split; refuses anything but two classes with fracture."""
    if not split_dir.is_dir():
        raise DataError(f"no such folder: {split_dir}")
    names = sorted(p.name for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(names) < 2:
        found = ", ".join(names) or "none"
        raise DataError(f"{split_dir} needs two class folders (fracture, normal); found: {found}")
    if len(names) > 2 or POSITIVE_CLASS not in names:
        raise DataError(
            f"{split_dir} must hold exactly the class folders 'fracture' and one negative class; "
            f"found: {', '.join(names)}"
        )
    return names


def read_split(split_dir: Path) -> list[ImageRecord]:
    """All image files of one split, sorted by class then file name."""
    records = []
    for name in class_names(split_dir):
        files = sorted(
            p for p in (split_dir / name).iterdir() if p.is_file() and not p.name.startswith(".")
        )
        if not files:
            raise DataError(f"class folder is empty: {split_dir / name}")
        for path in files:
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                raise DataError(f"not an image file (by its name): {path}")
            label = int(name == POSITIVE_CLASS)
            records.append(ImageRecord(path, name, label, base_slice(path)))
    return records


def train_dir(root: Path) -> Path:
    """ROOT/train, or ROOT itself when it already holds the class folders."""
    root = Path(root)
    if not root.exists():
        raise DataError(f"dataset folder not found: {root}")
    if not root.is_dir():
        raise DataError(f"dataset path is not a folder: {root}")
    if (root / "train").is_dir():
        return root / "train"
    if (root / POSITIVE_CLASS).is_dir():
        return root
    raise DataError(f"{root} holds neither train/ nor class folders (fracture/, normal/)")


def held_out_dir(root: Path, given: Path | None) -> Path | None:
    """The independent test split: --test-dir if given, else ROOT/val when present."""
    if given is not None:
        if not Path(given).is_dir():
            raise DataError(f"test folder not found: {given}")
        return Path(given)
    candidate = Path(root) / "val"
    return candidate if candidate.is_dir() else None


def grouped_split(
    records: list[ImageRecord], validation_fraction: float = 0.2, seed: int = 0
) -> tuple[list[ImageRecord], list[ImageRecord]]:
    """Split by base slice, per class, seeded: no base slice lands on both sides.

    Each class gives round(fraction * its groups) groups (at least one) to validation, so
    both classes are present on both sides whenever a class has two or more groups.
    """
    if not 0 < validation_fraction < 1:
        raise DataError(f"validation fraction must be between 0 and 1, not {validation_fraction}")
    rng = random.Random(seed)
    validation_groups: set[str] = set()
    for label in (0, 1):
        groups = sorted({r.base_slice for r in records if r.label == label})
        if len(groups) < 2:
            raise DataError(
                f"class {'fracture' if label else 'normal'} has {len(groups)} base slice(s); "
                "a grouped validation split needs at least 2"
            )
        count = min(len(groups) - 1, max(1, round(validation_fraction * len(groups))))
        validation_groups.update(rng.sample(groups, count))
    train = [r for r in records if r.base_slice not in validation_groups]
    validation = [r for r in records if r.base_slice in validation_groups]
    return train, validation


def grouped_folds(
    records: list[ImageRecord], folds: int, seed: int = 0
) -> list[tuple[list[ImageRecord], list[ImageRecord]]]:
    """K (train, validation) pairs; each class's base slices dealt round-robin into K folds."""
    if folds < 2:
        raise DataError(f"cross-validation needs at least 2 folds, not {folds}")
    rng = random.Random(seed)
    fold_of: dict[str, int] = {}
    for label in (0, 1):
        groups = sorted({r.base_slice for r in records if r.label == label})
        if len(groups) < folds:
            raise DataError(f"{len(groups)} base slices in a class cannot fill {folds} folds")
        rng.shuffle(groups)
        fold_of.update({group: i % folds for i, group in enumerate(groups)})
    return [
        (
            [r for r in records if fold_of[r.base_slice] != k],
            [r for r in records if fold_of[r.base_slice] == k],
        )
        for k in range(folds)
    ]


def open_image(path: Path) -> Image.Image:
    """Decode a file with PIL exactly as serving decodes bytes; unreadable -> DataError."""
    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataError(f"cannot read image {path}: {exc.__class__.__name__}") from exc


def to_tensors(images: list[Image.Image], preprocessing: str, size: tuple[int, int]) -> np.ndarray:
    """Stack serving tensors (N, height, width, 3) for decoded images."""
    if not images:
        return np.zeros((0, *size, 3), dtype=np.float32)
    return np.concatenate([image_to_tensor(im, preprocessing, size) for im in images], axis=0)


def labels_of(records: list[ImageRecord]) -> np.ndarray:
    return np.array([r.label for r in records], dtype=np.float32)


def class_counts(records: list[ImageRecord]) -> dict:
    """Images in all and per class: the counts every summary of a set of records starts with."""
    return {
        "images": len(records),
        "fracture_images": sum(r.label for r in records),
        "normal_images": sum(1 - r.label for r in records),
    }


def split_summary(train: list[ImageRecord], validation: list[ImageRecord], seed: int) -> dict:
    """What model.json and the model card say about the split."""

    def side(records: list[ImageRecord]) -> dict:
        return class_counts(records) | {"base_slices": sorted({r.base_slice for r in records})}

    return {
        "method": "grouped by base slice (file-name stem before the first '-'), per class",
        "seed": seed,
        "train": side(train),
        "validation": side(validation),
    }
