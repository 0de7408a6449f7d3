"""Fit the input gate's thresholds on real slices and measure it, for model.json's "input_gate".

    python training/gate.py ../shared/data/cervical-fracture --model-dir model

The gate (inference/gate.py) is a one-class envelope: each statistic must lie within the
range real slices span. The range is fitted on the training side of the grouped split (by
base slice): every slice clean, under every perturbation of the robustness report (a
re-saved or rotated slice must not be refused), and under the zoom and windowing ranges
training augments with; then widened by `slack` times the positives' 5-95% spread.
Negatives play no part in fitting, so every negative is held out. The validation figures:
share of held-out real slices accepted (clean and perturbed), and share of each generated /
shipped negative family refused, in colour and in grayscale.
Note that the gate's statistics were chosen by a person looking at these families: the
figures that matter are on photographs the project never saw.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.gate import CHECKS, DEFAULT_SETTINGS, assess, image_features
from training.data import (
    DataError,
    ImageRecord,
    grouped_split,
    open_image,
    read_split,
    train_dir,
)
from training.gate_negatives import negative_families
from training.perturbations import PERTURBATIONS, brightness, contrast, zoom

EXIT_BAD_INPUT = 2
SLACK = 0.5
# Beyond the robustness report, the ranges training augments with (training/augment.py): a
# slice exported with a 10% wider or narrower field of view, or windowed 20% brighter,
# darker, flatter or steeper, must pass too. Without the zooms the fitted black-share range
# was so narrow that a 5% crop of a real slice was refused.
TOLERANCE = {
    "zoom_0.9": lambda image: zoom(image, 0.9),
    "zoom_1.1": lambda image: zoom(image, 1.1),
    "brightness_-20%": lambda image: brightness(image, 0.8),
    "brightness_+20%": lambda image: brightness(image, 1.2),
    "contrast_-20%": lambda image: contrast(image, 0.8),
    "contrast_+20%": lambda image: contrast(image, 1.2),
}
VARIANTS = {**PERTURBATIONS, **TOLERANCE}
# Smallest scale per statistic: real slices are exactly gray (chroma 0) and exactly square,
# so their spread is 0; a little JPEG colour noise or rounding must not count as a refusal.
MIN_SCALE = {
    "chroma": 3.0,
    "black_level": 5.0,
    "aspect": 0.25,
    "corner_dark": 0.05,
    "second_corner_dark": 0.05,
    "centre_contrast": 10.0,
    "inner_dark": 0.02,
    "dark_share": 0.02,
    "mid_share": 0.02,
    "body_level": 10.0,
}
# Policies, not fitted: a CT slice is square. Floors under fitted maxima: real slices are
# exactly gray, so the fitted colour limit would be ~0; block-averaged colour up to 3 (of 255)
# is still gray to the eye and to the model, while photographs sit far above it. Air in the
# airway or sinuses darkens part of the disc: series CSFDV1B11 shows 5-7% of it black, the
# other two series none, so a fit without B11 refused every B11 slice. The fitted limit is a
# property of the series, not of CT; 20% costs 0.2 points of gray negatives refused.
POLICY_KEYS = ("max_aspect",)
POLICY_FLOORS = {"max_chroma": 3.0, "max_inner_dark": 0.2}


def positive_features(records: list[ImageRecord], perturbed: bool = True) -> list[dict]:
    """Gate statistics of each slice, clean and (if `perturbed`) under each perturbation."""
    rows = []
    for record in records:
        image = open_image(record.path)
        rows.append(image_features(image))
        if perturbed:
            rows.extend(image_features(change(image)) for change in VARIANTS.values())
    return rows


def fit_thresholds(rows: list[dict], slack: float = SLACK) -> dict:
    """Thresholds just outside the range real slices span, and the scale of each statistic."""
    values = {name: np.array([row[name] for row in rows], dtype=float) for name in rows[0]}
    scales = {
        name: max(float(np.quantile(v, 0.95) - np.quantile(v, 0.05)), MIN_SCALE.get(name, 0.0))
        for name, v in values.items()
    }
    settings: dict = {"thumbnail": DEFAULT_SETTINGS["thumbnail"]}
    for feature, key, direction, _ in CHECKS:
        if key in POLICY_KEYS:
            settings[key] = DEFAULT_SETTINGS[key]
            continue
        v = values[feature]
        edge = v.min() if direction > 0 else v.max()
        threshold = float(edge - direction * slack * scales[feature])
        settings[key] = round(max(threshold, POLICY_FLOORS.get(key, threshold)), 4)
    settings["scales"] = {name: round(scale, 4) for name, scale in scales.items()}
    return settings


def accepted_share(images, settings: dict) -> tuple[float, int]:
    verdicts = [assess(image, settings).passed for image in images]
    return (float(np.mean(verdicts)) if verdicts else float("nan")), len(verdicts)


def validate(settings: dict, records: list[ImageRecord], families: dict[str, list]) -> dict:
    """The gate's figures on held-out real slices and on every negative family."""
    clean = [open_image(r.path) for r in records]
    clean_share, clean_count = accepted_share(clean, settings)
    perturbed_verdicts = [
        assess(change(image), settings).passed for image in clean for change in VARIANTS.values()
    ]
    refused = {}
    for name, images in families.items():
        share, count = accepted_share(images, settings)
        refused[name] = {"refused": round(1 - share, 4), "count": count}
    colour = [f for f in families if not f.endswith("-gray")]
    gray = [f for f in families if f.endswith("-gray")]

    def pooled(names: list[str]) -> dict:
        count = sum(refused[n]["count"] for n in names)
        hits = sum(refused[n]["refused"] * refused[n]["count"] for n in names)
        return {"refused": round(hits / count, 4) if count else None, "count": count}

    return {
        "real_ct_accepted": round(clean_share, 4),
        "real_ct_count": clean_count,
        "real_ct_base_slices": len({r.base_slice for r in records}),
        "perturbed_ct_accepted": round(float(np.mean(perturbed_verdicts)), 4),
        "perturbed_ct_count": len(perturbed_verdicts),
        "negatives_refused": pooled(colour),
        "negatives_gray_refused": pooled(gray),
        "families": refused,
    }


