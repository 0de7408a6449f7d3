"""model.json + .tflite -> a checked TFLite interpreter -> fracture probability.

model.json is the only contract with training. Loading refuses (ModelError) a model whose
sha256 differs from the metadata, a missing file, or an input shape that disagrees with the
metadata: a server that cannot trust its model must not answer.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.errors import ModelError

METADATA_FILE = "model.json"


def load_interpreter_class(preferred: str | None = None):
    """The TFLite Interpreter class: ai-edge-litert first, tflite-runtime as the fallback.

    `preferred` (or env TFLITE_RUNTIME) = "ai-edge-litert" | "tflite-runtime" forces one.
    """
    preferred = preferred or os.environ.get("TFLITE_RUNTIME") or ""
    order = ["ai-edge-litert", "tflite-runtime"]
    if preferred:
        if preferred not in order:
            raise ModelError(f"TFLITE_RUNTIME must be one of {order}, not {preferred!r}")
        order = [preferred]
    for package in order:
        try:
            if package == "ai-edge-litert":
                from ai_edge_litert.interpreter import Interpreter
            else:
                from tflite_runtime.interpreter import Interpreter
        except ImportError:
            continue
        return package, Interpreter
    raise ModelError(f"no TFLite interpreter package installed (tried {', '.join(order)})")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelCard:
    """What serving needs from model.json."""

    name: str
    version: str
    file: str
    sha256: str
    input_size: tuple[int, int]  # (height, width)
    preprocessing: str
    threshold: float
    positive_class: str
    negative_class: str
    metadata: dict

    @classmethod
    def from_json(cls, metadata: dict) -> ModelCard:
        try:
            height, width = (int(v) for v in metadata["input"]["size"])
            positive = metadata["positive_class"]
            negative = next(c for c in metadata["classes"] if c != positive)
            return cls(
                name=str(metadata["name"]),
                version=str(metadata["version"]),
                file=str(metadata["file"]),
                sha256=str(metadata["sha256"]),
                input_size=(height, width),
                preprocessing=str(metadata["preprocessing"]["name"]),
                threshold=float(metadata["threshold"]),
                positive_class=positive,
                negative_class=negative,
                metadata=metadata,
            )
        except (KeyError, TypeError, ValueError, StopIteration) as exc:
            raise ModelError(f"model.json is incomplete or malformed: {exc!r}") from exc


class FractureModel:
    """A loaded, verified model. Create once per process (Lambda init), reuse per request."""

    def __init__(
        self,
        model_dir: str | os.PathLike,
        *,
        num_threads: int | None = None,
        runtime: str | None = None,
    ):
        model_dir = Path(model_dir)
        metadata_path = model_dir / METADATA_FILE
        try:
            metadata = json.loads(metadata_path.read_text())
        except FileNotFoundError as exc:
            raise ModelError(f"model metadata not found: {metadata_path}") from exc
        except (OSError, ValueError) as exc:
            raise ModelError(f"model metadata unreadable: {metadata_path}: {exc}") from exc
        self.card = ModelCard.from_json(metadata)
        self.path = model_dir / self.card.file
        if not self.path.is_file():
            raise ModelError(f"model file not found: {self.path}")
        actual = sha256_of(self.path)
        if actual != self.card.sha256:
            raise ModelError(
                f"model file {self.path.name} has sha256 {actual[:12]}..., "
                f"model.json says {self.card.sha256[:12]}...: refusing to serve it"
            )
        if num_threads is None:
            num_threads = int(os.environ.get("TFLITE_NUM_THREADS", "1"))
        self.runtime, interpreter_class = load_interpreter_class(runtime)
        try:
            self.interpreter = interpreter_class(model_path=str(self.path), num_threads=num_threads)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"model file {self.path.name} cannot be loaded: {exc}") from exc
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]
        height, width = self.card.input_size
        expected = (1, height, width, 3)
        if tuple(int(v) for v in self._input["shape"]) != expected:
            raise ModelError(
                f"model input shape {tuple(self._input['shape'])} disagrees with "
                f"model.json {expected}"
            )

    def fracture_probability(self, tensor: np.ndarray) -> float:
        """P(fracture) for one preprocessed tensor of shape (1, height, width, 3)."""
        self.interpreter.set_tensor(self._input["index"], tensor)
        self.interpreter.invoke()
        return float(self.interpreter.get_tensor(self._output["index"]).reshape(-1)[0])
