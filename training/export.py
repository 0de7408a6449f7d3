"""Keras model -> .tflite (+ model.json) in the model folder, replaced file by file.

The .tflite takes exactly the tensor inference/preprocessing.py makes: shape (1, h, w, 3),
float32, "xception" scaling, and outputs P(fracture). Dynamic-range quantization uses the old
quantizer because TF 2.21's new one writes FULLY_CONNECTED v12, which tflite-runtime 2.14
(the legacy Lambda stack) refuses to load.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from inference.model import METADATA_FILE, FractureModel, sha256_of
from inference.preprocessing import image_to_tensor

MODEL_FILE = "cervical_fracture.tflite"
MODEL_NAME = "cervical-fracture-ct"
QUANTIZATIONS = ("none", "dynamic", "float16")
PREPROCESSING = {
    "library": "keras-image-helper",
    "name": "xception",
    "resize": "nearest",
    "color": "RGB",
    "scaling": "x / 127.5 - 1",
}
RUNTIME = {"ai-edge-litert": ">=1.0", "tflite-runtime": ">=2.14.0"}


def to_tflite(model: keras.Model, size: tuple[int, int], quantize: str = "none") -> bytes:
    """The model as a .tflite flatbuffer with a fixed (1, h, w, 3) float32 input."""
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize must be one of {QUANTIZATIONS}, not {quantize!r}")
    spec = tf.TensorSpec((1, *size, 3), tf.float32, name="image")
    with tempfile.TemporaryDirectory() as saved, contextlib.redirect_stdout(io.StringIO()):
        # Through a SavedModel: converting a Keras 3 model's concrete function directly
        # gave NaN outputs in TF 2.21.
        model.export(saved, format="tf_saved_model", input_signature=[spec], verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        _configure(converter, quantize)
        return converter.convert()


def _configure(converter, quantize: str) -> None:
    if quantize in ("dynamic", "float16"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "dynamic":
        converter.experimental_new_dynamic_range_quantizer = False
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]


def metadata(
    *,
    sha256: str,
    size: tuple[int, int],
    architecture: str,
    quantize: str,
    threshold: float,
    threshold_rule: str,
    classes: list[str],
    extra: dict,
) -> dict:
    """model.json in the schema of docs/ARCHITECTURE.md."""
    document = {
        "name": MODEL_NAME,
        "version": "1.0.0",
        "file": MODEL_FILE,
        "sha256": sha256,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "architecture": architecture,
        "quantization": quantize,
        "input": {"size": [int(size[0]), int(size[1])], "channels": 3, "dtype": "float32"},
        "preprocessing": dict(PREPROCESSING),
        "classes": sorted(classes),
        "positive_class": "fracture",
        "output": "fracture_probability",
        "threshold": round(float(threshold), 6),
        "threshold_rule": threshold_rule,
        "runtime": dict(RUNTIME),
    }
    for key in ("input_gate", "data", "split", "metrics", "baseline", "robustness"):
        document[key] = extra.get(key, {})
    for key, value in extra.items():
        document.setdefault(key, value)
    return document


def write_model_dir(staging: Path, flatbuffer: bytes, document: dict) -> dict:
    """Write the .tflite and model.json (with the real sha256) into `staging`."""
    staging.mkdir(parents=True, exist_ok=True)
    (staging / MODEL_FILE).write_bytes(flatbuffer)
    document = {**document, "sha256": sha256_of(staging / MODEL_FILE)}
    (staging / METADATA_FILE).write_text(json.dumps(document, indent=2) + "\n")
    return document


def install(staging: Path, out: Path) -> None:
    """Move every file of `staging` into `out`, the .tflite before model.json.

    Each move is an atomic rename on one file system; readers that open model.json see either
    the old pair or the new one, except in the instant between the two renames, when serving's
    sha256 check refuses the mismatch rather than serving a wrong model.
    """
    out.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name for p in staging.iterdir() if p.is_file())
    names.sort(key=lambda n: (n == METADATA_FILE, n != MODEL_FILE, n))
    for name in names:
        os.replace(staging / name, out / name)
    shutil.rmtree(staging, ignore_errors=True)


def staging_dir(out: Path) -> Path:
    """A fresh folder beside `out` (same file system, so the final moves are renames)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}-staging-", dir=out.parent))


def tflite_predictor(model_dir: Path, runtime: str | None = None):
    """predict(list of PIL images) -> P(fracture) array, through the serving code path."""
    served = FractureModel(model_dir, num_threads=1, runtime=runtime)
    name, size = served.card.preprocessing, served.card.input_size

    def predict(images) -> np.ndarray:
        return np.array(
            [served.fracture_probability(image_to_tensor(im, name, size)) for im in images],
            dtype=np.float64,
        )

    return predict
