"""The request errors a caller can receive, each with its HTTP status and a stable code.

Raise a subclass of `RequestError` anywhere in the inference path; the handler turns it into
`{"error": {"code": ..., "message": ...}}` with the status. Anything else is a server fault.
"""

from __future__ import annotations


class RequestError(Exception):
    """A problem with what the caller sent or pointed at (4xx) or with the upstream (502/504)."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def to_body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(RequestError):
    status, code = 400, "bad_request"


class InvalidImage(RequestError):
    status, code = 400, "invalid_image"


class Forbidden(RequestError):
    status, code = 403, "forbidden"


class NotFound(RequestError):
    status, code = 404, "not_found"


class MethodNotAllowed(RequestError):
    status, code = 405, "method_not_allowed"


class PayloadTooLarge(RequestError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(RequestError):
    status, code = 415, "unsupported_media_type"


class UnusableImage(RequestError):
    status, code = 422, "unusable_image"


class NotACtImage(RequestError):
    status, code = 422, "not_a_ct_image"


class UpstreamError(RequestError):
    status, code = 502, "upstream_error"


class UpstreamTimeout(RequestError):
    status, code = 504, "upstream_timeout"


class ModelError(RuntimeError):
    """The shipped model is missing, corrupt or inconsistent: a server fault, raised at init."""
