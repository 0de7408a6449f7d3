"""Does the answer survive what happens to a slice on its way to the service?

    python training/robustness.py ../shared/data/cervical-fracture --model-dir model

A real slice that was re-saved as JPEG, rotated a little, windowed brighter or flatter, is a
little noisier, arrives as gray instead of RGB or at 512x512 must not flip the answer. The
report gives accuracy and fracture sensitivity (label 1 = fracture) clean and under each
perturbation of training/perturbations.py, the drop in points from clean, the share of
answers that flipped, the mean absolute change of P(fracture) (which still moves when
accuracy sits at 100% and cannot drop), and a flag on every accuracy or sensitivity drop
over 2 points.

The CLI evaluates the shipped model through the serving path (the .tflite interpreter and
inference.preprocessing) on the validation base slices that model.json's "split" names, or on
every image under ROOT when model.json has no split.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.perturbations import PERTURBATIONS

MAX_DROP_POINTS = 2.0
EXIT_BAD_INPUT = 2

Predict = Callable[[list[Image.Image]], np.ndarray]


def scores(probabilities: np.ndarray, labels: np.ndarray, threshold: float) -> dict:
    """Accuracy and fracture sensitivity of thresholded P(fracture)."""
    predicted = np.asarray(probabilities, dtype=float).reshape(-1) >= threshold
    truth = np.asarray(labels).reshape(-1).astype(int) == 1
    sensitivity = float(predicted[truth].mean()) if truth.any() else float("nan")
    return {"accuracy": float((predicted == truth).mean()), "sensitivity": sensitivity}


def robustness_report(
    predict: Predict,
    images: list[Image.Image],
    labels: np.ndarray,
    threshold: float,
) -> dict:
    """Clean vs perturbed accuracy and sensitivity, with drops in points and >2-point flags."""
    labels = np.asarray(labels).reshape(-1)
    if len(images) == 0 or len(images) != len(labels):
        raise ValueError(f"need as many labels as images, got {len(images)} and {len(labels)}")
    clean_probabilities = np.asarray(predict(list(images)), dtype=float).reshape(-1)
    clean = scores(clean_probabilities, labels, threshold)
    clean_predicted = clean_probabilities >= threshold
    rows: dict[str, dict] = {}
    for name, change in PERTURBATIONS.items():
        probabilities = np.asarray(predict([change(image) for image in images]), dtype=float)
        perturbed = scores(probabilities.reshape(-1), labels, threshold)
        accuracy_drop = 100 * (clean["accuracy"] - perturbed["accuracy"])
        sensitivity_drop = 100 * (clean["sensitivity"] - perturbed["sensitivity"])
        flipped = float(((probabilities.reshape(-1) >= threshold) != clean_predicted).mean())
        shift = float(np.abs(probabilities.reshape(-1) - clean_probabilities).mean())
        rows[name] = {
            "accuracy": round(perturbed["accuracy"], 4),
            "sensitivity": _round(perturbed["sensitivity"]),
            "accuracy_drop": round(accuracy_drop, 2),
            "sensitivity_drop": _round(sensitivity_drop, 2),
            "flipped": round(flipped, 4),
            "probability_shift": round(shift, 4),
            "over_limit": bool(
                accuracy_drop > MAX_DROP_POINTS
                or (np.isfinite(sensitivity_drop) and sensitivity_drop > MAX_DROP_POINTS)
            ),
        }
    return {
        "threshold": float(threshold),
        "images": len(images),
        "fracture_images": int((labels == 1).sum()),
        "clean": {
            "accuracy": round(clean["accuracy"], 4),
            "sensitivity": _round(clean["sensitivity"]),
        },
        "drop_unit": "points (percentage points, clean minus perturbed)",
        "limit_points": MAX_DROP_POINTS,
        "perturbations": rows,
        "over_limit": [name for name, row in rows.items() if row["over_limit"]],
    }


def _round(value: float, digits: int = 4) -> float | None:
    return round(float(value), digits) if np.isfinite(value) else None


def format_table(report: dict) -> str:
    """The report as a plain-text table for the terminal."""
    clean = report["clean"]
    lines = [
        f"{report['images']} images ({report['fracture_images']} fracture), "
        f"threshold {report['threshold']}",
        f"{'condition':18s} {'accuracy':>9s} {'sensitivity':>12s} {'acc drop':>9s} "
        f"{'sens drop':>10s} {'flipped':>8s} {'p shift':>8s}",
        f"{'clean':18s} {clean['accuracy']:9.4f} {_cell(clean['sensitivity']):>12s}",
    ]
    for name, row in report["perturbations"].items():
        mark = "  > 2 points" if row["over_limit"] else ""
        lines.append(
            f"{name:18s} {row['accuracy']:9.4f} {_cell(row['sensitivity']):>12s} "
            f"{row['accuracy_drop']:9.2f} {_cell(row['sensitivity_drop'], '.2f'):>10s} "
            f"{row['flipped']:8.4f} {row['probability_shift']:8.4f}{mark}"
        )
    return "\n".join(lines)


def _cell(value: float | None, spec: str = ".4f") -> str:
    return "n/a" if value is None else format(value, spec)


def serving_predict(model_dir: Path) -> tuple[Predict, dict]:
    """P(fracture) through the shipped .tflite and the serving preprocessing, and model.json."""
    from inference.model import FractureModel
    from inference.preprocessing import image_to_tensor

    model = FractureModel(model_dir)
    card = model.card

    def predict(images: list[Image.Image]) -> np.ndarray:
        return np.array(
            [
                model.fracture_probability(
                    image_to_tensor(image, card.preprocessing, card.input_size)
                )
                for image in images
            ]
        )

    return predict, card.metadata


def evaluation_records(root: Path, metadata: dict) -> tuple[list, str]:
    """The validation base slices model.json names, else every image under ROOT."""
    from training.data import read_split, train_dir

    records = read_split(train_dir(root))
    named = set((metadata.get("split") or {}).get("validation", {}).get("base_slices") or [])
    if named:
        chosen = [r for r in records if r.base_slice in named]
        if chosen:
            return chosen, f"validation split from model.json ({len(named)} base slices)"
    return records, "every image under ROOT (model.json names no validation split)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Robustness of the shipped model.")
    parser.add_argument("root", type=Path, help="dataset folder (Kaggle layout)")
    parser.add_argument("--model-dir", type=Path, default=Path("model"))
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    from inference.errors import ModelError
    from training.data import DataError, labels_of, open_image

    try:
        predict, metadata = serving_predict(args.model_dir)
        records, source = evaluation_records(args.root, metadata)
        images = [open_image(r.path) for r in records]
    except (DataError, ModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    report = robustness_report(predict, images, labels_of(records), float(metadata["threshold"]))
    report["evaluated_on"] = source
    print(json.dumps(report, indent=2) if args.json else f"{source}\n{format_table(report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
