"""--download: fetch the Kaggle dataset with kagglehub and find its Kaggle-layout folder.

kagglehub needs network access and, for most datasets, Kaggle credentials
(~/.kaggle/kaggle.json or KAGGLE_USERNAME/KAGGLE_KEY). Without them the run stops with one
line saying so, not a traceback.
"""

from __future__ import annotations

from pathlib import Path

from training.data import DataError

KAGGLE_DATASET = "vuppalaadithyasairam/spine-fracture-prediction-from-xrays"


def kaggle_root(downloaded: Path) -> Path:
    """The folder under the download that holds train/ (the zip nests it one level down)."""
    for candidate in [downloaded, *sorted(p for p in downloaded.rglob("*") if p.is_dir())]:
        if (candidate / "train").is_dir():
            return candidate
    raise DataError(f"downloaded dataset has no train/ folder under {downloaded}")


def fetch_dataset(handle: str = KAGGLE_DATASET) -> Path:
    """Download (or reuse kagglehub's cache of) the dataset; return its Kaggle-layout root."""
    try:
        import kagglehub
    except ImportError as exc:
        raise DataError("--download needs kagglehub (pip install kagglehub)") from exc
    try:
        downloaded = Path(kagglehub.dataset_download(handle))
    except Exception as exc:  # kagglehub raises requests, HTTP and credential errors alike
        first_line = (str(exc).strip().splitlines() or [""])[0][:160]
        raise DataError(
            f"cannot download {handle} with kagglehub ({exc.__class__.__name__}: {first_line}); "
            "check the network and Kaggle credentials, or pass the dataset folder instead"
        ) from exc
    return kaggle_root(downloaded)
