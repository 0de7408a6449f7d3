"""Shared fixtures for the reliability tests: the handler, misbehaving upstreams on loopback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.reliability.misbehaving_server import MisbehavingServer

ROOT = Path(__file__).resolve().parents[2]


def model_dir() -> Path:
    """Where lambda_function will load its model from (env MODEL_DIR, as in Lambda)."""
    return Path(os.environ.get("MODEL_DIR") or ROOT / "model")


@pytest.fixture(scope="session")
def handler_module():
    """lambda_function, imported once per session as Lambda's init phase imports it once."""
    if not (model_dir() / "model.json").is_file():
        pytest.skip(f"no model in {model_dir()}")
    import lambda_function

    return lambda_function


@pytest.fixture(scope="session")
def handler(handler_module):
    return handler_module.lambda_handler


@pytest.fixture
def context():
    from inference.events import LocalContext

    return LocalContext(aws_request_id="reliability-test")


@pytest.fixture
def fetch_limits(monkeypatch):
    """Handler settings for a loopback upstream: private URLs on, a 2-second fetch deadline."""
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "1")
    monkeypatch.setenv("FETCH_TIMEOUT_SECONDS", "2")


@pytest.fixture(scope="module")
def upstream():
    """The misbehaving image server on 127.0.0.1, one fault per path."""
    with MisbehavingServer() as server:
        yield server


@pytest.fixture(scope="module")
def canary():
    """A server on 127.0.0.2 that nothing may reach: its hit count must stay zero."""
    with MisbehavingServer(host="127.0.0.2") as server:
        yield server
