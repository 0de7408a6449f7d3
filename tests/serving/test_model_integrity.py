"""A server that cannot trust its model must not answer.

The model is checked once, at load (Lambda's init phase): a .tflite whose sha256 differs from
model.json, a missing file, unreadable metadata or an input shape that disagrees with the
metadata each raise ModelError with one clear message. The handler's module then fails to
import, which is how Lambda reports an init error, and it logs exactly one line saying why.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from inference.errors import ModelError
from inference.model import METADATA_FILE, FractureModel

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_MODEL = ROOT / "model"


def write_model(directory: Path, model_bytes: bytes, **overrides) -> Path:
    """A model directory with `model_bytes` and a model.json that is correct unless overridden."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tiny.tflite").write_bytes(model_bytes)
    metadata = {
        "name": "integrity-test",
        "version": "0.0.1",
        "file": "tiny.tflite",
        "sha256": hashlib.sha256(model_bytes).hexdigest(),
        "input": {"size": [224, 224], "channels": 3, "dtype": "float32"},
        "preprocessing": {"name": "xception"},
        "classes": ["fracture", "normal"],
        "positive_class": "fracture",
        "threshold": 0.5,
    }
    metadata.update(overrides)
    (directory / METADATA_FILE).write_text(json.dumps(metadata))
    return directory


def shipped_copy(directory: Path) -> Path:
    """A private copy of the shipped model directory, safe to tamper with."""
    metadata_path = SHIPPED_MODEL / METADATA_FILE
    if not metadata_path.is_file():
        pytest.skip("no shipped model in model/ yet")
    metadata = json.loads(metadata_path.read_text())
    if not (SHIPPED_MODEL / metadata["file"]).is_file():
        pytest.skip("model.json names a .tflite that is not in model/ yet")
    directory.mkdir(parents=True)
    shutil.copy2(metadata_path, directory / METADATA_FILE)
    shutil.copy2(SHIPPED_MODEL / metadata["file"], directory / metadata["file"])
    return directory


def edit_metadata(directory: Path, **changes) -> None:
    path = directory / METADATA_FILE
    metadata = json.loads(path.read_text())
    metadata.update(changes)
    path.write_text(json.dumps(metadata))


def test_a_model_file_whose_sha256_differs_from_the_metadata_is_refused(tmp_path):
    directory = write_model(tmp_path / "m", b"TFL3 pretend model", sha256="0" * 64)

    with pytest.raises(ModelError, match=r"sha256 .* refusing to serve it"):
        FractureModel(directory)


def test_a_tampered_copy_of_the_shipped_model_is_refused(tmp_path):
    directory = shipped_copy(tmp_path / "m")
    model_file = directory / json.loads((directory / METADATA_FILE).read_text())["file"]
    tampered = bytearray(model_file.read_bytes())
    tampered[len(tampered) // 2] ^= 0x01  # one flipped bit is enough
    model_file.write_bytes(bytes(tampered))

    with pytest.raises(ModelError, match="refusing to serve it"):
        FractureModel(directory)


def test_a_missing_model_file_is_refused(tmp_path):
    directory = write_model(tmp_path / "m", b"whatever")
    (directory / "tiny.tflite").unlink()

    with pytest.raises(ModelError, match="model file not found"):
        FractureModel(directory)


def test_a_missing_model_directory_is_refused(tmp_path):
    with pytest.raises(ModelError, match="model metadata not found"):
        FractureModel(tmp_path / "nowhere")


def test_metadata_that_is_not_json_is_refused(tmp_path):
    directory = tmp_path / "m"
    directory.mkdir()
    (directory / METADATA_FILE).write_text("{not json")

    with pytest.raises(ModelError, match="model metadata unreadable"):
        FractureModel(directory)


def test_metadata_without_an_input_size_is_refused(tmp_path):
    directory = write_model(tmp_path / "m", b"whatever", input={})

    with pytest.raises(ModelError, match="incomplete or malformed"):
        FractureModel(directory)


def test_a_file_that_is_not_a_tflite_model_is_refused_even_with_a_matching_sha256(tmp_path):
    directory = write_model(tmp_path / "m", b"\x89PNG\r\n\x1a\n this is not a model" * 50)

    with pytest.raises(ModelError, match="cannot be loaded"):
        FractureModel(directory)


def test_metadata_whose_input_size_disagrees_with_the_model_is_refused(tmp_path):
    directory = shipped_copy(tmp_path / "m")
    metadata = json.loads((directory / METADATA_FILE).read_text())
    height, width = metadata["input"]["size"]
    edit_metadata(directory, input={**metadata["input"], "size": [height + 32, width + 32]})

    with pytest.raises(ModelError, match=r"disagrees with model\.json"):
        FractureModel(directory)


def test_an_input_gate_section_with_a_non_numeric_threshold_is_refused_at_init(tmp_path):
    from inference.service import FractureService

    directory = shipped_copy(tmp_path / "m")
    metadata = json.loads((directory / METADATA_FILE).read_text())
    edit_metadata(directory, input_gate={**metadata["input_gate"], "max_chroma": "three"})

    with pytest.raises(ModelError, match="input_gate"):
        FractureService(FractureModel(directory))


def test_the_shipped_model_passes_its_own_checks(tmp_path):
    """The control for the refusals above: the very same copy, untouched, loads."""
    model = FractureModel(shipped_copy(tmp_path / "m"))

    assert model.card.name
    assert 0.0 < model.card.threshold < 1.0


def import_handler_with(model_dir: Path) -> subprocess.CompletedProcess:
    """Import lambda_function in a fresh interpreter, as Lambda's init phase does."""
    if not (ROOT / "lambda_function.py").is_file():
        pytest.skip("lambda_function.py is not written yet")
    env = {**os.environ, "MODEL_DIR": str(model_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", "import lambda_function"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def lines_naming(output: str, needle: str) -> list[str]:
    """Log lines (not traceback frames) that mention `needle`."""
    return [
        line
        for line in output.splitlines()
        if needle in line and not line.startswith(("Traceback", "  ", "inference.errors"))
    ]


def test_the_handler_fails_at_init_with_one_clear_line_when_the_model_is_tampered(tmp_path):
    directory = write_model(tmp_path / "m", b"TFL3 pretend model", sha256="f" * 64)

    result = import_handler_with(directory)

    assert result.returncode != 0, "a handler with a tampered model must not finish init"
    output = result.stdout + result.stderr
    assert len(lines_naming(output, "refusing to serve it")) == 1, output


def test_the_handler_fails_at_init_with_one_clear_line_when_the_model_is_missing(tmp_path):
    result = import_handler_with(tmp_path / "no-model-here")

    assert result.returncode != 0, "a handler without a model must not finish init"
    output = result.stdout + result.stderr
    assert len(lines_naming(output, "model metadata not found")) == 1, output
