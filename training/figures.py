"""The pictures of a training run: curves, confusion matrix, ROC curve, example predictions.

Matplotlib with the Agg backend, so runs on a machine without a display.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from sklearn.metrics import roc_curve

CLASS_NAMES = ("normal", "fracture")


def training_curves(history: dict[str, list[float]], path: Path) -> None:
    """Loss and AUC per epoch, train beside validation."""
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, key in zip(axes, ("loss", "auc"), strict=True):
        for prefix, style in (("", "-"), ("val_", "--")):
            values = history.get(prefix + key)
            if values:
                axis.plot(
                    range(1, len(values) + 1), values, style, label=(prefix or "train_") + key
                )
        axis.set_xlabel("epoch")
        axis.set_title(key + (" (log scale)" if key == "loss" else ""))
        if key == "loss":
            axis.set_yscale("log")  # near-zero validation losses still differ by decades
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def confusion_matrix(cells: dict[str, int], title: str, path: Path) -> None:
    """Rows = true class, columns = predicted class, counts in the cells."""
    matrix = np.array([[cells["tn"], cells["fp"]], [cells["fn"], cells["tp"]]])
    figure, axis = plt.subplots(figsize=(4, 4))
    axis.imshow(matrix, cmap="Blues")
    for (row, col), value in np.ndenumerate(matrix):
        axis.text(
            col,
            row,
            str(value),
            ha="center",
            va="center",
            color="white" if value > matrix.max() / 2 else "black",
        )
    axis.set_xticks([0, 1], CLASS_NAMES)
    axis.set_yticks([0, 1], CLASS_NAMES)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def roc(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path) -> None:
    """One ROC curve per (name -> labels, probabilities)."""
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    for name, (labels, probabilities) in curves.items():
        if 0 < np.sum(labels) < len(labels):
            fpr, tpr, _ = roc_curve(labels, probabilities)
            axis.plot(fpr, tpr, label=name)
    axis.plot([0, 1], [0, 1], ":", color="grey")
    axis.set_xlabel("1 - specificity")
    axis.set_ylabel("sensitivity (fracture)")
    axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def example_grid(
    images: list[Image.Image],
    labels: np.ndarray,
    probabilities: np.ndarray,
    threshold: float,
    path: Path,
    count: int = 16,
    seed: int = 0,
) -> None:
    """A grid of slices with true label, predicted label and P(fracture); errors in red."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(images), size=min(count, len(images)), replace=False)
    columns = 4
    rows = int(np.ceil(len(chosen) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.8 * rows), squeeze=False)
    for axis in axes.ravel():
        axis.axis("off")
    for axis, index in zip(axes.ravel(), chosen, strict=False):
        true = CLASS_NAMES[int(labels[index])]
        predicted = CLASS_NAMES[int(probabilities[index] >= threshold)]
        axis.imshow(images[index].convert("L").resize((160, 160)), cmap="gray")
        axis.set_title(
            f"true {true}\npred {predicted} p={probabilities[index]:.2f}",
            fontsize=8,
            color="black" if true == predicted else "red",
        )
    figure.tight_layout()
    figure.savefig(path, dpi=60)
    plt.close(figure)
