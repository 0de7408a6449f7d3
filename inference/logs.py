"""The service's structured logger: one JSON object per line, with the request id on each.

AWS Lambda Powertools' Logger writes JSON that CloudWatch Logs Insights can query by field
(`prediction`, `fetch_ms`, `error_code`...). What is logged is chosen, never dumped: no
image bytes, no base64, and URLs only as scheme://host/path (a query string can carry a
presigned signature or a patient identifier).
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger

from inference.fetch import redact

SERVICE_NAME = os.environ.get("POWERTOOLS_SERVICE_NAME", "cervical-fracture")

logger = Logger(service=SERVICE_NAME, level=os.environ.get("LOG_LEVEL", "INFO"))


def start_request(request_id: str, event_shape: str) -> None:
    """Attach this request's id and event shape to every line until the next request."""
    # Overwrite every request key (None is left out of the JSON): cheaper than remove + append.
    logger.append_keys(request_id=request_id, event_shape=event_shape, input_kind=None, source=None)


def set_input(kind: str, source: str | None) -> None:
    """Attach the input kind and the loggable form of its source (a redacted URL or None)."""
    logger.append_keys(input_kind=kind, source=source)


def loggable_source(kind: str, value: str | bytes) -> str | None:
    """What may be logged about an image source: a redacted URL, or nothing."""
    if kind in ("url", "s3") and isinstance(value, str):
        return redact(value)
    return None
