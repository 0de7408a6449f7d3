"""--download and --weights imagenet take the real code path and fail with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.data import DataError
from training.download import KAGGLE_DATASET, fetch_dataset, kaggle_root


def test_download_offline_is_one_clear_data_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import kagglehub

    def offline(handle: str, *args, **kwargs):
        assert handle == KAGGLE_DATASET
        raise ConnectionError("Max retries exceeded\nwith a second line")

    monkeypatch.setattr(kagglehub, "dataset_download", offline)
    with pytest.raises(DataError) as caught:
        fetch_dataset()
    message = str(caught.value)
    assert "\n" not in message
    assert "ConnectionError" in message and "Kaggle credentials" in message


def test_download_finds_the_nested_kaggle_folder(tmp_path: Path) -> None:
    nested = tmp_path / "versions" / "1" / "cervical fracture"
    (nested / "train" / "fracture").mkdir(parents=True)
    assert kaggle_root(tmp_path) == nested
    with pytest.raises(DataError, match="no train/ folder"):
        kaggle_root(tmp_path / "versions" / "1" / "cervical fracture" / "train" / "fracture")


def test_imagenet_weights_offline_raise_weights_unavailable(monkeypatch) -> None:
    from keras.src.utils import file_utils

    from training.models import WeightsUnavailable, build_model

    def no_network(*args, **kwargs):
        raise OSError("URL fetch failure: no network")

    monkeypatch.setattr(file_utils, "get_file", no_network)
    with pytest.raises(WeightsUnavailable, match="use --weights none"):
        build_model("resnet50v2", (64, 64), "imagenet")
