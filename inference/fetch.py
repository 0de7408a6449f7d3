"""An http(s) URL -> image bytes, without letting a caller reach inside the network.

The function downloads whatever URL the internet sends it, so a URL is a request to make a
connection from inside AWS. The rules:

- only http and https; no credentials in the URL;
- the host is resolved once; every address is checked (private, loopback, link-local such
  as 169.254.169.254, multicast, reserved, unspecified, shared 100.64/10, and IPv4 hidden
  in IPv6) and the connection goes to the very address that was checked, so a DNS answer
  that changes between check and connect (rebinding) cannot slip through;
- redirects (at most 3) are checked the same way;
- one deadline covers resolve + connect + every read: a server trickling a byte a second
  fails at the deadline, not after a per-read timeout times the body size;
- the size cap is enforced while streaming; a declared Content-Length over it is refused
  before reading; compression is neither asked for nor undone (no gzip bombs).

Only the standard library is used, to keep the Lambda image small and the behaviour visible.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit

from inference.addresses import IPAddress, blocked_reason
from inference.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    UpstreamError,
    UpstreamTimeout,
)

DEFAULT_DEADLINE_S = 10.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 3
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
USER_AGENT = "cervical-fracture-lambda/1.0"
READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchedImage:
    """The body of a successful fetch and where it finally came from."""

    body: bytes
    content_type: str
    final_url: str
    redirects: int


def redact(url: str) -> str:
    """scheme://host/path of `url`: what may be logged (no query, fragment or credentials)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable url>"
    return f"{parts.scheme}://{host}{port}{parts.path}"


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect, and what to say in the request."""

    scheme: str
    host: str
    port: int
    path: str  # path + query, as sent in the request line


def parse_http_url(url: str) -> Target:
    """Split an http(s) URL, refusing other schemes, credentials and malformed hosts (400)."""
    if not isinstance(url, str) or not url.strip():
        raise BadRequest('"url" must be a non-empty string.', code="invalid_url")
    if len(url) > 2048:
        raise BadRequest("The URL is longer than 2048 characters.", code="invalid_url")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise BadRequest("The URL contains spaces or control characters.", code="invalid_url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadRequest("The URL is malformed.", code="invalid_url") from exc
    scheme = parts.scheme.lower()
    if scheme == "s3":  # only reachable through a redirect: s3 URLs never come here first
        raise BadRequest("A redirect to an s3:// URL is not followed.", code="invalid_url")
    if scheme not in ("http", "https"):
        raise BadRequest(
            f"Only http, https and s3 URLs are accepted, not {scheme or 'a URL without scheme'}.",
            code="unsupported_url_scheme",
        )
    if parts.username is not None or parts.password is not None:
        raise BadRequest("URLs with credentials are not accepted.", code="invalid_url")
    host = parts.hostname
    if not host:
        raise BadRequest("The URL has no host.", code="invalid_url")
    if "%" in host:
        raise BadRequest("IPv6 zone identifiers are not accepted.", code="invalid_url")
    try:
        host = host.encode("idna").decode("ascii")  # internationalised names, as DNS spells them
    except UnicodeError as exc:
        raise BadRequest("The URL's host name is not valid.", code="invalid_url") from exc
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    # Percent-encode non-ASCII only; every ASCII character is sent as the caller wrote it.
    path = "".join(c if ord(c) < 128 else quote(c) for c in path)
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def resolve(host: str, port: int, timeout: float) -> list[IPAddress]:
    """All addresses of `host`, with a timeout (getaddrinfo has none of its own)."""
    result: dict[str, object] = {}

    def lookup() -> None:
        try:
            result["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            result["error"] = exc

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(max(timeout, 0.0))
    if worker.is_alive():
        raise UpstreamTimeout(f"Resolving {host} took too long.", code="upstream_timeout")
    if "error" in result:
        raise UpstreamError(f"The host {host} could not be resolved.", code="dns_failure")
    addresses = []
    for _family, _type, _proto, _name, sockaddr in result["infos"]:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UpstreamError(f"The host {host} has no address.", code="dns_failure")
    return addresses


def checked_addresses(
    target: Target,
    allow_private: bool,
    deadline: float,
    trusted: frozenset[IPAddress] = frozenset(),
) -> list[IPAddress]:
    """The host's addresses, refused (403) when any of them is neither public nor trusted."""
    addresses = resolve(target.host, target.port, deadline - time.monotonic())
    if not allow_private:
        for address in addresses:
            reason = None if address in trusted else blocked_reason(address)
            if reason:
                raise Forbidden(
                    f"The URL's host resolves to a {reason}; only public addresses are fetched.",
                    code="url_not_allowed",
                )
    return addresses


class Deadline:
    """One clock for a whole fetch; a watchdog closes the socket when it runs out.

    Per-operation socket timeouts alone do not bound a fetch: a server sending one byte
    every second never trips a 1-second read timeout. The watchdog does.
    """

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds
        self.seconds = seconds
        self._timer: threading.Timer | None = None

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise UpstreamTimeout(
                f"Fetching the image took longer than {self.seconds:g} s.",
                code="upstream_timeout",
            )
        return left

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def guard(self, sock: socket.socket) -> None:
        self.cancel()

        def abort() -> None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        self._timer = threading.Timer(max(self.at - time.monotonic(), 0.0), abort)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


@lru_cache(maxsize=4)
def _tls_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    # Loading the CA bundle costs milliseconds: once per process (per SSL_CERT_* setting).
    return ssl.create_default_context()


def tls_context() -> ssl.SSLContext:
    """The verifying client context (system CAs, or SSL_CERT_FILE / SSL_CERT_DIR when set)."""
    return _tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


