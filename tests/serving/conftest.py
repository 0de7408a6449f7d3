"""Fixtures for the serving tests: the handler (model loaded once), images, loopback servers.

Everything here runs with only the Lambda image's packages plus requirements/test.txt, under
ai-edge-litert and tflite-runtime alike.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inference.events import LocalContext
from tests.serving import loopback
from tests.synthetic import ct_slice, encode, photo_like

ROOT = Path(__file__).resolve().parents[2]


def model_dir() -> Path:
    return Path(os.environ.get("MODEL_DIR") or ROOT / "model")


@pytest.fixture(scope="session")
def lambda_module():
    """lambda_function, imported once: the model loads at import, as in Lambda's init."""
    if not (model_dir() / "model.json").is_file():
        pytest.skip(f"no model in {model_dir()} yet")
    import lambda_function

    return lambda_function


@pytest.fixture(scope="session")
def handler(lambda_module):
    return lambda_module.lambda_handler


@pytest.fixture
def context() -> LocalContext:
    return LocalContext(aws_request_id="test-request-0001")


@pytest.fixture(scope="session")
def ct_png() -> bytes:
    return encode(ct_slice(seed=5, size=224, fracture=True))


@pytest.fixture(scope="session")
def ct_jpeg() -> bytes:
    return encode(ct_slice(seed=6, size=256, mode="RGB"), "JPEG", quality=90)


@pytest.fixture(scope="session")
def photo_png() -> bytes:
    return encode(photo_like(seed=4))


@pytest.fixture(scope="module")
def image_server():
    """The misbehaving, connection-counting image server on 127.0.0.1."""
    server = loopback.start("127.0.0.1")
    yield server
    loopback.stop(server)


@pytest.fixture(scope="module")
def canary_server():
    """A second loopback server (127.0.0.2) that no refused URL or redirect may reach."""
    server = loopback.start("127.0.0.2")
    yield server
    loopback.stop(server)


@pytest.fixture
def private_urls(monkeypatch):
    """Let the handler fetch from loopback (ALLOW_PRIVATE_URLS=1) with a short deadline."""
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "1")
    monkeypatch.setenv("FETCH_TIMEOUT_SECONDS", "2")
