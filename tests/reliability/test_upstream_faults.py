"""Every way an image server can misbehave becomes one documented error, in bounded time.

The fetch (inference.fetch.fetch_image) is pointed at a loopback server that fails on purpose,
one fault per path (see misbehaving_server.FAULTS). Each fault must raise the RequestError
with the status and code the API documents, never anything else, and never later than the
whole-fetch deadline plus a generous slack. The same faults through the handler are in
test_handler_faults.py.
"""

from __future__ import annotations

import ipaddress
import socket
import time

import pytest

from inference import fetch as fetch_module
from inference.errors import RequestError
from inference.fetch import fetch_image
from inference.images import decode_image
from tests.reliability.upstream_contract import DNS_FAILURE, DNS_FAILURE_URL, FAULT_MATRIX

DEADLINE_S = 2.0
SLACK_S = 1.5  # scheduling noise on a busy 2-core machine; the trickle alone would take hours


def fetch(url: str, **options):
    options.setdefault("deadline_s", DEADLINE_S)
    options.setdefault("allow_private", True)  # the upstream is on loopback
    return fetch_image(url, **options)


def failure_of(url: str, **options) -> tuple[RequestError, float]:
    """The RequestError a fetch of `url` raises, and how long it took to give up."""
    started = time.monotonic()
    with pytest.raises(RequestError) as caught:
        fetch(url, **options)
    return caught.value, time.monotonic() - started


@pytest.mark.parametrize("path", FAULT_MATRIX)
def test_each_upstream_fault_becomes_its_documented_error(upstream, path):
    error, elapsed = failure_of(upstream.url(path))

    assert (error.status, error.code) == FAULT_MATRIX[path], error.message
    assert error.message and "\n" not in error.message
    assert elapsed < DEADLINE_S + SLACK_S


def test_a_trickling_server_fails_by_the_total_deadline_not_by_per_read_timeouts(upstream):
    """One byte a second never trips a read timeout; only a whole-fetch clock stops it."""
    error, elapsed = failure_of(upstream.url("/trickle"), deadline_s=DEADLINE_S)

    assert error.status == 504
    assert DEADLINE_S - 0.2 <= elapsed < DEADLINE_S + SLACK_S


def test_a_server_that_never_answers_fails_by_the_deadline(upstream):
    error, elapsed = failure_of(upstream.url("/never-answers"), deadline_s=1.0)

    assert error.status == 504
    assert 0.8 <= elapsed < 1.0 + SLACK_S


def test_a_body_streamed_past_the_size_cap_is_cut_off_while_streaming(upstream):
    error, _ = failure_of(upstream.url("/huge-streamed"), max_bytes=1024 * 1024)

    assert (error.status, error.code) == (413, "image_too_large")


def test_a_redirect_loop_stops_after_the_redirect_limit(upstream):
    before = upstream.hits["/redirect-loop"]

    failure_of(upstream.url("/redirect-loop"))

    assert upstream.hits["/redirect-loop"] - before == fetch_module.MAX_REDIRECTS + 1


def test_an_unresolvable_host_is_a_dns_failure():
    error, elapsed = failure_of(DNS_FAILURE_URL)

    assert (error.status, error.code) == DNS_FAILURE
    assert elapsed < DEADLINE_S + SLACK_S


def test_a_closed_port_is_an_unreachable_upstream():
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    error, _ = failure_of(f"http://127.0.0.1:{port}/slice.png")

    assert (error.status, error.code) == (502, "upstream_unreachable")


def test_a_valid_image_with_a_wrong_content_type_is_accepted_by_its_magic_bytes(upstream):
    fetched = fetch(upstream.url("/wrong-type.png"))

    assert fetched.content_type == "text/html"
    assert fetched.body == upstream.image
    assert decode_image(fetched.body).size == (256, 256)


def test_one_legitimate_redirect_is_followed(upstream):
    fetched = fetch(upstream.url("/redirect-to-ct"))

    assert fetched.body == upstream.image
    assert fetched.redirects == 1


# -- redirects to private addresses -----------------------------------------------------------
#
# The block on private addresses must hold for every hop, not only for the URL the caller sent.
# The test server itself is on loopback, so these tests run with the block ON and treat exactly
# one address, the test server's 127.0.0.1, as if it were public. The redirect targets are a
# canary server on 127.0.0.2 (still loopback, so nothing leaves the machine if the block
# failed), written in the encodings an attacker would use.


@pytest.fixture
def test_server_counts_as_public(monkeypatch, upstream):
    original = fetch_module.blocked_reason
    test_server = ipaddress.ip_address(upstream.host)
    monkeypatch.setattr(
        fetch_module, "blocked_reason", lambda a: None if a == test_server else original(a)
    )


def private_targets(port: int) -> list[str]:
    return [
        f"http://127.0.0.2:{port}/ct.png",
        f"http://2130706434:{port}/ct.png",  # 127.0.0.2 as one decimal number
        f"http://0x7f000002:{port}/ct.png",  # ... as hex
        f"http://127.0.2:{port}/ct.png",  # ... with an elided octet
        f"http://[::ffff:127.0.0.2]:{port}/ct.png",  # ... inside IPv6
    ]


def test_the_canary_is_reachable_when_the_block_is_lifted(upstream, canary):
    """The control: a redirect to the canary does land there when private URLs are allowed."""
    before = canary.hits["/ct.png"]

    fetch(upstream.url(f"/redirect-to?{canary.url('/ct.png')}"), allow_private=True)

    assert canary.hits["/ct.png"] == before + 1


@pytest.mark.usefixtures("test_server_counts_as_public")
def test_the_test_server_is_reachable_with_the_block_on(upstream):
    assert fetch(upstream.url("/ct.png"), allow_private=False).body == upstream.image


@pytest.mark.usefixtures("test_server_counts_as_public")
@pytest.mark.parametrize("index", range(5))
def test_a_redirect_to_a_private_address_is_refused_without_reaching_it(upstream, canary, index):
    target = private_targets(canary.port)[index]
    before = sum(canary.hits.values())

    error, _ = failure_of(upstream.url(f"/redirect-to?{target}"), allow_private=False)

    assert (error.status, error.code) == (403, "url_not_allowed"), target
    assert sum(canary.hits.values()) == before, f"{target} reached the canary"
