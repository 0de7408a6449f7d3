"""A loopback proxy in front of moto's S3 server that fails requests the way S3 does.

moto's server answers like a healthy S3; it has no switch for throttling or internal errors.
This proxy sits between boto3 and moto on 127.0.0.1 and, for the next requests in its fault
plan, answers with S3's own error documents (503 SlowDown, 500 InternalError) instead of
forwarding; every other request goes through to moto unchanged. boto3 is not patched: it
talks real HTTP, retries as configured, and parses real error responses.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

S3_ERRORS = {
    "SlowDown": (503, "Please reduce your request rate."),
    "InternalError": (500, "We encountered an internal error. Please try again."),
    "ServiceUnavailable": (503, "Service is unable to handle request."),
}


def s3_error_document(code: str, message: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>4442587FB7D0A2F9</RequestId><HostId>fault-proxy</HostId></Error>"
    ).encode()


class S3FaultProxy:
    """`fail_next(code, times)` queues faults; `always_fail(code)` fails everything else."""

    def __init__(self, upstream: str):
        upstream_parts = urlsplit(upstream)
        self.upstream_host = upstream_parts.hostname or "127.0.0.1"
        self.upstream_port = upstream_parts.port or 80
        self.plan: deque[str | None] = deque()  # None: forward this one
        self.always: str | None = None
        self.delay_s = 0.0  # a slow S3: each forwarded answer waits this long
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status answered)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> S3FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, code: str, times: int = 1) -> None:
        with self._lock:
            self.plan.extend([code] * times)

    def pass_next(self, times: int = 1) -> None:
        """Forward the next `times` requests untouched, before any queued or standing fault."""
        with self._lock:
            self.plan.extendleft([None] * times)

    def always_fail(self, code: str | None) -> None:
        with self._lock:
            self.always = code

    def reset(self) -> None:
        with self._lock:
            self.plan.clear()
            self.always = None
            self.delay_s = 0.0
            self.requests.clear()

    def _next_fault(self) -> str | None:
        with self._lock:
            if self.plan:
                return self.plan.popleft()
            return self.always

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, path, status))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy._next_fault()
                if fault is not None:
                    status, message = S3_ERRORS[fault]
                    document = s3_error_document(fault, message)
                    # Recorded before answering: once the client has its answer, the test
                    # can read `requests` without racing this thread.
                    proxy._record(self.command, self.path, status)
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(document)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(document)
                    return
                time.sleep(proxy.delay_s)
                upstream = http.client.HTTPConnection(
                    proxy.upstream_host, proxy.upstream_port, timeout=10
                )
                try:
                    upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
                    response = upstream.getresponse()
                    payload = response.read()
                    proxy._record(self.command, self.path, response.status)
                    self.send_response(response.status)
                    skipped = {"transfer-encoding", "connection", "content-length"}
                    for name, value in response.getheaders():
                        if name.lower() not in skipped:
                            self.send_header(name, value)
                    declared = response.getheader("Content-Length")
                    self.send_header(
                        "Content-Length", declared if self.command == "HEAD" else str(len(payload))
                    )
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                finally:
                    upstream.close()

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _handle

        return Handler
