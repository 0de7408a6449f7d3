"""A local HTTP API on 127.0.0.1:3000 that feeds the Lambda handler API Gateway v1 events.

The stand-in for `sam local start-api` (and the successor of the original project's
Flask/waitress service): each HTTP request becomes a REST API proxy event, the very handler
that runs in Lambda answers it, and its proxy response becomes the HTTP response. Image
bodies are base64-encoded as API Gateway does with binary media types configured.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus

from inference.events import LocalContext
from inference.images import DEFAULT_MAX_BYTES

Handler = Callable[[dict, object], dict]
BINARY_TYPES = ("image/", "application/octet-stream")
# API Gateway's own payload limit is 10 MB; a JSON body carries base64 (4/3 of the image).
MAX_REQUEST_BYTES = DEFAULT_MAX_BYTES * 4 // 3 + 64 * 1024


def request_to_event(environ: dict, body: bytes) -> dict:
    """A REST API (v1) proxy event for one WSGI request."""
    method = environ.get("REQUEST_METHOD", "GET").upper()
    path = environ.get("PATH_INFO", "/") or "/"
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").title()] = value
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["Content-Length"] = environ["CONTENT_LENGTH"]
    query: dict[str, str] = {}
    for pair in filter(None, environ.get("QUERY_STRING", "").split("&")):
        name, _, value = pair.partition("=")
        query[name] = value
    content_type = headers.get("Content-Type", "").lower()
    binary = content_type.startswith(BINARY_TYPES)
    if not body:
        text, encoded = None, False
    elif binary:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    else:
        try:
            text, encoded = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode("ascii"), True
    request_id = str(uuid.uuid4())
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": request_id,
            "stage": "local",
            "httpMethod": method,
            "path": path,
            "resourcePath": path,
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": environ.get("REMOTE_ADDR", "127.0.0.1")},
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _too_large(start_response: Callable) -> Iterable[bytes]:
    body = json.dumps(
        {
            "error": {
                "code": "payload_too_large",
                "message": f"The request body is larger than {MAX_REQUEST_BYTES:,} bytes.",
            }
        }
    ).encode()
    start_response(
        _status_line(413),
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def make_app(handler: Handler) -> Callable:
    """A WSGI application that answers every request through `handler`."""

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            declared = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > MAX_REQUEST_BYTES:
            return _too_large(start_response)
        stream = environ.get("wsgi.input")
        body = stream.read(MAX_REQUEST_BYTES + 1) if stream is not None else b""
        if len(body) > MAX_REQUEST_BYTES:
            return _too_large(start_response)
        event = request_to_event(environ, body)
        response = handler(event, LocalContext(event["requestContext"]["requestId"]))
        payload = response.get("body") or ""
        data = (
            base64.b64decode(payload)
            if response.get("isBase64Encoded")
            else str(payload).encode("utf-8")
        )
        headers = [(str(k), str(v)) for k, v in (response.get("headers") or {}).items()]
        headers = [h for h in headers if h[0].lower() != "content-length"]
        headers.append(("Content-Length", str(len(data))))
        start_response(_status_line(int(response.get("statusCode", 500))), headers)
        return [data]

    return app


def create_server(handler: Handler, host: str = "127.0.0.1", port: int = 3000, threads: int = 4):
    """A waitress server for `handler` (port 0: any free port, see `.effective_port`)."""
    import waitress.server

    return waitress.server.create_server(
        make_app(handler),
        host=host,
        port=port,
        threads=threads,
        # waitress cuts off only far beyond our limit, so the app answers a JSON 413 first.
        max_request_body_size=2 * MAX_REQUEST_BYTES,
        ident="cervical-fracture-local",
    )
