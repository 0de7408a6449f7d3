"""Metrics against a confusion matrix worked out by hand; intervals; threshold; baseline."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.synthetic import ct_slice
from training.evaluate import (
    ShortcutBaseline,
    bootstrap_intervals,
    choose_threshold,
    classification_metrics,
    per_slice,
)

# 10 images: labels and P(fracture). At threshold 0.5, by hand:
#   fracture images (label 1): 0.9 0.8 0.6 0.3 -> TP 3, FN 1
#   normal images   (label 0): 0.7 0.4 0.2 0.1 0.05 0.45 -> FP 1, TN 5
LABELS = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
PROBABILITIES = np.array([0.9, 0.8, 0.6, 0.3, 0.7, 0.4, 0.2, 0.1, 0.05, 0.45])


def test_metrics_match_the_hand_computed_confusion_matrix() -> None:
    result = classification_metrics(LABELS, PROBABILITIES, 0.5)
    assert result["confusion"] == {"tp": 3, "fn": 1, "fp": 1, "tn": 5}
    assert result["accuracy"] == pytest.approx(8 / 10)
    assert result["precision"] == pytest.approx(3 / 4)
    assert result["recall"] == pytest.approx(3 / 4)
    assert result["specificity"] == pytest.approx(5 / 6)
    assert result["f1"] == pytest.approx(2 * 3 / (2 * 3 + 1 + 1))
    # AUC by hand: of the 24 (fracture, normal) pairs, the fracture scores higher in all but
    # (0.6 vs 0.7), (0.3 vs 0.7), (0.3 vs 0.4), (0.3 vs 0.45): 20 / 24.
    assert result["roc_auc"] == pytest.approx(20 / 24)
    expected_loss = -np.mean(
        LABELS * np.log(PROBABILITIES) + (1 - LABELS) * np.log(1 - PROBABILITIES)
    )
    assert result["loss"] == pytest.approx(expected_loss)


def test_a_lower_threshold_trades_specificity_for_sensitivity() -> None:
    result = classification_metrics(LABELS, PROBABILITIES, 0.25)
    assert result["confusion"] == {"tp": 4, "fn": 0, "fp": 3, "tn": 3}


def test_per_slice_averages_the_copies_of_each_base_slice() -> None:
    labels, probabilities = per_slice(
        np.array([1, 1, 0, 0, 0]), np.array([0.9, 0.5, 0.2, 0.4, 0.0]), ["a", "a", "b", "b", "c"]
    )
    assert labels.tolist() == [1, 0, 0]
    assert probabilities.tolist() == pytest.approx([0.7, 0.3, 0.0])


def test_bootstrap_interval_brackets_the_estimate_and_resamples_slices() -> None:
    groups = [f"s{i // 2}" for i in range(len(LABELS))]
    intervals = bootstrap_intervals(LABELS, PROBABILITIES, groups, 0.5, repeats=300)
    low, high = intervals["accuracy"]
    assert low <= 0.8 <= high
    assert high - low > 0.1  # five slices: the interval must be wide, not image-narrow


def test_threshold_rule_favours_sensitivity() -> None:
    # Separated classes: the log-odds midpoint of 0.1 and 0.7 is below 0.5.
    separated = choose_threshold(np.array([1, 0]), np.array([0.7, 0.1]))
    assert separated == pytest.approx(1 / (1 + math.exp(-(math.log(7 / 3) + math.log(1 / 9)) / 2)))
    assert 0.1 < separated < 0.5
    # A clean gap high up still never lifts the threshold above 0.5.
    assert choose_threshold(np.array([1, 0]), np.array([0.999, 0.9])) == 0.5
    # Overlap: half the lowest fracture score, so every validation fracture is caught.
    lowered = choose_threshold(LABELS, PROBABILITIES)
    assert lowered == pytest.approx(0.15)
    assert all(PROBABILITIES[LABELS == 1] >= lowered)
    assert choose_threshold(np.array([1, 0]), np.array([0.01, 0.2])) == 0.05


def test_shortcut_baseline_learns_the_coarse_layout() -> None:
    images = [ct_slice(seed, 64, fracture=seed % 2 == 1) for seed in range(40)]
    labels = np.array([seed % 2 for seed in range(40)])
    # Make the classes differ by layout only, as the real dataset's levels do.
    shifted = [
        im.rotate(0, translate=(12, 0)) if lab else im
        for im, lab in zip(images, labels, strict=True)
    ]
    baseline = ShortcutBaseline().fit(shifted[:30], labels[:30])
    probabilities = baseline.fracture_probability(shifted[30:])
    accuracy = np.mean((probabilities >= 0.5) == labels[30:])
    assert accuracy >= 0.9
    assert not math.isnan(float(probabilities.sum()))
