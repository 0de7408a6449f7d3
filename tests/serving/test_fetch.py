"""inference.fetch against a loopback server that counts connections and misbehaves on purpose.

The SSRF tests assert the refusal *and* that the server saw no new connection: a refused URL
must never reach the network. The deadline tests use 1-2 s deadlines so they stay short.
"""

from __future__ import annotations

import ipaddress
import socket
import time

import pytest

from inference.errors import RequestError
from inference.fetch import blocked_reason, fetch_image, redact
from inference.images import decode_image
from tests.serving.loopback import CT_PNG

LOOPBACK = frozenset({ipaddress.ip_address("127.0.0.1")})


def fetch_trusting_loopback(url: str, **kwargs):
    """Fetch with only 127.0.0.1 exempt from the address check (every other rule applies)."""
    kwargs.setdefault("deadline_s", 2.0)
    return fetch_image(url, trusted_addresses=LOOPBACK, **kwargs)


def refusal(url: str, **kwargs) -> RequestError:
    with pytest.raises(RequestError) as caught:
        fetch_trusting_loopback(url, **kwargs)
    return caught.value


def test_fetches_an_image_from_a_trusted_address(image_server):
    fetched = fetch_trusting_loopback(image_server.base + "/ct.png")
    assert fetched.body == CT_PNG
    assert fetched.redirects == 0


def test_content_type_is_not_trusted_the_bytes_are(image_server):
    fetched = fetch_trusting_loopback(image_server.base + "/mislabelled")
    assert fetched.content_type == "text/html"
    assert decode_image(fetched.body).size == (224, 224)


def test_html_is_fetched_but_refused_as_an_image(image_server):
    body = fetch_trusting_loopback(image_server.base + "/text").body
    with pytest.raises(RequestError) as caught:
        decode_image(body)
    assert caught.value.status == 415


# --- SSRF: every spelling of a private address, zero connections ---------------------------

BLOCKED_HOSTS = [
    "127.0.0.1",
    "localhost",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "0x7f.0.0.1",
    "127.0.0.2",
    "0.0.0.0",
    "0",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[0:0:0:0:0:ffff:127.0.0.1]",
    "[::]",
]


@pytest.mark.parametrize("host", BLOCKED_HOSTS)
def test_private_spellings_are_refused_without_a_connection(image_server, host):
    port = image_server.server_address[1]
    before = image_server.connections
    with pytest.raises(RequestError) as caught:
        fetch_image(f"http://{host}:{port}/ct.png", deadline_s=2)  # nothing trusted
    assert (caught.value.status, caught.value.code) == (403, "url_not_allowed")
    assert image_server.connections == before


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://10.0.0.1/x.png",
        "http://172.16.5.4/x.png",
        "http://192.168.1.1/x.png",
        "http://100.64.0.1/x.png",
        "http://224.0.0.1/x.png",
        "http://255.255.255.255/x.png",
        "http://[fe80::1]/x.png",
        "http://[ff02::1]/x.png",
        "http://[::ffff:169.254.169.254]/x.png",
        "http://[64:ff9b::a9fe:a9fe]/x.png",
        "http://[2002:a9fe:a9fe::1]/x.png",
    ],
)
def test_internal_networks_are_refused_before_connecting(url):
    start = time.monotonic()
    with pytest.raises(RequestError) as caught:
        fetch_image(url, deadline_s=5)
    assert (caught.value.status, caught.value.code) == (403, "url_not_allowed")
    assert time.monotonic() - start < 1  # refused by the check, not by a connect timeout


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/x.png",
        "gopher://127.0.0.1:70/",
        "data:image/png;base64,iVBORw0KGgo=",
        "//example.com/x.png",
        "http://user:pass@example.com/x.png",
        "http:///x.png",
        "http://exa mple.com/x.png",
        "http://[::1/x.png",
    ],
)
def test_other_schemes_and_malformed_urls_are_400(url):
    with pytest.raises(RequestError) as caught:
        fetch_image(url)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "151.101.0.133", "2606:4700:4700::1111", "2a00:1450:4001::200e"],
)
def test_public_addresses_are_allowed(address):
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "100.100.100.200",
        "198.18.0.1",
        "192.0.0.8",
        "::ffff:10.1.2.3",
        "2002:c0a8:0101::1",
        "64:ff9b::7f00:1",
        "fc00::1",
        "::",
        "::1",
    ],
)
def test_non_public_addresses_are_blocked(address):
    assert blocked_reason(ipaddress.ip_address(address)) is not None


# --- redirects ---------------------------------------------------------------------------


def test_redirects_are_followed_up_to_three(image_server):
    fetched = fetch_trusting_loopback(image_server.base + "/chain?n=3")
    assert fetched.body == CT_PNG and fetched.redirects == 3


def test_a_fourth_redirect_is_refused(image_server):
    error = refusal(image_server.base + "/chain?n=4")
    assert (error.status, error.code) == (502, "too_many_redirects")