def connect(target: Target, addresses: list[IPAddress], deadline: Deadline) -> socket.socket:
    """A socket to the first reachable checked address (TLS verified against the host name)."""
    last_error: OSError | None = None
    for address in addresses:
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            # connect() to the numeric address itself: nothing is resolved a second time.
            sock.settimeout(deadline.remaining())
            sock.connect((str(address), target.port))
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        deadline.guard(sock)
        if target.scheme == "https":
            try:
                sock.settimeout(deadline.remaining())
                sock = tls_context().wrap_socket(sock, server_hostname=target.host)
            except TimeoutError:
                sock.close()
                raise
            except (ssl.SSLError, ssl.CertificateError, OSError) as exc:
                sock.close()
                raise UpstreamError(
                    f"The TLS handshake with {target.host} failed.", code="upstream_tls_error"
                ) from exc
            deadline.guard(sock)
        return sock
    if deadline.expired() or isinstance(last_error, TimeoutError):
        raise UpstreamTimeout(
            f"Connecting to {target.host} timed out.", code="upstream_timeout"
        ) from last_error
    raise UpstreamError(f"Could not connect to {target.host}.", code="upstream_unreachable")


def host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def read_body(
    response: http.client.HTTPResponse, sock: socket.socket, deadline: Deadline, max_bytes: int
) -> bytes:
    """The response body, streamed under the deadline and the size cap."""
    declared = response.getheader("Content-Length")
    if declared is not None:
        try:
            declared_size = int(declared)
        except ValueError:
            declared_size = -1
        if declared_size > max_bytes:
            raise PayloadTooLarge(
                f"The image is {declared_size:,} bytes; the limit is {max_bytes:,} bytes.",
                code="image_too_large",
            )
    chunks: list[bytes] = []
    received = 0
    while not response.isclosed():  # Python 3.13 closes it as soon as the body is complete
        sock.settimeout(deadline.remaining())
        chunk = response.read1(READ_CHUNK)
        if not chunk:
            break
        received += len(chunk)
        if received > max_bytes:
            raise PayloadTooLarge(
                f"The image is larger than the limit of {max_bytes:,} bytes.",
                code="image_too_large",
            )
        chunks.append(chunk)
    if deadline.expired():  # the watchdog closed the socket mid-body
        deadline.remaining()
    if declared is not None and received < declared_size:
        raise UpstreamError(
            f"The server closed the connection after {received:,} of {declared_size:,} bytes.",
            code="upstream_truncated",
        )
    return b"".join(chunks)


def request_once(
    target: Target, addresses: list[IPAddress], deadline: Deadline, max_bytes: int
) -> tuple[int, str | None, str, bytes]:
    """One GET: (status, Location, Content-Type, body). The body is read only on 200."""
    sock = connect(target, addresses, deadline)
    connection = http.client.HTTPConnection(target.host, target.port)
    connection.sock = sock  # connect to the checked address; Host stays the original name
    try:
        sock.settimeout(deadline.remaining())
        connection.putrequest("GET", target.path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", host_header(target))
        connection.putheader("User-Agent", USER_AGENT)
        connection.putheader("Accept", "image/png, image/jpeg")
        connection.putheader("Accept-Encoding", "identity")
        connection.putheader("Connection", "close")
        connection.endheaders()
        response = connection.getresponse()
        content_type = response.getheader("Content-Type", "") or ""
        location = response.getheader("Location")
        if response.status != 200:
            return response.status, location, content_type, b""
        encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise UpstreamError(
                f"The server sent a {encoding}-compressed body, which is not accepted.",
                code="upstream_compressed",
            )
        return 200, location, content_type, read_body(response, sock, deadline, max_bytes)
    finally:
        deadline.cancel()
        connection.close()
        sock.close()


def fetch_image(
    url: str,
    *,
    deadline_s: float = DEFAULT_DEADLINE_S,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_private: bool = False,
    trusted_addresses: frozenset[IPAddress] = frozenset(),
) -> FetchedImage:
    """The bytes at an http(s) URL, or a RequestError (400/403/404/413/502/504) saying why not.

    `allow_private` lifts the address check entirely (local testing); `trusted_addresses`
    exempts only the listed addresses, so a test can serve from 127.0.0.1 and still prove
    that a redirect to any other private address is refused.
    """
    deadline = Deadline(deadline_s)
    current = url
    for redirects in range(MAX_REDIRECTS + 1):
        target = parse_http_url(current)
        addresses = checked_addresses(target, allow_private, deadline.at, trusted_addresses)
        try:
            status, location, content_type, body = request_once(
                target, addresses, deadline, max_bytes
            )
        except TimeoutError as exc:
            raise UpstreamTimeout(
                f"Fetching the image took longer than {deadline_s:g} s.", code="upstream_timeout"
            ) from exc
        except (http.client.HTTPException, OSError, ValueError) as exc:
            if deadline.expired():
                raise UpstreamTimeout(
                    f"Fetching the image took longer than {deadline_s:g} s.",
                    code="upstream_timeout",
                ) from exc
            raise UpstreamError(
                f"The connection to {target.host} failed while fetching the image.",
                code="upstream_error",
            ) from exc
        if status == 200:
            return FetchedImage(body, content_type, current, redirects)
        if status in REDIRECT_STATUSES and location:
            current = urljoin(current, location.strip())
            continue
        if status in (404, 410):
            raise NotFound(
                f"The image URL answered HTTP {status}: there is no image there.",
                code="image_not_found",
            )
        raise UpstreamError(f"The image URL answered HTTP {status}.", code="upstream_http_error")
    raise UpstreamError(
        f"The image URL redirected more than {MAX_REDIRECTS} times.", code="too_many_redirects"
    )
