"""Grouped K-fold cross-validation: every base slice held out exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.data import DataError, grouped_folds, read_split, train_dir


def test_folds_hold_out_every_base_slice_once_and_never_leak(dataset) -> None:
    records = read_split(train_dir(dataset.root))
    folds = grouped_folds(records, 3, seed=1)
    for name in {r.base_slice for r in records}:
        assert sum(any(r.base_slice == name for r in v) for _, v in folds) == 1
    for train, validation in folds:
        assert not {r.base_slice for r in train} & {r.base_slice for r in validation}
        assert {r.label for r in validation} == {0, 1}
        assert len(train) + len(validation) == len(records)


def test_too_many_folds_is_a_data_error(dataset) -> None:
    records = read_split(train_dir(dataset.root))
    with pytest.raises(DataError, match="cannot fill"):
        grouped_folds(records, 7)


def test_crossval_reports_model_and_baseline_per_fold(dataset, tmp_path: Path) -> None:
    from training.card_sections import crossval_summary, crossval_table
    from training.crossval import main

    target = tmp_path / "cv.json"
    argv = [
        str(dataset.root),
        "--folds",
        "2",
        "--epochs",
        "1",
        "--size",
        "32",
        "--batch-size",
        "8",
        "--json",
        str(target),
    ]
    assert main(argv) == 0
    report = json.loads(target.read_text())
    assert [row["fold"] for row in report["folds"]] == [0, 1]
    for row in report["folds"]:
        assert row["model"]["n"] > 0
        assert "confusion" in row["baseline"]
    table = crossval_table(crossval_summary(report))
    assert table.count("\n| ") >= 3  # two folds and the mean
