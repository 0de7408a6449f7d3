"""A Lambda event (direct, API Gateway REST v1, HTTP API v2) -> what is asked; a result -> the
response in the shape that event's caller expects.

The three shapes carry the same two requests (classify an image, report health), so they
are recognised here once and the rest of the service never sees an event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from inference.errors import (
    BadRequest,
    InvalidImage,
    MethodNotAllowed,
    NotFound,
    RequestError,
    UnsupportedMediaType,
)
from inference.images import DEFAULT_MAX_BYTES, base64_bytes, check_size

DIRECT, API_V1, API_V2 = "direct", "apigw-v1", "apigw-v2"
IMAGE_CONTENT_TYPES = {"image/png", "image/jpeg", "image/jpg"}
ROUTES = {"/predict": ("POST",), "/health": ("GET", "HEAD")}


@dataclass(frozen=True)
class ImageSource:
    """Where the image comes from. kind: "url" | "s3" | "base64" | "upload"."""

    kind: str
    value: str | bytes  # the URL, the base64 text, or the uploaded bytes


@dataclass(frozen=True)
class ParsedRequest:
    """What an event asks: the route ("predict" | "health"), and for predict the image."""

    shape: str
    route: str
    source: ImageSource | None = None


def event_shape(event: object) -> str:
    """Which of the three event shapes `event` is (a dict that is not API Gateway is direct)."""
    if isinstance(event, dict):
        if event.get("version") == "2.0" or "rawPath" in event:
            return API_V2
        if "httpMethod" in event:
            return API_V1
    return DIRECT


def source_from_fields(fields: object) -> ImageSource:
    """The image source from a direct event or a JSON body: exactly one of "url" / "image"."""
    if not isinstance(fields, dict):
        raise BadRequest(
            'The request must be a JSON object with "url" or "image".', code="bad_request"
        )
    present = [k for k in ("url", "image") if fields.get(k) not in (None, "")]
    if len(present) != 1:
        raise BadRequest(
            'Send exactly one of "url" (http, https or s3) and "image" (base64 PNG or JPEG).',
            code="bad_request",
        )
    value = fields[present[0]]
    if not isinstance(value, str):
        raise BadRequest(f'"{present[0]}" must be a string.', code="bad_request")
    if present[0] == "image":
        return ImageSource("base64", value)
    scheme = value.split(":", 1)[0].strip().lower() if ":" in value else ""
    return ImageSource("s3" if scheme == "s3" else "url", value)


def _headers(event: dict) -> dict[str, str]:
    headers = event.get("headers") or {}
    if not isinstance(headers, dict):
        return {}
    return {str(k).lower(): str(v) for k, v in headers.items() if v is not None}


def _method_and_path(event: dict, shape: str) -> tuple[str, str]:
    if shape == API_V2:
        # Any field may be any JSON value in a hostile event: read dicts only as dicts.
        context = event.get("requestContext")
        context = context if isinstance(context, dict) else {}
        http = context.get("http") if isinstance(context.get("http"), dict) else {}
        method = http.get("method") or ""
        path = str(event.get("rawPath") or http.get("path") or "")
        stage = str(context.get("stage") or "$default")
        if stage != "$default" and path.startswith(f"/{stage}/"):
            path = path[len(stage) + 1 :]
    else:
        method = event.get("httpMethod") or ""
        path = event.get("path") or ""
    path = str(path).rstrip("/") or "/"
    return str(method).upper(), path


def _body_bytes(event: dict, max_bytes: int) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise BadRequest("The request body must be a string.", code="bad_request")
    if event.get("isBase64Encoded"):
        check_size((len(body) * 3) // 4 - 2, max_bytes)
        try:
            return base64_bytes(body)
        except InvalidImage as exc:
            raise BadRequest("The request body is not valid base64.", code="bad_request") from exc
    check_size(len(body), max_bytes + max_bytes // 3 + 1024)  # JSON may carry base64 (4/3)
    return body.encode("utf-8", errors="surrogatepass")


def parse_event(event: object, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedRequest:
    """What `event` asks, or a RequestError (400/404/405/413/415) saying what is wrong."""
    shape = event_shape(event)
    if shape == DIRECT:
        return ParsedRequest(DIRECT, "predict", source_from_fields(event))
    method, path = _method_and_path(event, shape)
    if path not in ROUTES:
        raise NotFound(
            f"There is no route {path[:100]}; use POST /predict or GET /health.",
            code="route_not_found",
        )
    if method not in ROUTES[path]:
        error = MethodNotAllowed(
            f"{path} accepts {' or '.join(ROUTES[path])}, not {method[:20] or 'no method'}.",
            code="method_not_allowed",
        )
        error.allow = ROUTES[path]
        raise error
    if path == "/health":
        return ParsedRequest(shape, "health")
    content_type = _headers(event).get("content-type", "").split(";")[0].strip().lower()
    body = _body_bytes(event, max_bytes)
    if content_type in IMAGE_CONTENT_TYPES:
        if not event.get("isBase64Encoded"):
            raise BadRequest(
                "An image body must arrive base64-encoded (API Gateway binary media types).",
                code="bad_request",
            )
        return ParsedRequest(shape, "predict", ImageSource("upload", body))
    if content_type not in ("", "application/json", "text/json"):
        raise UnsupportedMediaType(
            f"Send application/json, image/png or image/jpeg, not {content_type}.",
            code="unsupported_media_type",
        )
    try:
        fields = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("The request body is not valid JSON.", code="invalid_json") from exc
    return ParsedRequest(shape, "predict", source_from_fields(fields))


JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass
class LocalContext:
    """A stand-in for the Lambda context object when the handler runs outside Lambda."""

    aws_request_id: str
    function_name: str = "cervical-fracture-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:cervical-fracture"
    log_group_name: str = "/aws/lambda/cervical-fracture-local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def shape_response(
    shape: str,
    status: int,
    body: dict,
    request_id: str | None = None,
    extra_headers: dict | None = None,
) -> dict:
    """The response for `shape`: a plain dict (direct) or an API Gateway proxy response."""
    if shape == DIRECT:
        return {"statusCode": status, **body}
    headers = dict(JSON_HEADERS)
    if request_id:
        headers["X-Request-Id"] = request_id
    headers.update(extra_headers or {})
    return {
        "statusCode": status,
        "headers": headers,
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def error_response(shape: str, error: RequestError, request_id: str | None = None) -> dict:
    """The error object for `error` in the shape its caller expects."""
    allowed = getattr(error, "allow", None)
    extra = {"Allow": ", ".join(allowed)} if allowed else None
    return shape_response(shape, error.status, error.to_body(), request_id, extra)
