"""AWS Lambda entry point: classify a cervical-spine CT slice as fracture or normal.

The model is loaded here, at import, which is Lambda's init phase: once per execution
environment, not per request. A model that is missing or fails its checks raises
ModelError now, so Lambda reports an init error instead of serving a wrong model.

The handler only recognises the event, calls the service and shapes the response; the rules
about URLs and images live in `inference/`.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from inference import events, logs
from inference.errors import ModelError, RequestError
from inference.model import FractureModel
from inference.service import FractureService

MODEL_DIR = os.environ.get("MODEL_DIR") or str(Path(__file__).resolve().parent / "model")

logger = logs.logger
try:
    MODEL = FractureModel(MODEL_DIR, runtime=os.environ.get("TFLITE_RUNTIME") or None)
    SERVICE = FractureService(MODEL)
except ModelError as exc:
    # One clear line; Lambda then reports the init error. Never serve a model we cannot trust.
    logger.error("model failed to load", extra={"model_dir": MODEL_DIR, "reason": str(exc)})
    raise
SERVICE.warm_up()
logger.info(
    "model loaded",
    extra={"model": MODEL.card.name, "model_version": MODEL.card.version, "runtime": MODEL.runtime},
)
if os.environ.get("ALLOW_PRIVATE_URLS") == "1":
    logger.warning("ALLOW_PRIVATE_URLS=1: private and loopback URLs will be fetched (testing only)")

INTERNAL_ERROR = {
    "error": {"code": "internal_error", "message": "The service failed; the error was logged."}
}


def lambda_handler(event: dict, context: object) -> dict:
    """Direct ({"url"} | {"image"}), API Gateway v1 or v2 event -> classification or error."""
    request_id = getattr(context, "aws_request_id", None) or str(uuid.uuid4())
    shape = events.event_shape(event)
    logs.start_request(request_id, shape)
    try:
        request = events.parse_event(event)
        if request.route == "health":
            body = SERVICE.health()
        else:
            body = SERVICE.classify(request.source.kind, request.source.value)
        return events.shape_response(shape, 200, body, request_id)
    except RequestError as error:
        logger.info(
            "request refused",
            extra={"status": error.status, "error_code": error.code, "reason": error.message},
        )
        return events.error_response(shape, error, request_id)
    except Exception:
        # A bug, not the caller's fault: log the traceback, answer without it.
        logger.exception("unexpected failure")
        return events.shape_response(shape, 500, INTERNAL_ERROR, request_id)
