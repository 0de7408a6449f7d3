"""A request for a classification -> the answer: fetch, decode, gate, preprocess, infer.

This is the whole path a request takes after its event was parsed; the handler, the local
server and the benchmarks all go through `FractureService.classify`, so there is one path to
test. Limits come from the environment per request (cheap), so an operator or a test can
tighten them without a new image.
"""

from __future__ import annotations

import io
import os
import threading
import time
from dataclasses import dataclass

from PIL import Image

from inference import fetch, images, s3
from inference.errors import BadRequest, ModelError, NotACtImage
from inference.gate import GateVerdict, assess, settings_with_defaults
from inference.logs import loggable_source, logger, set_input
from inference.model import FractureModel
from inference.preprocessing import image_to_tensor


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass(frozen=True)
class Limits:
    """What the service accepts; every field has an env override."""

    max_bytes: int = images.DEFAULT_MAX_BYTES
    max_pixels: int = images.DEFAULT_MAX_PIXELS
    min_side: int = images.DEFAULT_MIN_SIDE
    fetch_deadline_s: float = fetch.DEFAULT_DEADLINE_S
    allow_private_urls: bool = False
    s3_buckets: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls) -> Limits:
        return cls(
            max_bytes=int(_env_number("MAX_IMAGE_BYTES", images.DEFAULT_MAX_BYTES)),
            max_pixels=int(_env_number("MAX_IMAGE_PIXELS", images.DEFAULT_MAX_PIXELS)),
            min_side=int(_env_number("MIN_IMAGE_SIDE", images.DEFAULT_MIN_SIDE)),
            fetch_deadline_s=_env_number("FETCH_TIMEOUT_SECONDS", fetch.DEFAULT_DEADLINE_S),
            allow_private_urls=os.environ.get("ALLOW_PRIVATE_URLS", "") == "1",
            s3_buckets=s3.allowed_buckets(),
        )


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


class FractureService:
    """The loaded model plus the rules around it. One per process, shared by all requests."""

    def __init__(self, model: FractureModel):
        self.model = model
        self.card = model.card
        # Merged and checked once, here: a broken "input_gate" in model.json is a ModelError at
        # init (one log line, Lambda reports an init error), not a 500 on every request.
        try:
            self.gate_settings = settings_with_defaults(model.card.metadata.get("input_gate"))
        except ValueError as exc:
            raise ModelError(f"model.json input_gate is unusable: {exc}") from exc
        # A TFLite interpreter is not thread-safe; the local server runs several threads.
        self._invoke_lock = threading.Lock()

    def warm_up(self) -> None:
        """One throwaway pass at init, so the first caller does not pay for lazy imports.

        Pillow loads its PNG plugin, numpy and the interpreter allocate their buffers on
        first use; in Lambda the init phase runs at full CPU, the first request may not.
        """
        buffer = io.BytesIO()
        Image.new("L", (64, 64), 0).save(buffer, format="PNG")
        image = images.decode_image(buffer.getvalue())
        assess(image, self.gate_settings)
        self.predict(image)

    def health(self) -> dict:
        """Name and version of the loaded model, without running it."""
        return {
            "status": "ok",
            "model": {"name": self.card.name, "version": self.card.version},
            "runtime": self.model.runtime,
        }

    def image_bytes(self, kind: str, value: str | bytes, limits: Limits) -> bytes:
        """The raw bytes of the image, from wherever the request says it is."""
        if kind == "url":
            if limits.allow_private_urls:
                logger.warning("ALLOW_PRIVATE_URLS=1: private addresses are reachable")
            fetched = fetch.fetch_image(
                str(value),
                deadline_s=limits.fetch_deadline_s,
                max_bytes=limits.max_bytes,
                allow_private=limits.allow_private_urls,
            )
            return fetched.body
        if kind == "s3":
            return s3.fetch_s3_object(
                str(value),
                max_bytes=limits.max_bytes,
                buckets=limits.s3_buckets,
                deadline_s=limits.fetch_deadline_s,
            )
        if kind == "base64":
            return images.decode_base64_image(value, limits.max_bytes)
        if kind == "upload" and isinstance(value, bytes):
            images.check_size(len(value), limits.max_bytes)
            return value
        raise BadRequest("The request names no image.", code="bad_request")

    def check_input(self, image: Image.Image) -> GateVerdict:
        """The input gate; a refusal is a 422 that says why."""
        verdict = assess(image, self.gate_settings)
        if not verdict.passed:
            # Logged here because the refusal line carries only the error; a pass is logged
            # with the classification (one line per request keeps the warm path cheap).
            logger.info("input gate refused the image", extra={"gate": verdict.as_dict()})
            raise NotACtImage(
                f"This does not look like an axial CT slice: {verdict.reason}.",
                code="not_a_ct_image",
            )
        return verdict

    def predict(self, image: Image.Image) -> tuple[float, float, float]:
        """(P(fracture), preprocess ms, inference ms) for a decoded image."""
        start = time.perf_counter()
        tensor = image_to_tensor(image, self.card.preprocessing, self.card.input_size)
        preprocess_ms = _ms(start)
        start = time.perf_counter()
        with self._invoke_lock:
            probability = self.model.fracture_probability(tensor)
        return probability, preprocess_ms, _ms(start)

    def classify(self, kind: str, value: str | bytes, limits: Limits | None = None) -> dict:
        """The success body for one image, or a RequestError from any step."""
        limits = limits or Limits.from_env()
        set_input(kind, loggable_source(kind, value))
        timings: dict[str, float] = {}
        start = time.perf_counter()
        data = self.image_bytes(kind, value, limits)
        timings["fetch_ms"] = _ms(start)
        start = time.perf_counter()
        image = images.decode_image(
            data,
            max_bytes=limits.max_bytes,
            max_pixels=limits.max_pixels,
            min_side=limits.min_side,
        )
        timings["decode_ms"] = _ms(start)
        start = time.perf_counter()
        verdict = self.check_input(image)
        timings["gate_ms"] = _ms(start)
        probability, timings["preprocess_ms"], timings["inference_ms"] = self.predict(image)
        prediction = (
            self.card.positive_class
            if probability >= self.card.threshold
            else self.card.negative_class
        )
        logger.info(
            "classified",
            extra={
                "image_bytes": len(data),
                "image_size": list(image.size),
                "prediction": prediction,
                "fracture_probability": round(probability, 6),
                "model_version": self.card.version,
                "gate": verdict.as_dict(),
                **timings,
            },
        )
        return {
            "prediction": prediction,
            "fracture_probability": probability,
            "threshold": self.card.threshold,
            "model": {"name": self.card.name, "version": self.card.version},
            "input_check": verdict.as_dict(),
            "timings_ms": timings,
        }
