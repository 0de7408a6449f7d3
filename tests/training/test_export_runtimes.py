"""The exported .tflite: same numbers as Keras, loadable by both interpreter packages."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inference.model import FractureModel
from inference.preprocessing import image_to_tensor
from training.data import grouped_split, labels_of, open_image, read_split, to_tensors, train_dir
from training.export import metadata, to_tflite, write_model_dir
from training.fit import FitOptions, fit

REPO = Path(__file__).resolve().parents[2]
LEGACY_PYTHON = REPO / ".venv-legacy" / "bin" / "python"
SIZE = (32, 32)

LEGACY_SCRIPT = """
import json, sys
from PIL import Image
from inference.model import FractureModel
from inference.preprocessing import image_to_tensor
served = FractureModel(sys.argv[1], runtime="tflite-runtime")
out = [served.fracture_probability(image_to_tensor(Image.open(p), "xception", (32, 32)))
       for p in sys.argv[2:]]
print(json.dumps({"runtime": served.runtime, "probabilities": out}))
"""


@pytest.fixture(scope="module")
def keras_model(dataset):
    records = read_split(train_dir(dataset.root))
    train, validation = grouped_split(records, 0.34, seed=0)
    images = [open_image(r.path) for r in train]
    result = fit(
        "slicenet",
        SIZE,
        images,
        to_tensors(images, "xception", SIZE),
        labels_of(train),
        None,
        FitOptions(epochs=1, batch_size=8, optimizer="adam", learning_rate=0.01, quiet=True),
    )
    return result.model, validation


def _export(model, folder: Path, quantize: str) -> Path:
    document = metadata(
        sha256="",
        size=SIZE,
        architecture="slicenet",
        quantize=quantize,
        threshold=0.5,
        threshold_rule="test",
        classes=["fracture", "normal"],
        extra={},
    )
    write_model_dir(folder, to_tflite(model, SIZE, quantize), document)
    return folder


def _served(folder: Path, paths: list[Path]) -> np.ndarray:
    served = FractureModel(folder, runtime="ai-edge-litert")
    values = []
    for path in paths:
        image = Image.open(io.BytesIO(path.read_bytes()))  # as serving decodes request bytes
        values.append(served.fracture_probability(image_to_tensor(image, "xception", SIZE)))
    return np.array(values)


def test_keras_on_the_training_loader_equals_tflite_through_serving(keras_model, tmp_path):
    model, validation = keras_model
    paths = [r.path for r in validation]
    tensors = to_tensors([open_image(p) for p in paths], "xception", SIZE)
    expected = model.predict(tensors, verbose=0).ravel()
    actual = _served(_export(model, tmp_path / "float", "none"), paths)
    assert np.max(np.abs(actual - expected)) < 1e-4
    assert np.ptp(expected) > 0  # not a constant model that would agree trivially


@pytest.mark.parametrize("quantize", ["dynamic", "float16"])
def test_quantized_models_stay_close_and_shrink(keras_model, tmp_path, quantize):
    model, validation = keras_model
    paths = [r.path for r in validation]
    full = _export(model, tmp_path / "none", "none")
    small = _export(model, tmp_path / quantize, quantize)
    assert (small / "cervical_fracture.tflite").stat().st_size < (
        full / "cervical_fracture.tflite"
    ).stat().st_size
    assert np.max(np.abs(_served(small, paths) - _served(full, paths))) < 0.05
    assert json.loads((small / "model.json").read_text())["quantization"] == quantize


@pytest.mark.parametrize("quantize", ["none", "dynamic"])
def test_tflite_runtime_2_14_loads_it_and_agrees(keras_model, tmp_path, quantize):
    if not LEGACY_PYTHON.exists():
        pytest.skip(".venv-legacy (tflite-runtime 2.14) absent: run `make setup-serving`")
    model, validation = keras_model
    paths = [r.path for r in validation][:6]
    folder = _export(model, tmp_path / quantize, quantize)
    completed = subprocess.run(
        [str(LEGACY_PYTHON), "-c", LEGACY_SCRIPT, str(folder), *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    reply = json.loads(completed.stdout.strip().splitlines()[-1])
    assert reply["runtime"] == "tflite-runtime"
    legacy = np.array(reply["probabilities"])
    assert np.max(np.abs(legacy - _served(folder, paths))) < 1e-4
