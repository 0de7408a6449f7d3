"""A loopback HTTP server that misbehaves on purpose, one fault per path.

The image fetch must turn every way an upstream can fail into a documented error, quickly and
without raising. `http.server` cannot misbehave at the socket level (resets, lies about
Content-Length, trickles), so this speaks HTTP/1.0 over a raw socket itself. It binds to
127.0.0.1 only, counts the requests per path, and every slow behaviour stops on its own:
at shutdown or after `MAX_STALL_SECONDS`, whichever comes first.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import socketserver
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.synthetic import ct_slice, encode

MAX_STALL_SECONDS = 30.0  # no slow path holds a connection longer than this
GZIP_BOMB_INFLATED_BYTES = 200 * 1024 * 1024  # 200 MB of zeros, ~200 kB on the wire

# Path -> what the server does. Tests refer to these names, so they are the fault catalogue.
FAULTS = {
    "/ct.png": "200, a valid CT-like PNG with Content-Type image/png (the control)",
    "/wrong-type.png": "200, the same valid PNG served as text/html",
    "/not-found": "404 with an HTML body",
    "/server-error": "500 with an HTML body",
    "/redirect-loop": "302 to itself, forever",
    "/redirect-to-ct": "302 to /ct.png (one legitimate hop)",
    "/redirect-to": "302 to the URL in the query string (e.g. a private address)",
    "/never-answers": "accepts the request, then sends nothing",
    "/trickle": "headers, then one body byte a second (slowloris)",
    "/reset-mid-body": "half the body, then a TCP reset",
    "/short-body": "Content-Length larger than the body, then a clean close",
    "/gzip-bomb": "Content-Encoding: gzip whose body inflates to 200 MB",
    "/huge-declared": "declares a Content-Length of 1 GB, sends little",
    "/huge-streamed": "no Content-Length, streams zeros until the client hangs up",
    "/garbage-status": "answers with bytes that are not an HTTP status line",
    "/endless-headers": "sends header lines and never ends them",
}


@functools.cache
def gzip_bomb() -> bytes:
    """A gzip stream of GZIP_BOMB_INFLATED_BYTES zeros, built a megabyte at a time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    chunk = bytes(1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(GZIP_BOMB_INFLATED_BYTES // len(chunk))]
    return b"".join(parts) + compressor.flush()


@dataclass
class MisbehavingServer:
    """Start with `start()`, stop with `stop()`; `url(path)` addresses one fault."""

    host: str = "127.0.0.1"
    image: bytes = field(default_factory=lambda: encode(ct_slice(seed=7, size=256)))
    hits: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._stopping = threading.Event()
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> MisbehavingServer:
        gzip_bomb()  # built once, up front: building it must not eat into a fetch deadline
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer._serve(self.request)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        server = socketserver.ThreadingTCPServer((self.host, 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> MisbehavingServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the server first"
        return self._server.server_address[1]

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    # -- one connection ------------------------------------------------------------------------

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            request = self._read_request_head(conn)
        except OSError:
            return
        if not request:
            return
        target = request.split(b" ")[1].decode("latin-1") if b" " in request else "/"
        path, _, query = target.partition("?")
        with self._lock:
            self.hits[path] += 1
        behaviour = self._behaviours().get(path, self._not_found)
        try:
            behaviour(conn, query)
        except OSError:
            pass  # the client hung up: exactly what many of these faults provoke
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    @staticmethod
    def _read_request_head(conn: socket.socket) -> bytes:
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            head += chunk
        return head.split(b"\r\n", 1)[0]

    def _behaviours(self) -> dict[str, Callable[[socket.socket, str], None]]:
        return {
            "/ct.png": lambda c, q: self._respond(c, 200, self.image, "image/png"),
            "/wrong-type.png": lambda c, q: self._respond(c, 200, self.image, "text/html"),
            "/not-found": self._not_found,
            "/server-error": lambda c, q: self._respond(c, 500, b"<h1>oops</h1>", "text/html"),
            "/redirect-loop": lambda c, q: self._redirect(c, "/redirect-loop"),
            "/redirect-to-ct": lambda c, q: self._redirect(c, "/ct.png"),
            "/redirect-to": lambda c, q: self._redirect(c, q),
            "/never-answers": self._never_answer,
            "/trickle": self._trickle,
            "/reset-mid-body": self._reset_mid_body,
            "/short-body": self._short_body,
            "/gzip-bomb": self._gzip_bomb,
            "/huge-declared": self._huge_declared,
            "/huge-streamed": self._huge_streamed,
            "/garbage-status": lambda c, q: c.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"),
            "/endless-headers": self._endless_headers,
        }

    # -- behaviours ----------------------------------------------------------------------------

    @staticmethod
    def _head(status: int, headers: dict[str, str]) -> bytes:
        reason = {200: "OK", 302: "Found", 404: "Not Found", 500: "Internal Server Error"}
        lines = [f"HTTP/1.0 {status} {reason.get(status, 'Status')}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _respond(self, conn: socket.socket, status: int, body: bytes, content_type: str) -> None:
        headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        conn.sendall(self._head(status, headers) + body)

    def _not_found(self, conn: socket.socket, query: str = "") -> None:
        self._respond(conn, 404, b"<h1>not found</h1>", "text/html")

    def _redirect(self, conn: socket.socket, location: str) -> None:
        headers = {"Location": location, "Content-Length": "0"}
        conn.sendall(self._head(302, headers))

    def _stall(self, seconds: float = MAX_STALL_SECONDS) -> bool:
        """Wait, but never past shutdown; True when the server is stopping."""
        return self._stopping.wait(seconds)

    def _never_answer(self, conn: socket.socket, query: str) -> None:
        self._stall()

    def _trickle(self, conn: socket.socket, query: str) -> None:
        headers = {"Content-Type": "image/png", "Content-Length": str(len(self.image))}
        conn.sendall(self._head(200, headers))
        deadline = time.monotonic() + MAX_STALL_SECONDS
        for byte in self.image:
            if time.monotonic() > deadline or self._stall(1.0):
                return
            conn.sendall(bytes([byte]))

    def _reset_mid_body(self, conn: socket.socket, query: str) -> None:
        headers = {"Content-Type": "image/png", "Content-Length": str(len(self.image))}
        conn.sendall(self._head(200, headers) + self.image[: len(self.image) // 2])
        time.sleep(0.05)  # let the client start reading the body before it breaks
        # SO_LINGER with a zero timeout turns close() into a RST instead of a FIN.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _short_body(self, conn: socket.socket, query: str) -> None:
        headers = {"Content-Type": "image/png", "Content-Length": str(len(self.image) * 2)}
        conn.sendall(self._head(200, headers) + self.image)
        conn.shutdown(socket.SHUT_WR)

    def _gzip_bomb(self, conn: socket.socket, query: str) -> None:
        bomb = gzip_bomb()
        headers = {
            "Content-Type": "image/png",
            "Content-Encoding": "gzip",
            "Content-Length": str(len(bomb)),
        }
        conn.sendall(self._head(200, headers) + bomb)

    def _huge_declared(self, conn: socket.socket, query: str) -> None:
        headers = {"Content-Type": "image/png", "Content-Length": str(1024**3)}
        conn.sendall(self._head(200, headers) + self.image)
        self._stall(5.0)

    def _endless_headers(self, conn: socket.socket, query: str) -> None:
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: image/png\r\n")
        deadline = time.monotonic() + MAX_STALL_SECONDS
        count = 0
        while time.monotonic() < deadline and not self._stopping.is_set() and count < 100_000:
            conn.sendall(f"X-Padding-{count}: {'a' * 64}\r\n".encode())
            count += 1

    def _huge_streamed(self, conn: socket.socket, query: str) -> None:
        conn.sendall(self._head(200, {"Content-Type": "image/png"}) + self.image)
        chunk = bytes(64 * 1024)
        deadline = time.monotonic() + MAX_STALL_SECONDS
        sent = 0
        while sent < 1024**3 and time.monotonic() < deadline and not self._stopping.is_set():
            conn.sendall(chunk)
            sent += len(chunk)


def main() -> None:
    """Serve from a process of its own: print the port, stop when stdin closes (or after 2 h).

    Benchmarks run the upstream out of process, so its threads do not compete for the GIL
    with the handler being measured.
    """
    import sys

    with MisbehavingServer() as server:
        print(server.port, flush=True)
        stopper = threading.Thread(target=sys.stdin.read, daemon=True)
        stopper.start()
        stopper.join(timeout=2 * 3600)


if __name__ == "__main__":
    main()
