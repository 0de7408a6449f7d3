"""One synthetic dataset and one small training run, shared by the training tests.

Training is the slow part (TensorFlow start-up, a few epochs on 2 cores), so it happens once
per session, in process, at a 32x32 input size.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tests.training.kaggle_layout import SyntheticDataset, write_kaggle_dataset

SIZE = 32


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> SyntheticDataset:
    return write_kaggle_dataset(tmp_path_factory.mktemp("kaggle") / "cervical fracture")


def train_args(root: Path, out: Path, **overrides) -> argparse.Namespace:
    """The Namespace train.py's parser would make, for a tiny, quick run."""
    from training.train import parse_args

    argv = [
        str(root),
        "--out",
        str(out),
        "--arch",
        "slicenet",
        "--size",
        str(SIZE),
        "--epochs",
        "2",
        "--batch-size",
        "8",
        "--optimizer",
        "adam",
        "--learning-rate",
        "0.01",
        "--no-gate",
        "--no-robustness",
        "--quiet",
    ]
    args = parse_args(argv)
    for key, value in overrides.items():
        setattr(args, key, value)
    return args


@pytest.fixture(scope="session")
def trained(dataset: SyntheticDataset, tmp_path_factory: pytest.TempPathFactory):
    """(model_dir, model.json document) of one run of the whole pipeline."""
    from training.pipeline import run

    out = tmp_path_factory.mktemp("run") / "model"
    document = run(train_args(dataset.root, out))
    return out, document
