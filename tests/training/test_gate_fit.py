"""Fitting the input gate: thresholds from real-like slices, figures on held-out data, the CLI.

The dataset is generated (tests/synthetic.ct_slice in the Kaggle layout); the negatives are
the project's own generated families and scikit-image's shipped samples.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inference.gate import CHECKS, DEFAULT_SETTINGS, assess
from tests.synthetic import ct_slice, photo_like
from training import gate as gate_fitting
from training.gate_negatives import negative_families

THRESHOLD_KEYS = {key for _, key, _, _ in CHECKS}


def write_dataset(root: Path, slices_per_class: int = 6) -> int:
    """ROOT/train/{fracture,normal}/ with an original and two copies per base slice."""
    count = 0
    for class_name, fracture in (("fracture", True), ("normal", False)):
        folder = root / "train" / class_name
        folder.mkdir(parents=True)
        for index in range(slices_per_class):
            seed = 2 * index + int(fracture)
            stem = f"SYN{class_name[0].upper()} ({index + 1})"
            ct_slice(seed, size=256, fracture=fracture).save(folder / f"{stem}.png")
            small = ct_slice(seed, size=224, fracture=fracture, mode="RGB")
            small.rotate(5, fillcolor=(0, 0, 0)).save(folder / f"{stem}-rotated1.png")
            small.save(folder / f"{stem}-sharpened.png")
            count += 3
    return count


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, int]:
    root = tmp_path_factory.mktemp("gate") / "cervical"
    count = write_dataset(root)
    return gate_fitting.fit_gate(root, seed=0, per_family=6), root, count


def test_the_section_holds_every_threshold_the_gate_reads(fitted) -> None:
    section, _, _ = fitted
    assert set(section) >= THRESHOLD_KEYS
    assert set(DEFAULT_SETTINGS["scales"]) == set(section["scales"])
    assert section["min_dark_share"] < section["max_dark_share"]
    assert all(isinstance(section[key], float) for key in THRESHOLD_KEYS)
    json.dumps(section)  # model.json must be able to hold it


def test_validation_figures_are_on_held_out_slices_and_every_negative_family(fitted) -> None:
    section, _, count = fitted
    figures = section["validation"]
    fit = section["fit"]
    assert fit["real_ct_images"] + figures["real_ct_count"] == count
    assert figures["real_ct_base_slices"] >= 2
    assert figures["perturbed_ct_count"] == figures["real_ct_count"] * len(fit["perturbations"])
    assert figures["real_ct_accepted"] >= 0.9
    assert figures["negatives_refused"]["refused"] >= 0.9
    assert figures["negatives_gray_refused"]["refused"] >= 0.9
    families = figures["families"]
    for name in ("noise", "gradient", "chart", "text", "shapes", "blocky_scene", "skimage",
                 "other_wheels"):  # fmt: skip
        assert families[name]["count"] > 0
        assert families[f"{name}-gray"]["count"] == families[name]["count"]
    assert families["faces-gray"]["count"] > 0


def test_the_fitted_gate_accepts_new_slices_and_refuses_photographs(fitted) -> None:
    section, _, _ = fitted
    accepted = [assess(ct_slice(seed, size=224), section).passed for seed in range(100, 110)]
    assert np.mean(accepted) >= 0.9
    for seed in range(5):
        assert not assess(photo_like(seed), section).passed
        assert not assess(photo_like(seed).convert("L"), section).passed


def test_thresholds_sit_just_outside_what_real_slices_span() -> None:
    """Hand-computed: min/max widened by slack x max(5-95% spread, the minimum scale)."""
    rows = [
        {name: 0.0 for name in DEFAULT_SETTINGS["scales"]} | {"body_level": float(v)}
        for v in range(160, 261)  # body level 160..260: spread q95-q05 = 255-165 = 90
    ]
    settings = gate_fitting.fit_thresholds(rows, slack=0.25)
    assert settings["scales"]["body_level"] == pytest.approx(90.0)
    assert settings["min_body_level"] == pytest.approx(160 - 0.25 * 90)
    # chroma is 0 everywhere: the policy floor keeps JPEG noise from refusing a gray slice
    assert settings["max_chroma"] == gate_fitting.POLICY_FLOORS["max_chroma"]
    assert settings["scales"]["chroma"] == gate_fitting.MIN_SCALE["chroma"]
    assert settings["max_aspect"] == DEFAULT_SETTINGS["max_aspect"]  # a policy, not fitted


def test_negatives_are_seeded_and_come_in_gray_too() -> None:
    first = negative_families(seed=3, per_family=2)
    second = negative_families(seed=3, per_family=2)
    assert first.keys() == second.keys()
    for name in ("noise", "chart", "skimage"):
        assert np.array_equal(np.asarray(first[name][1]), np.asarray(second[name][1]))
    for name, images in first.items():
        if name.endswith("-gray"):
            assert {image.mode for image in images} == {"L"}


def test_cli_writes_only_the_input_gate_section(fitted, tmp_path, monkeypatch, capsys) -> None:
    section, root, _ = fitted
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    original = {"name": "cervical-fracture-ct", "threshold": 0.42, "input_gate": {}, "data": {}}
    (model_dir / "model.json").write_text(json.dumps(original))
    monkeypatch.setattr(gate_fitting, "fit_gate", lambda root, seed=0: section)
    assert gate_fitting.main([str(root), "--model-dir", str(model_dir)]) == 0
    written = json.loads((model_dir / "model.json").read_text())
    assert list(written) == list(original)
    assert written["threshold"] == 0.42 and written["data"] == {}
    assert written["input_gate"] == section
    assert "wrote input_gate" in capsys.readouterr().out


def test_cli_without_model_json_exits_2(fitted, tmp_path, monkeypatch, capsys) -> None:
    section, root, _ = fitted
    monkeypatch.setattr(gate_fitting, "fit_gate", lambda root, seed=0: section)
    assert gate_fitting.main([str(root), "--model-dir", str(tmp_path)]) == 2
    assert "no model.json" in capsys.readouterr().err


def test_cli_with_a_missing_dataset_exits_2(tmp_path, capsys) -> None:
    assert gate_fitting.main([str(tmp_path / "absent"), "--model-dir", str(tmp_path)]) == 2
    assert "not found" in capsys.readouterr().err
