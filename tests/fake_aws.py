"""Fake AWS at the HTTP level: moto's server on 127.0.0.1 and boto3 clients pointed at it.

boto3 is never patched: the code under test talks real HTTP to a real (fake) service.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REGION = "us-east-1"


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on a free loopback port for the duration; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def fake_aws_client(service: str, endpoint: str):
    """A boto3 client for `service` at `endpoint`, with moto's test credentials."""
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)
