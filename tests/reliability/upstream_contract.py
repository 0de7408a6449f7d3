"""What each upstream fault must become: the status and error code the API documents.

One table, read by the fetch-level tests (test_upstream_faults.py) and the handler-level tests
(test_handler_faults.py), so the two can never disagree about the contract.
"""

from __future__ import annotations

# misbehaving_server path -> (HTTP status, error code)
FAULT_MATRIX: dict[str, tuple[int, str]] = {
    "/not-found": (404, "image_not_found"),
    "/server-error": (502, "upstream_http_error"),
    "/redirect-loop": (502, "too_many_redirects"),
    "/never-answers": (504, "upstream_timeout"),
    "/trickle": (504, "upstream_timeout"),
    "/reset-mid-body": (502, "upstream_error"),
    "/short-body": (502, "upstream_truncated"),
    "/gzip-bomb": (502, "upstream_compressed"),
    "/huge-declared": (413, "image_too_large"),
    "/garbage-status": (502, "upstream_error"),
    "/endless-headers": (502, "upstream_error"),
}

DNS_FAILURE_URL = "http://no-such-host.invalid/slice.png"  # .invalid never resolves (RFC 6761)
DNS_FAILURE = (502, "dns_failure")
