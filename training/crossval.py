"""Grouped K-fold cross-validation of one recipe, with the shortcut baseline on every fold.

    python training/crossval.py ROOT --arch slicenet --augment --folds 5 --epochs 25

One validation split of 10 base slices saturates at 100% and cannot tell a good recipe from a
lucky split. Cross-validation by base slice puts every slice in validation once, so the
figures speak for all 50 slices; it is how the shipped recipe was checked before the final
fit on all data. Prints a table and writes JSON (--json).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from training.architectures import ARCHITECTURES, OneLineParser
from training.data import DataError, grouped_folds, labels_of, open_image, read_split, train_dir


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description="Grouped K-fold cross-validation of a training recipe.")
    parser.add_argument("root", type=Path)
    parser.add_argument("--arch", default="slicenet", choices=ARCHITECTURES)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--optimizer", default="adam", choices=["sgd", "adam"])
    parser.add_argument("--learning-rate", type=float, default=0.002)
    parser.add_argument("--augment", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=Path("crossval.json"))
    args = parser.parse_args(argv)
    try:
        records = read_split(train_dir(args.root))
        folds = grouped_folds(records, args.folds, args.seed)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from training.data import to_tensors
    from training.evaluate import (
        ShortcutBaseline,
        choose_threshold,
        classification_metrics,
    )
    from training.fit import FitOptions, fit
    from training.pipeline import PREPROCESSING_NAME

    size = (args.size, args.size)
    images = {r.path: open_image(r.path) for r in records}
    rows = []
    for k, (train, validation) in enumerate(folds):
        train_images = [images[r.path] for r in train]
        validation_images = [images[r.path] for r in validation]
        y_train, y_validation = labels_of(train), labels_of(validation)
        options = FitOptions.from_args(args, quiet=True)
        validation_tensors = to_tensors(validation_images, PREPROCESSING_NAME, size)
        result = fit(
            args.arch,
            size,
            train_images,
            to_tensors(train_images, PREPROCESSING_NAME, size),
            y_train,
            (validation_tensors, y_validation),
            options,
            PREPROCESSING_NAME,
        )
        probabilities = result.model.predict(validation_tensors, verbose=0).ravel()
        baseline = ShortcutBaseline(args.seed).fit(train_images, y_train)
        row = {
            "fold": k,
            "validation_slices": sorted({r.base_slice for r in validation}),
            "best_epoch": result.best_epoch,
            "model": classification_metrics(y_validation, probabilities, 0.5),
            "threshold_rule": choose_threshold(y_validation, probabilities),
            "baseline": classification_metrics(
                y_validation, baseline.fracture_probability(validation_images), 0.5
            ),
        }
        rows.append(row)
        print(
            f"fold {k}: best epoch {row['best_epoch']}, model acc "
            f"{row['model']['accuracy']:.4f} sens {row['model']['recall']:.4f} loss "
            f"{row['model']['loss']:.4f} | baseline acc {row['baseline']['accuracy']:.4f} "
            f"sens {row['baseline']['recall']:.4f}",
            flush=True,
        )
    summary = {
        who: {
            key: float(sum(r[who][key] for r in rows) / len(rows))
            for key in ("accuracy", "recall", "specificity", "loss", "roc_auc")
        }
        for who in ("model", "baseline")
    }
    report = {
        "recipe": vars(args) | {"root": str(args.root), "json": str(args.json)},
        "folds": rows,
        "mean": summary,
    }
    args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(
        f"mean over {len(rows)} folds: model acc {summary['model']['accuracy']:.4f} sens "
        f"{summary['model']['recall']:.4f} | baseline acc {summary['baseline']['accuracy']:.4f}"
        f" sens {summary['baseline']['recall']:.4f}  -> {args.json}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