def fit_gate(train_root: Path, seed: int = 0, per_family: int = 40) -> dict:
    """model.json's "input_gate" section: thresholds fitted on real slices, then validated.

    Positives: every slice under train_root (all classes), split by base slice; the fit side
    sets the thresholds, the held-out side measures acceptance. Negatives: generated and
    shipped-in-a-wheel images (training/gate_negatives.py), never used for fitting.
    """
    records = read_split(train_dir(Path(train_root)))
    fit_records, held_out = grouped_split(records, validation_fraction=0.2, seed=seed)
    settings = fit_thresholds(positive_features(fit_records))
    families = negative_families(seed=seed + 1, per_family=per_family)
    return {
        **settings,
        "method": (
            "one-class envelope of cheap image statistics (inference/gate.py), fitted by "
            f"training/gate.py on real slices clean, perturbed, zoomed +-10%, windowed +-20%, "
            f"slack {SLACK} x 5-95% spread"
        ),
        "seed": seed,
        "fit": {
            "real_ct_images": len(fit_records),
            "base_slices": len({r.base_slice for r in fit_records}),
            "perturbations": sorted(VARIANTS),
        },
        "validation": validate(settings, held_out, families),
    }


def write_section(model_dir: Path, section: dict) -> Path:
    """Set model.json's "input_gate", keeping every other key and their order.

    MODEL_CARD.md, when the folder has one, is re-rendered from the updated model.json so
    the card never shows another gate's figures.
    """
    path = Path(model_dir) / "model.json"
    if not path.is_file():
        raise DataError(f"no model.json in {model_dir}: train or export a model first")
    metadata = json.loads(path.read_text())
    metadata["input_gate"] = section
    path.write_text(json.dumps(metadata, indent=2) + "\n")
    card = Path(model_dir) / "MODEL_CARD.md"
    if card.is_file():  # keep the card's gate figures in step with model.json
        from training.model_card import write_model_card

        write_model_card(Path(model_dir), metadata)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fit the input gate and write it to model.json.")
    parser.add_argument("root", type=Path, help="dataset folder (Kaggle layout)")
    parser.add_argument("--model-dir", type=Path, default=Path("model"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        section = fit_gate(args.root, seed=args.seed)
        path = write_section(args.model_dir, section)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    figures = section["validation"]
    print(json.dumps({k: v for k, v in figures.items() if k != "families"}, indent=2))
    print(f"wrote input_gate to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
