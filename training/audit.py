"""Dataset audit: what is in the folder, and does anything leak between splits?

    python training/audit.py ROOT [--test-dir DIR] [--json audit.json] [--seed 0]

Counts per split and class, base-slice groups, exact duplicates (sha256 of the bytes),
near-duplicates across splits (perceptual hash within a Hamming distance), image sizes and
modes. The splits audited are ROOT/train, the grouped validation split that train.py would
make from it, and the test split (ROOT/val or --test-dir) when present.

A base slice or an exact duplicate shared by two splits is leakage (`leakage: true`): the same
picture is on both sides. Near-duplicates (perceptual hashes within a few bits) are reported
apart (`near_duplicates: true`): on this dataset neighbouring slices of one series hash alike,
so even a clean grouped split has them; they say how independent the splits really are.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import imagehash
import numpy as np

from training.architectures import OneLineParser
from training.data import (
    DataError,
    ImageRecord,
    grouped_split,
    held_out_dir,
    open_image,
    read_split,
    train_dir,
)

NEAR_DUPLICATE_DISTANCE = 4  # of 64 pHash bits


def fingerprint(record: ImageRecord) -> dict:
    """sha256 of the bytes, 64-bit perceptual hash, size and mode of one file."""
    image = open_image(record.path)
    return {
        "sha256": hashlib.sha256(record.path.read_bytes()).hexdigest(),
        "phash": int(str(imagehash.phash(image)), 16),
        "size": f"{image.width}x{image.height}",
        "mode": image.mode,
    }


def _hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances between two arrays of 64-bit hashes."""
    xor = a[:, None] ^ b[None, :]
    return np.unpackbits(xor.view(np.uint8).reshape(*xor.shape, 8), axis=-1).sum(axis=-1)


def audit(splits: dict[str, list[ImageRecord]], distance: int = NEAR_DUPLICATE_DISTANCE) -> dict:
    """The audit report of named splits (name -> records)."""
    prints = {name: [fingerprint(r) for r in records] for name, records in splits.items()}
    report: dict = {"splits": {}, "cross_split": [], "near_duplicate_distance": distance}
    for name, records in splits.items():
        hashes = Counter(p["sha256"] for p in prints[name])
        report["splits"][name] = {
            "images": len(records),
            "per_class": dict(sorted(Counter(r.class_name for r in records).items())),
            "base_slices_per_class": {
                c: len({r.base_slice for r in records if r.class_name == c})
                for c in sorted({r.class_name for r in records})
            },
            "exact_duplicate_files": sum(n - 1 for n in hashes.values() if n > 1),
            "sizes": dict(Counter(p["size"] for p in prints[name]).most_common()),
            "modes": dict(Counter(p["mode"] for p in prints[name]).most_common()),
        }
    for first, second in combinations(splits, 2):
        a, b = splits[first], splits[second]
        shared_slices = sorted({r.base_slice for r in a} & {r.base_slice for r in b})
        exact = sorted({p["sha256"] for p in prints[first]} & {p["sha256"] for p in prints[second]})
        near_pairs: list[list[str]] = []
        near_slices: set[str] = set()
        if a and b:
            distances = _hamming(
                np.array([p["phash"] for p in prints[first]], dtype=np.uint64),
                np.array([p["phash"] for p in prints[second]], dtype=np.uint64),
            )
            for i, j in zip(*np.nonzero(distances <= distance), strict=True):
                near_pairs.append([a[i].path.name, b[j].path.name])
                near_slices.update((a[i].base_slice, b[j].base_slice))
        report["cross_split"].append(
            {
                "splits": [first, second],
                "shared_base_slices": shared_slices,
                "exact_duplicates": len(exact),
                "near_duplicate_pairs": len(near_pairs),
                "near_duplicate_examples": near_pairs[:10],
                "near_duplicate_base_slices": sorted(near_slices),
                "leakage": bool(shared_slices or exact),
                "near_duplicates": bool(near_pairs),
            }
        )
    report["leakage"] = any(c["leakage"] for c in report["cross_split"])
    report["near_duplicates"] = any(c["near_duplicates"] for c in report["cross_split"])
    return report


def table(report: dict) -> str:
    """The report as plain-text tables for the terminal."""
    lines = [
        f"{'split':<12} {'images':>7} {'per class':<28} {'slices/class':<26} {'dups':>5}  sizes"
    ]
    for name, s in report["splits"].items():
        per_class = ", ".join(f"{k} {v}" for k, v in s["per_class"].items())
        slices = ", ".join(f"{k} {v}" for k, v in s["base_slices_per_class"].items())
        sizes = ", ".join(f"{k}:{v}" for k, v in s["sizes"].items())
        lines.append(
            f"{name:<12} {s['images']:>7} {per_class:<28} {slices:<26} "
            f"{s['exact_duplicate_files']:>5}  {sizes}"
        )
    lines.append("")
    lines.append(
        f"{'across':<24} {'shared slices':>13} {'exact dups':>10} {'near dups':>9}  verdict"
    )
    for c in report["cross_split"]:
        pair = " / ".join(c["splits"])
        lines.append(
            f"{pair:<24} {len(c['shared_base_slices']):>13} {c['exact_duplicates']:>10} "
            f"{c['near_duplicate_pairs']:>9}  "
            + ("LEAK" if c["leakage"] else "near-duplicates" if c["near_duplicates"] else "ok")
        )
    lines.append("")
    lines.append("leakage: " + ("YES" if report["leakage"] else "none found"))
    if report["near_duplicates"]:
        lines.append(
            "near-duplicates across splits (pHash distance <= "
            f"{report['near_duplicate_distance']}): neighbouring slices look alike; "
            "the splits are not fully independent"
        )
    return "\n".join(lines)


def splits_of(root: Path, test: Path | None, seed: int, fraction: float) -> dict:
    records = read_split(train_dir(root))
    train, validation = grouped_split(records, fraction, seed)
    splits = {"train": train, "validation": validation}
    test_root = held_out_dir(root, test)
    if test_root is not None:
        splits["test"] = read_split(test_root)
    return splits


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description="Audit a Kaggle-layout dataset for leakage.")
    parser.add_argument("root", type=Path)
    parser.add_argument("--test-dir", type=Path)
    parser.add_argument("--json", type=Path, default=Path("audit.json"), help="report file")
    parser.add_argument("--seed", type=int, default=0, help="seed of the grouped split")
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    parser.add_argument(
        "--distance",
        type=int,
        default=NEAR_DUPLICATE_DISTANCE,
        help="pHash Hamming distance counted as near-duplicate",
    )
    parser.add_argument("--fail-on-leak", action="store_true", help="exit 1 when leakage found")
    args = parser.parse_args(argv)
    try:
        report = audit(
            splits_of(args.root, args.test_dir, args.seed, args.validation_fraction),
            args.distance,
        )
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write {args.json}: {exc.strerror}", file=sys.stderr)
        return 2
    print(table(report))
    print(f"report: {args.json}")
    return 1 if args.fail_on_leak and report["leakage"] else 0


if __name__ == "__main__":
    sys.exit(main())
