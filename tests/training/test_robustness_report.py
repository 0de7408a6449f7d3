"""The robustness report's arithmetic, with a predictor whose answers can be worked out by hand.

The stand-in model says "fracture" when the mean gray is above 100. On flat images of gray
110, 90, 120 and 50 (labels 1, 0, 1, 0) it is right on all four clean; 15% darker turns 110
into 93.5 (a missed fracture), 15% brighter turns 90 into 103.5 (a false alarm).
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from training.robustness import format_table, robustness_report, scores


def brightness_model(images: list[Image.Image]) -> np.ndarray:
    return np.array([float(np.asarray(im.convert("L"), dtype=float).mean() > 100) for im in images])


IMAGES = [Image.new("L", (32, 32), v) for v in (110, 90, 120, 50)]
LABELS = np.array([1, 0, 1, 0])


@pytest.fixture(scope="module")
def report() -> dict:
    return robustness_report(brightness_model, IMAGES, LABELS, threshold=0.5)


def test_clean_scores(report: dict) -> None:
    assert report["clean"] == {"accuracy": 1.0, "sensitivity": 1.0}
    assert report["images"] == 4 and report["fracture_images"] == 2


def test_darker_images_miss_a_fracture(report: dict) -> None:
    row = report["perturbations"]["brightness_-15%"]
    assert row["accuracy"] == 0.75 and row["accuracy_drop"] == 25.0
    assert row["sensitivity"] == 0.5 and row["sensitivity_drop"] == 50.0
    assert row["flipped"] == 0.25
    assert row["probability_shift"] == 0.25  # one answer of four moved from 1.0 to 0.0
    assert row["over_limit"] is True


def test_brighter_images_raise_a_false_alarm_but_keep_sensitivity(report: dict) -> None:
    row = report["perturbations"]["brightness_+15%"]
    assert row["accuracy_drop"] == 25.0 and row["sensitivity_drop"] == 0.0
    assert row["over_limit"] is True


def test_colour_mode_changes_do_not_matter_to_this_model(report: dict) -> None:
    for name in ("grayscale", "rgb", "size_512"):
        row = report["perturbations"][name]
        assert row["accuracy_drop"] == 0.0 and row["flipped"] == 0.0
        assert row["probability_shift"] == 0.0
        assert row["over_limit"] is False
    assert "grayscale" not in report["over_limit"]
    assert {"brightness_-15%", "brightness_+15%"} <= set(report["over_limit"])


def test_every_condition_is_reported_and_printed(report: dict) -> None:
    assert len(report["perturbations"]) == 12
    table = format_table(report)
    for name in report["perturbations"]:
        assert name in table
    assert "> 2 points" in table


def test_a_model_that_ignores_its_input_never_drops() -> None:
    constant = robustness_report(lambda ims: np.full(len(ims), 0.9), IMAGES, LABELS, 0.5)
    assert constant["clean"]["accuracy"] == 0.5
    assert constant["over_limit"] == []
    assert all(row["accuracy_drop"] == 0.0 for row in constant["perturbations"].values())


def test_scores_threshold_inclusive_and_no_fracture_means_no_sensitivity() -> None:
    assert scores(np.array([0.5, 0.49]), np.array([1, 0]), 0.5) == {
        "accuracy": 1.0,
        "sensitivity": 1.0,
    }
    assert np.isnan(scores(np.array([0.1]), np.array([0]), 0.5)["sensitivity"])


def test_mismatched_labels_are_refused() -> None:
    with pytest.raises(ValueError, match="as many labels"):
        robustness_report(brightness_model, IMAGES, LABELS[:3], 0.5)


def test_the_cli_evaluates_the_split_model_json_names(tmp_path) -> None:
    from tests.synthetic import ct_slice
    from training.robustness import evaluation_records

    for class_name in ("fracture", "normal"):
        folder = tmp_path / "train" / class_name
        folder.mkdir(parents=True)
        for index in range(3):
            stem = f"SYN{class_name[0].upper()} ({index})"
            ct_slice(index, size=64).save(folder / f"{stem}.png")
            ct_slice(index, size=64).save(folder / f"{stem}-rotated1.png")
    named = {"split": {"validation": {"base_slices": ["SYNF (1)", "SYNN (2)"]}}}
    records, source = evaluation_records(tmp_path, named)
    assert sorted(r.path.name for r in records) == [
        "SYNF (1)-rotated1.png", "SYNF (1).png", "SYNN (2)-rotated1.png", "SYNN (2).png",
    ]  # fmt: skip
    assert "model.json" in source
    everything, source = evaluation_records(tmp_path, {})
    assert len(everything) == 12 and "every image" in source


def test_the_cli_without_a_model_exits_2(tmp_path, capsys) -> None:
    from training.robustness import main

    assert main([str(tmp_path), "--model-dir", str(tmp_path / "no-model")]) == 2
    assert "model metadata not found" in capsys.readouterr().err
