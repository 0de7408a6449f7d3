"""One whole training run on the synthetic dataset: what lands in the model folder."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from inference.model import FractureModel, sha256_of
from inference.preprocessing import image_to_tensor
from training.data import read_split
from training.evaluate import confusion

SCHEMA_KEYS = {
    "name",
    "version",
    "file",
    "sha256",
    "created",
    "architecture",
    "quantization",
    "input",
    "preprocessing",
    "classes",
    "positive_class",
    "output",
    "threshold",
    "threshold_rule",
    "runtime",
    "input_gate",
    "data",
    "split",
    "metrics",
    "baseline",
    "robustness",
}


def test_model_folder_holds_model_metadata_card_and_pictures(trained) -> None:
    out, _ = trained
    names = {p.name for p in out.iterdir()}
    assert {"cervical_fracture.tflite", "model.json", "MODEL_CARD.md"} <= names
    assert {
        "training_curves.png",
        "confusion_validation.png",
        "confusion_test.png",
        "roc.png",
        "examples.png",
    } <= names
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".model-staging-")]


def test_model_json_follows_the_contract(trained) -> None:
    out, document = trained
    on_disk = json.loads((out / "model.json").read_text())
    assert set(on_disk) >= SCHEMA_KEYS
    assert on_disk["sha256"] == sha256_of(out / "cervical_fracture.tflite")
    assert on_disk["classes"] == ["fracture", "normal"]
    assert on_disk["positive_class"] == "fracture"
    assert on_disk["input"] == {"size": [32, 32], "channels": 3, "dtype": "float32"}
    assert on_disk["preprocessing"]["name"] == "xception"
    assert on_disk["file"] == "cervical_fracture.tflite"
    assert on_disk["name"] == "cervical-fracture-ct"
    assert 0.05 <= on_disk["threshold"] <= 0.5
    assert on_disk == document


def test_export_check_and_leak_audit_are_recorded(trained) -> None:
    _, document = trained
    assert document["training"]["keras_vs_tflite_max_abs_diff"] < 1e-4
    audit = document["data"]["audit"]
    assert audit["leakage"] is True  # the planted train/test copy
    assert any(pair["exact_duplicates"] == 1 for pair in audit["cross_split"])


def test_validation_and_test_split_are_disjoint_by_base_slice_in_the_report(trained) -> None:
    _, document = trained
    split = document["split"]
    assert not set(split["train"]["base_slices"]) & set(split["validation"]["base_slices"])
    assert split["seed"] == 0


def test_reported_confusion_matrices_match_the_served_model(trained, dataset) -> None:
    """Recount the test split's confusion matrix by hand through the serving path."""
    out, document = trained
    served = FractureModel(out)
    records = read_split(dataset.root / "val")
    probabilities = []
    for record in records:
        image = Image.open(io.BytesIO(record.path.read_bytes()))
        tensor = image_to_tensor(image, "xception", served.card.input_size)
        probabilities.append(served.fracture_probability(tensor))
    predicted = np.array(probabilities) >= document["threshold"]
    labels = np.array([r.label for r in records])
    expected = {
        "tp": int(np.sum(predicted & (labels == 1))),
        "fp": int(np.sum(predicted & (labels == 0))),
        "tn": int(np.sum(~predicted & (labels == 0))),
        "fn": int(np.sum(~predicted & (labels == 1))),
    }
    assert expected == confusion(labels, predicted)
    assert document["metrics"]["test"]["per_image"]["confusion"] == expected
    assert document["metrics"]["test"]["per_image"]["n"] == len(records)
    assert document["metrics"]["test"]["base_slices"] == len({r.base_slice for r in records})


def test_baseline_sits_beside_the_model_in_json_and_card(trained) -> None:
    out, document = trained
    assert set(document["baseline"]) >= {"description", "validation", "test"}
    card = (out / "MODEL_CARD.md").read_text()
    assert "shortcut baseline / test" in card
    assert "not a diagnostic device" in card
    assert "Anatomical-level and series confound" in card
    assert f"{document['threshold']:.3f}" in card


def test_final_fit_on_all_data_keeps_the_held_out_figures(dataset, tmp_path) -> None:
    from tests.training.conftest import train_args
    from training.pipeline import run

    out = tmp_path / "refit"
    document = run(train_args(dataset.root, out, final_fit="all", epochs=1))
    metrics = document["metrics"]
    assert "validation_before_refit" in metrics
    assert "seen by the refit" in metrics["note"]
    assert document["training"]["final_fit"]["on"].startswith("train + validation")
    assert document["training"]["final_fit"]["learning_rates"] == [pytest.approx(0.01)]
    assert "before refit / validation (held out)" in (out / "MODEL_CARD.md").read_text()
    FractureModel(out)  # the refit model is what was exported, and it loads