def test_a_redirect_loop_ends(image_server):
    before = len(image_server.paths)
    assert refusal(image_server.base + "/loop").code == "too_many_redirects"
    assert len(image_server.paths) - before == 4  # the first request and three redirects


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_private_address_is_refused(image_server, canary_server, status):
    before = canary_server.connections
    target = canary_server.base + "/ct.png"
    error = refusal(f"{image_server.base}/redirect?status={status}&to={target}")
    assert (error.status, error.code) == (403, "url_not_allowed")
    assert canary_server.connections == before


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/",
        "file:///etc/passwd",
        "http://[::ffff:127.0.0.2]/",
    ],
)
def test_redirects_are_checked_like_the_first_url(image_server, target):
    assert refusal(f"{image_server.base}/redirect?to={target}").status in (400, 403)


# --- time and size limits ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/trickle", "/trickle-headers", "/hang"])
def test_the_deadline_covers_the_whole_fetch(image_server, path):
    start = time.monotonic()
    error = refusal(image_server.base + path, deadline_s=1.0)
    elapsed = time.monotonic() - start
    assert (error.status, error.code) == (504, "upstream_timeout")
    assert elapsed < 1.9, f"the 1 s deadline held only after {elapsed:.2f} s"


def test_a_declared_length_over_the_cap_is_refused_before_reading(image_server):
    error = refusal(image_server.base + "/huge-declared?size=20000000", max_bytes=10_000_000)
    assert (error.status, error.code) == (413, "image_too_large")


def test_the_cap_holds_while_streaming_without_a_length(image_server):
    error = refusal(image_server.base + "/endless", max_bytes=1_000_000)
    assert (error.status, error.code) == (413, "image_too_large")


def test_an_understated_length_reads_no_further_and_the_image_fails_to_decode(image_server):
    body = fetch_trusting_loopback(image_server.base + "/understated").body
    assert len(body) == 200
    with pytest.raises(RequestError) as caught:
        decode_image(body)
    assert caught.value.status == 400


def test_a_body_shorter_than_its_length_is_502(image_server):
    error = refusal(image_server.base + "/short")
    assert (error.status, error.code) == (502, "upstream_truncated")


def test_a_connection_reset_mid_body_is_502(image_server):
    assert refusal(image_server.base + "/reset").status == 502


def test_a_compressed_body_is_not_decompressed(image_server):
    error = refusal(image_server.base + "/gzip-bomb")
    assert (error.status, error.code) == (502, "upstream_compressed")


@pytest.mark.parametrize(("status", "expected"), [(404, 404), (410, 404), (403, 502), (500, 502)])
def test_upstream_http_errors(image_server, status, expected):
    assert refusal(f"{image_server.base}/status/{status}").status == expected


def test_an_unresolvable_host_is_502():
    with pytest.raises(RequestError) as caught:
        fetch_image("http://no-such-host.invalid/x.png")
    assert (caught.value.status, caught.value.code) == (502, "dns_failure")


def test_a_closed_port_is_502():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    assert refusal(f"http://127.0.0.1:{port}/x.png").status == 502


def test_the_address_checked_is_the_address_connected(image_server, monkeypatch):
    """DNS rebinding: a second, different answer must never be asked for or used."""
    answers = []
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        answers.append(host)
        ip = "127.0.0.1" if len(answers) == 1 else "169.254.169.254"
        return real(ip, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    port = image_server.server_address[1]
    fetched = fetch_trusting_loopback(f"http://images.example:{port}/ct.png")
    assert fetched.body == CT_PNG
    assert answers == ["images.example"]


def test_the_host_header_is_the_original_name(image_server, monkeypatch):
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, port, *a, **k: real("127.0.0.1", port, *a, **k)
    )
    port = image_server.server_address[1]
    fetch_trusting_loopback(f"http://images.example:{port}/ct.png")
    assert image_server.hosts[-1] == f"images.example:{port}"


def test_private_urls_can_be_allowed_for_local_testing(image_server):
    port = image_server.server_address[1]
    assert fetch_image(f"http://localhost:{port}/ct.png", allow_private=True).body == CT_PNG


def test_logged_urls_lose_query_fragment_and_credentials():
    assert (
        redact("https://user:pw@bucket.example.com:8443/a/b.png?X-Amz-Signature=abc#frag")
        == "https://bucket.example.com:8443/a/b.png"
    )


def test_non_ascii_urls_are_sent_percent_encoded(image_server):
    fetched = fetch_trusting_loopback(image_server.base + "/ct.png?patient=Jörg")
    assert fetched.body == CT_PNG
    assert image_server.paths[-1] == "/ct.png?patient=J%C3%B6rg"


def test_a_redirect_to_s3_is_not_followed(image_server):
    error = refusal(image_server.base + "/redirect?to=s3://bucket/key.png")
    assert (error.status, error.code) == (400, "invalid_url")


def test_ascii_urls_are_sent_exactly_as_written(image_server):
    fetch_trusting_loopback(image_server.base + "/ct.png?next=http://[::1]:80/a%20b&x=|")
    assert image_server.paths[-1] == "/ct.png?next=http://[::1]:80/a%20b&x=|"
