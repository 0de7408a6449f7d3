"""The parts of an export that describe the model beyond its metrics: pictures, the input
gate's thresholds and the robustness report.

The gate and the robustness report are written by training/gate.py and training/robustness.py;
until those exist the export goes on without them and says so, so a model can always be made.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from training import figures
from training.data import train_dir


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def input_gate(root: Path, seed: int) -> dict:
    try:
        from training.gate import fit_gate
    except ImportError as exc:
        _warn(f"input gate not fitted: training/gate.py unavailable ({exc})")
        return {}
    return fit_gate(train_dir(root), seed=seed)


def robustness(predict, images, labels: np.ndarray, threshold: float) -> dict:
    try:
        from training.robustness import robustness_report
    except ImportError as exc:
        _warn(f"robustness report skipped: training/robustness.py unavailable ({exc})")
        return {}
    return robustness_report(predict, images, labels, threshold)


def export_reports(
    *,
    args: argparse.Namespace,
    root: Path,
    staging: Path,
    predict,
    history: dict,
    validation_images: list,
    y_validation: np.ndarray,
    validation_probabilities: np.ndarray,
    threshold: float,
    test: tuple | None,
) -> dict:
    """Write the PNGs into `staging`; return the model.json sections they add."""
    from training.evaluate import classification_metrics

    written = []
    figures.training_curves(history, staging / "training_curves.png")
    written.append("training_curves.png")
    cells = classification_metrics(y_validation, validation_probabilities, threshold)["confusion"]
    figures.confusion_matrix(cells, "validation", staging / "confusion_validation.png")
    written.append("confusion_validation.png")
    curves = {"validation": (y_validation, validation_probabilities)}
    if test is not None:
        y_test, test_probabilities, test_metrics = test
        curves["test"] = (y_test, test_probabilities)
        figures.confusion_matrix(
            test_metrics["per_image"]["confusion"], "test", staging / "confusion_test.png"
        )
        written.append("confusion_test.png")
    figures.roc(curves, staging / "roc.png")
    written.append("roc.png")
    figures.example_grid(
        validation_images,
        y_validation,
        validation_probabilities,
        threshold,
        staging / "examples.png",
        seed=args.seed,
    )
    written.append("examples.png")
    sections: dict = {"figures": written}
    sections["input_gate"] = {} if args.no_gate else input_gate(root, args.seed)
    if not args.no_robustness:
        sections["robustness"] = robustness(predict, validation_images, y_validation, threshold)
    return sections
