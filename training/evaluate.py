"""Metrics, bootstrap intervals, the decision threshold and the shortcut baseline.

Everything is computed for the positive class "fracture" (label 1). Intervals resample base
slices, not images: the ~21 copies of one slice are not independent evidence, and an interval
over images would be far too narrow.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

THRESHOLD_RULE = (
    "on validation: if every fracture scores above every normal slice, the midpoint in log-odds "
    "between the lowest fracture and the highest normal probability; otherwise half the lowest "
    "fracture probability (so every validation fracture is caught); capped at 0.5 (never less "
    "sensitive than the default) and floored at 0.05"
)
BASELINE_DESCRIPTION = "logistic regression on 16x16 grayscale thumbnails (scikit-learn)"
EPSILON = 1e-7


def confusion(labels: np.ndarray, predicted: np.ndarray) -> dict[str, int]:
    labels, predicted = np.asarray(labels).astype(int), np.asarray(predicted).astype(int)
    return {
        "tp": int(np.sum((labels == 1) & (predicted == 1))),
        "fp": int(np.sum((labels == 0) & (predicted == 1))),
        "tn": int(np.sum((labels == 0) & (predicted == 0))),
        "fn": int(np.sum((labels == 1) & (predicted == 0))),
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return float(numerator / denominator) if denominator else None


def classification_metrics(labels: np.ndarray, probabilities: np.ndarray, threshold: float) -> dict:
    """Loss, accuracy, precision, recall (sensitivity), F1, specificity, ROC AUC, confusion."""
    labels = np.asarray(labels, dtype=np.float64).reshape(-1)
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    cells = confusion(labels, probabilities >= threshold)
    tp, fp, tn, fn = cells["tp"], cells["fp"], cells["tn"], cells["fn"]
    clipped = np.clip(probabilities, EPSILON, 1 - EPSILON)
    loss = -np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped))
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    both_classes = 0 < labels.sum() < len(labels)
    return {
        "n": len(labels),
        "loss": float(loss),
        "accuracy": _ratio(tp + tn, len(labels)),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "specificity": _ratio(tn, tn + fp),
        "roc_auc": float(roc_auc_score(labels, probabilities)) if both_classes else None,
        "confusion": cells,
        "threshold": float(threshold),
    }


def per_slice(labels: np.ndarray, probabilities: np.ndarray, groups: list[str]):
    """One row per base slice: its label and the mean probability over its copies."""
    names = sorted(set(groups))
    index = {name: i for i, name in enumerate(names)}
    ids = np.array([index[g] for g in groups])
    counts = np.bincount(ids, minlength=len(names))
    mean_probability = np.bincount(ids, weights=probabilities, minlength=len(names)) / counts
    slice_labels = np.bincount(ids, weights=labels, minlength=len(names)) / counts
    return np.round(slice_labels), mean_probability


def bootstrap_intervals(
    labels: np.ndarray,
    probabilities: np.ndarray,
    groups: list[str],
    threshold: float,
    repeats: int = 1000,
    seed: int = 0,
) -> dict[str, list[float]]:
    """95% percentile intervals of accuracy, sensitivity, specificity, F1 and AUC.

    Each repeat draws base slices with replacement within each class (so both classes stay
    present) and takes all copies of each drawn slice.
    """
    labels = np.asarray(labels).reshape(-1)
    probabilities = np.asarray(probabilities).reshape(-1)
    rng = np.random.default_rng(seed)
    members: dict[str, np.ndarray] = {}
    for name in sorted(set(groups)):
        members[name] = np.flatnonzero(np.array(groups) == name)
    by_class = [[n for n in members if labels[members[n][0]] == c] for c in (0, 1)]
    if not by_class[0] or not by_class[1]:
        return {}
    samples: dict[str, list[float]] = {
        k: [] for k in ("accuracy", "recall", "specificity", "f1", "roc_auc")
    }
    for _ in range(repeats):
        drawn = [rng.choice(names, len(names)) for names in by_class]
        rows = np.concatenate([members[n] for names in drawn for n in names])
        result = classification_metrics(labels[rows], probabilities[rows], threshold)
        for key in samples:
            if result[key] is not None:
                samples[key].append(result[key])
    return {
        key: [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))]
        for key, v in samples.items()
        if v
    }


def evaluate_split(
    labels: np.ndarray, probabilities: np.ndarray, groups: list[str], threshold: float
) -> dict:
    """Per-image and per-base-slice metrics with slice-resampled 95% intervals."""
    slice_labels, slice_probabilities = per_slice(labels, probabilities, groups)
    return {
        "per_image": classification_metrics(labels, probabilities, threshold),
        "per_base_slice": classification_metrics(slice_labels, slice_probabilities, threshold),
        "intervals_95": bootstrap_intervals(labels, probabilities, groups, threshold),
        "base_slices": len(set(groups)),
    }


def _logit(p: float) -> float:
    p = min(max(p, EPSILON), 1 - EPSILON)
    return float(np.log(p / (1 - p)))


def choose_threshold(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """The sensitivity-favouring rule of THRESHOLD_RULE, applied to validation outputs.

    A missed fracture costs more than a second look at a normal slice, so the threshold never
    rises above 0.5; when validation separates the classes, the middle of the gap (in log-odds,
    where a sigmoid's margins are symmetric) leaves the most room on both sides.
    """
    labels = np.asarray(labels).reshape(-1)
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    fractures, normals = probabilities[labels == 1], probabilities[labels == 0]
    if fractures.size == 0:
        return 0.5
    lowest_fracture = float(fractures.min())
    if normals.size and float(normals.max()) < lowest_fracture:
        middle = (_logit(lowest_fracture) + _logit(float(normals.max()))) / 2
        threshold = 1 / (1 + np.exp(-middle))
    else:
        threshold = lowest_fracture / 2
    return float(min(0.5, max(0.05, threshold)))


def thumbnail(image: Image.Image) -> np.ndarray:
    """The shortcut baseline's view of a slice: 16x16 grayscale, 0..1."""
    small = image.convert("L").resize((16, 16), Image.BILINEAR)
    return np.asarray(small, dtype=np.float32).reshape(-1) / 255.0


class ShortcutBaseline:
    """Logistic regression on 16x16 thumbnails: coarse layout only, no fracture detail.

    The classes of this dataset differ by scan series and slice level, so this baseline is
    strong; a CNN that does not beat it has shown nothing the layout did not already give.
    """

    def __init__(self, seed: int = 0):
        self.model = LogisticRegression(max_iter=5000, C=1.0, random_state=seed)

    def fit(self, images: list[Image.Image], labels: np.ndarray) -> ShortcutBaseline:
        self.model.fit(np.stack([thumbnail(im) for im in images]), np.asarray(labels).astype(int))
        return self

    def fracture_probability(self, images: list[Image.Image]) -> np.ndarray:
        return self.model.predict_proba(np.stack([thumbnail(im) for im in images]))[:, 1]
