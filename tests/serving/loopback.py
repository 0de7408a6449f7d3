"""A misbehaving image server on 127.0.0.1 for the fetch tests, counting every connection.

Each path is a behaviour (an image, a redirect, a trickle, a lie about the length...). The
connection counter is what proves that a refused URL never reached the network: the SSRF
tests point blocked URLs at this server and assert zero new connections.
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.synthetic import ct_slice, encode, photo_like

CT_PNG = encode(ct_slice(seed=11, size=224))
PHOTO_JPEG = encode(photo_like(seed=2), "JPEG", quality=85)


class CountingServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int]):
        super().__init__(address, ImageRequestHandler)
        self.connections = 0
        self.paths: list[str] = []
        self.hosts: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.routes: dict[str, bytes] = {}

    def verify_request(self, request, client_address) -> bool:
        with self.lock:
            self.connections += 1
        return True

    @property
    def base(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class ImageRequestHandler(BaseHTTPRequestHandler):
    server: CountingServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def send_body(self, body: bytes, content_type: str = "image/png", **headers) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        with self.server.lock:
            self.server.paths.append(self.path)
            self.server.hosts.append(self.headers.get("Host", ""))
        if path in self.server.routes:
            self.send_body(self.server.routes[path])
        elif path == "/ct.png":
            self.send_body(CT_PNG)
        elif path == "/photo.jpg":
            self.send_body(PHOTO_JPEG, "image/jpeg")
        elif path == "/mislabelled":
            self.send_body(CT_PNG, "text/html")
        elif path == "/text":
            self.send_body(b"<html>not an image</html>" * 10, "text/html")
        elif path == "/redirect":
            self.send_response(int(query.get("status", 302)))
            self.send_header("Location", query["to"])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/chain":
            left = int(query["n"])
            self.send_response(302)
            self.send_header("Location", f"/chain?n={left - 1}" if left > 1 else "/ct.png")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path.startswith("/status/"):
            self.send_response(int(path.rsplit("/", 1)[1]))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/trickle":  # one byte a second: each read is fast, the whole is not
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(CT_PNG)))
            self.end_headers()
            for byte in CT_PNG:
                if self.server.stop.wait(0.25):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        elif path == "/trickle-headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for _ in range(1000):
                if self.server.stop.wait(0.25):
                    return
                self.wfile.write(b"X: y\r\n")
                self.wfile.flush()
        elif path == "/hang":
            self.server.stop.wait(30)
        elif path == "/huge-declared":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(int(query.get("size", 50_000_000))))
            self.end_headers()
            self.wfile.write(CT_PNG[:100])
        elif path == "/endless":  # no Content-Length, chunked, never stops before the cap
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = CT_PNG[:8] + b"\0" * 65528
            try:
                for _ in range(int(query.get("chunks", 400))):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                self.server.paths.append("client-hung-up")
        elif path == "/understated":  # Content-Length smaller than the body
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", "200")
            self.end_headers()
            self.wfile.write(CT_PNG)
        elif path == "/short":  # Content-Length larger than the body, then close
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(CT_PNG) + 5000))
            self.end_headers()
            self.wfile.write(CT_PNG)
            self.close_connection = True
        elif path == "/reset":  # a RST in the middle of the body
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(CT_PNG)))
            self.end_headers()
            self.wfile.write(CT_PNG[: len(CT_PNG) // 2])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        elif path == "/gzip-bomb":
            body = gzip.compress(b"\0" * 20_000_000)
            self.send_body(body, "image/png", Content_Encoding="gzip")
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()


def start(host: str = "127.0.0.1") -> CountingServer:
    server = CountingServer((host, 0))
    threading.Thread(
        target=server.serve_forever, daemon=True, kwargs={"poll_interval": 0.05}
    ).start()
    return server


def stop(server: CountingServer) -> None:
    server.stop.set()
    server.shutdown()
    server.server_close()
    time.sleep(0)
